//! Elementwise ops and reductions, ndstride beside ndarray 0.17 in one run (4096×4096 f64,
//! fresh outputs as a user's `let c = &a + &b` allocates them; 64×64, 8×8, 2×2 and 1×1 for the
//! fixed cost per call, with `zeros` and `from_vec` there too). GB/s counts bytes read +
//! written. Run: `cargo bench --bench ufunc` (the small sizes alone: `-- 'ufunc_f64_(64|8|2|1)/'`).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndarray::Axis;
use ndstride::{DType, NdArray, Order};

fn bench(c: &mut Criterion) {
    for n in [4096usize, 64, 8, 2, 1] {
        let mut g = c.benchmark_group(format!("ufunc_f64_{n}"));
        g.sample_size(if n > 1000 { 20 } else { 100 });
        let a = NdArray::uniform(&[n, n], -1.0, 1.0, 1, DType::F64).unwrap();
        let b = NdArray::uniform(&[n, n], -1.0, 1.0, 2, DType::F64).unwrap();
        let x = ndarray::Array2::from_shape_vec((n, n), a.to_vec::<f64>().unwrap()).unwrap();
        let y = ndarray::Array2::from_shape_vec((n, n), b.to_vec::<f64>().unwrap()).unwrap();
        let bytes = (n * n * 8) as u64;
        let mut case =
            |name: &str, moved: u64, ours: &mut dyn FnMut(), theirs: &mut dyn FnMut()| {
                g.throughput(Throughput::Bytes(moved));
                g.bench_function(BenchmarkId::new(format!("ndstride {name}"), n), |bch| {
                    bch.iter(&mut *ours)
                });
                g.bench_function(BenchmarkId::new(format!("ndarray {name}"), n), |bch| {
                    bch.iter(&mut *theirs)
                });
            };
        case(
            "a + b",
            3 * bytes,
            &mut || drop(std::hint::black_box(&a + &b)),
            &mut || drop(std::hint::black_box(&x + &y)),
        );
        case(
            "a + b.t()",
            3 * bytes,
            &mut || drop(std::hint::black_box(&a + &b.t())),
            &mut || drop(std::hint::black_box(&x + &y.t())),
        );
        case(
            "a.t() to contiguous",
            2 * bytes,
            &mut || drop(std::hint::black_box(a.t().to_contiguous(Order::C))),
            &mut || {
                drop(std::hint::black_box(
                    x.t().as_standard_layout().into_owned(),
                ))
            },
        );
        case(
            "exp(a)",
            2 * bytes,
            &mut || drop(std::hint::black_box(a.exp().unwrap())),
            &mut || drop(std::hint::black_box(x.exp())),
        );
        case(
            "sum axis 0",
            bytes,
            &mut || drop(std::hint::black_box(a.sum_axis(0).unwrap())),
            &mut || drop(std::hint::black_box(x.sum_axis(Axis(0)))),
        );
        case(
            "sum axis 1",
            bytes,
            &mut || drop(std::hint::black_box(a.sum_axis(1).unwrap())),
            &mut || drop(std::hint::black_box(x.sum_axis(Axis(1)))),
        );
        if n <= 64 {
            case(
                "zeros",
                bytes,
                &mut || {
                    drop(std::hint::black_box(
                        NdArray::zeros(&[n, n], DType::F64).unwrap(),
                    ))
                },
                &mut || drop(std::hint::black_box(ndarray::Array2::<f64>::zeros((n, n)))),
            );
            // Both adopt a Vec (cloned each time, the same cost on both sides).
            let v = a.to_vec::<f64>().unwrap();
            case(
                "from_vec",
                bytes,
                &mut || {
                    let v = std::hint::black_box(v.clone());
                    drop(std::hint::black_box(NdArray::from_vec(v, &[n, n]).unwrap()))
                },
                &mut || {
                    let v = std::hint::black_box(v.clone());
                    drop(std::hint::black_box(
                        ndarray::Array2::from_shape_vec((n, n), v).unwrap(),
                    ))
                },
            );
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
