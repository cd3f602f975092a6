//! matmul, ndstride beside ndarray 0.17 (`.dot()`, matrixmultiply) in one run: square f32 and
//! f64 at n = 16 … 4096 and the distance shape (4096×64)·(64×4096). Throughput is in flops
//! (2·m·n·k), so criterion's "elem/s" reads as FLOP/s.
//!
//! ndarray is built with matrixmultiply's `threading` feature: by default it uses every
//! physical core; run with `MATMUL_NUM_THREADS=1` for its single-threaded default.
//! Run: `cargo bench --bench matmul` (add `-- f64_1024` to filter).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndstride::{DType, NdArray};

fn to_ndarray64(a: &NdArray) -> ndarray::Array2<f64> {
    let (r, c) = (a.shape()[0], a.shape()[1]);
    ndarray::Array2::from_shape_vec((r, c), a.to_vec::<f64>().unwrap()).unwrap()
}

fn to_ndarray32(a: &NdArray) -> ndarray::Array2<f32> {
    let (r, c) = (a.shape()[0], a.shape()[1]);
    ndarray::Array2::from_shape_vec((r, c), a.to_vec::<f32>().unwrap()).unwrap()
}

fn bench(c: &mut Criterion) {
    let [(_, isa, mr, nr), _] = ndstride::linalg::gemm_kernel_info();
    eprintln!("ndstride GEMM kernel: {isa}, f64 tile {mr}x{nr}");
    for dtype in [DType::F64, DType::F32] {
        let mut g = c.benchmark_group(format!("matmul_{dtype}"));
        for n in [16usize, 32, 64, 128, 256, 512, 1024, 2048, 4096] {
            g.sample_size(if n >= 2048 {
                10
            } else if n >= 1024 {
                20
            } else {
                50
            });
            g.throughput(Throughput::Elements(2 * (n as u64).pow(3)));
            let a = NdArray::normal(&[n, n], 0.0, 1.0, 1, dtype).unwrap();
            let b = NdArray::normal(&[n, n], 0.0, 1.0, 2, dtype).unwrap();
            g.bench_function(BenchmarkId::new("ndstride", n), |bch| {
                bch.iter(|| drop(std::hint::black_box(a.matmul(&b).unwrap())))
            });
            if dtype == DType::F64 {
                let (x, y) = (to_ndarray64(&a), to_ndarray64(&b));
                g.bench_function(BenchmarkId::new("ndarray", n), |bch| {
                    bch.iter(|| drop(std::hint::black_box(x.dot(&y))))
                });
            } else {
                let (x, y) = (to_ndarray32(&a), to_ndarray32(&b));
                g.bench_function(BenchmarkId::new("ndarray", n), |bch| {
                    bch.iter(|| drop(std::hint::black_box(x.dot(&y))))
                });
            }
        }
        // The distance matrices' product: x · xᵀ with x 4096 × 64, read transposed in place.
        let (n, d) = (4096usize, 64usize);
        g.sample_size(20);
        g.throughput(Throughput::Elements(2 * (n * n * d) as u64));
        let x = NdArray::normal(&[n, d], 0.0, 1.0, 3, dtype).unwrap();
        g.bench_function(BenchmarkId::new("ndstride x·xT", "4096x64"), |bch| {
            bch.iter(|| drop(std::hint::black_box(x.matmul(&x.t()).unwrap())))
        });
        if dtype == DType::F64 {
            let y = to_ndarray64(&x);
            g.bench_function(BenchmarkId::new("ndarray x·xT", "4096x64"), |bch| {
                bch.iter(|| drop(std::hint::black_box(y.dot(&y.t()))))
            });
        } else {
            let y = to_ndarray32(&x);
            g.bench_function(BenchmarkId::new("ndarray x·xT", "4096x64"), |bch| {
                bch.iter(|| drop(std::hint::black_box(y.dot(&y.t()))))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
