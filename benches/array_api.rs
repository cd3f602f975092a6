//! The everyday array API (issue 21) at 10⁷ float64, ndstride beside ndarray 0.17 where it
//! has the operation (NumPy's figures come from `benches/numpy_array_api.py`, run in the same
//! session): sort, stable argsort, take, concatenate, where, and the ndarray round trip at
//! every size. Run: `cargo bench --bench array_api --features ndarray`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ndarray::{Array1, Axis};
use ndstride::{DType, NdArray};

const N: usize = 10_000_000;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("array_api_f64_1e7");
    g.sample_size(10);
    let a = NdArray::normal(&[N], 0.0, 1.0, 1, DType::F64).unwrap();
    let b = NdArray::normal(&[N], 0.0, 1.0, 2, DType::F64).unwrap();
    let x = Array1::from_vec(a.to_vec::<f64>().unwrap());
    let y = Array1::from_vec(b.to_vec::<f64>().unwrap());
    let idx: Vec<i64> = (0..N as u64)
        .map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as i64 % N as i64)
        .collect();
    let idx_nd = NdArray::from_vec(idx.clone(), &[N]).unwrap();
    let idx_usize: Vec<usize> = idx.iter().map(|&i| i as usize).collect();
    let zero = NdArray::zeros(&[], DType::F64).unwrap();
    let cond = a.greater(&zero).unwrap();
    let cond_x: ndarray::Array1<bool> = x.mapv(|v| v > 0.0);
    let half = a.slice(ndstride::s![..N / 2]).unwrap().copy().unwrap();
    let half_x = x.slice(ndarray::s![..N / 2]).to_owned();

    g.bench_function("ndstride sort", |bch| bch.iter(|| a.sort(0).unwrap()));
    g.bench_function(
        "ndarray sort (to_vec + sort_unstable_by total_cmp)",
        |bch| {
            bch.iter(|| {
                let mut v = x.to_vec();
                v.sort_unstable_by(f64::total_cmp);
                v
            })
        },
    );
    g.bench_function("ndstride argsort (stable)", |bch| {
        bch.iter(|| a.argsort(0).unwrap())
    });
    g.bench_function("std stable sort_by of indices", |bch| {
        bch.iter(|| {
            let mut p: Vec<usize> = (0..N).collect();
            p.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
            p
        })
    });
    g.bench_function("ndstride take", |bch| {
        bch.iter(|| a.take(&idx_nd, 0).unwrap())
    });
    g.bench_function("ndarray select", |bch| {
        bch.iter(|| x.select(Axis(0), &idx_usize))
    });
    g.bench_function("ndstride concatenate 2 halves", |bch| {
        bch.iter(|| ndstride::concatenate(&[&half, &half], 0).unwrap())
    });
    g.bench_function("ndarray concatenate 2 halves", |bch| {
        bch.iter(|| ndarray::concatenate(Axis(0), &[half_x.view(), half_x.view()]).unwrap())
    });
    g.bench_function("ndstride where_", |bch| {
        bch.iter(|| ndstride::where_(&cond, &a, &b).unwrap())
    });
    g.bench_function("ndarray Zip where", |bch| {
        bch.iter(|| {
            ndarray::Zip::from(&cond_x)
                .and(&x)
                .and(&y)
                .map_collect(|&c, &p, &q| if c { p } else { q })
        })
    });
    g.bench_function("ndstride cumsum", |bch| {
        bch.iter(|| a.cumsum(Some(0)).unwrap())
    });
    g.bench_function("ndarray accumulate_axis_inplace (on a copy)", |bch| {
        bch.iter(|| {
            let mut c = x.clone();
            c.accumulate_axis_inplace(Axis(0), |&prev, cur| *cur += prev);
            c
        })
    });
    g.finish();

    // The round trip costs O(ndim): the same at 10 elements as at 10⁷.
    let mut g = c.benchmark_group("ndarray_round_trip");
    for n in [10usize, 10_000, N] {
        let src = ndarray::Array2::<f64>::zeros((n / 10, 10));
        g.bench_function(BenchmarkId::new("from_ndarray + as_ndarray", n), |bch| {
            // Making the input and freeing the output are not timed.
            bch.iter_custom(|iters| {
                let mut timed = std::time::Duration::ZERO;
                for _ in 0..iters {
                    let s = src.clone();
                    let t = std::time::Instant::now();
                    let a = NdArray::from_ndarray(s).unwrap();
                    std::hint::black_box(a.as_ndarray::<f64>().unwrap().len());
                    timed += t.elapsed();
                    drop(a);
                }
                timed
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
