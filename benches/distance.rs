//! Distance matrices: the issue-5 shapes for the `Simd` kernels (cityblock, sqeuclidean,
//! euclidean at d = 3) and the `MatmulTrick`, pdist beside cdist, and every metric at
//! 2048 × 2048 × 64 (and its pdist). Throughput is n·m·d (or pairs·d for pdist), so criterion's "elem/s"
//! reads as pair-dims/s. The Python peers (SciPy, scikit-learn, Numba, dask) are timed by
//! `../shared/peers/python_anchors.py cdist` and `benches/scipy_metrics.py` in the same session.
//! `knn_` (k = 10, 30000 × 64 float32 against itself; throughput in pairs) is the peer of
//! `../shared/peers/knn_anchors.py` (scikit-learn brute force, faiss `IndexFlatL2`).
//! `chunked_` times the same matrix in memory and by blocks under a budget (the consumer a
//! no-op, or a `.npy` file in `target/`, flushed to disk each time).
//! Run: `cargo bench --bench distance` (add `-- cdist_4096` to filter).

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndstride::distance::{
    CdistOptions, Metric, Strategy, cdist_chunked, cdist_to_npy, cdist_with, knn_with, pdist_with,
};
use ndstride::{DType, NdArray};

fn bench(c: &mut Criterion) {
    let [(_, isa, mr, nr), (_, _, _, nr32)] = ndstride::distance::kernel_info();
    eprintln!("ndstride distance kernels: {isa}, tile {mr}x{nr} (f64), {mr}x{nr32} (f32)");
    let shapes = [
        (4096usize, 4096usize, 3usize),
        (4096, 4096, 64),
        (4096, 4096, 512),
        (16384, 16384, 32),
    ];
    for (n, m, d) in shapes {
        for dtype in [DType::F64, DType::F32] {
            let mut g = c.benchmark_group(format!("cdist_{n}x{m}x{d}_{dtype}"));
            g.sample_size(10);
            g.warm_up_time(Duration::from_secs(1));
            g.measurement_time(Duration::from_secs(3));
            g.throughput(Throughput::Elements((n * m * d) as u64));
            let x = NdArray::normal(&[n, d], 0.0, 1.0, 1, dtype).unwrap();
            let y = NdArray::normal(&[m, d], 0.0, 1.0, 2, dtype).unwrap();
            let mut cases = vec![
                ("cityblock", Metric::Cityblock, Strategy::Simd),
                ("sqeuclidean", Metric::SqEuclidean, Strategy::Simd),
                ("euclidean", Metric::Euclidean, Strategy::Simd),
            ];
            if d == 64 || d == 512 {
                cases.push(("euclidean_matmul", Metric::Euclidean, Strategy::MatmulTrick));
            }
            if n == 4096 && d == 64 {
                cases.push(("chebyshev", Metric::Chebyshev, Strategy::Simd));
                cases.push(("cosine", Metric::Cosine, Strategy::Simd));
            }
            for (name, metric, strategy) in cases {
                let opts = CdistOptions::new().strategy(strategy);
                g.bench_function(BenchmarkId::new(name, d), |b| {
                    b.iter(|| {
                        drop(std::hint::black_box(
                            cdist_with(&x, &y, &metric, &opts).unwrap(),
                        ))
                    })
                });
            }
            if n == 4096 && d == 64 {
                // The same pairs once each: pdist's throughput counts the n(n-1)/2 pairs.
                g.throughput(Throughput::Elements((n * (n - 1) / 2 * d) as u64));
                for (name, metric) in [
                    ("pdist_cityblock", Metric::Cityblock),
                    ("pdist_sqeuclidean", Metric::SqEuclidean),
                ] {
                    g.bench_function(BenchmarkId::new(name, d), |b| {
                        b.iter(|| {
                            drop(std::hint::black_box(
                                pdist_with(&x, &metric, &CdistOptions::new()).unwrap(),
                            ))
                        })
                    });
                }
            }
            g.finish();
        }
    }

    // Every metric at 2048 × 2048 × 64, float64 (boolean metrics on bool data), for the
    // "every metric >= 5x SciPy" comparison with benches/scipy_metrics.py.
    let (n, d) = (2048usize, 64usize);
    let x = NdArray::normal(&[n, d], 0.0, 1.0, 1, DType::F64).unwrap();
    let y = NdArray::normal(&[n, d], 0.0, 1.0, 2, DType::F64).unwrap();
    let (px, py) = (x.abs().unwrap(), y.abs().unwrap());
    let zero = NdArray::zeros(&[], DType::F64).unwrap();
    let (bx, by) = (x.greater(&zero).unwrap(), y.greater(&zero).unwrap());
    // Minkowski's other exponents: an even power-sum kernel (p = 4, 8), the vectorised power
    // (p = 3.5, 12), and weights (rows scaled by w^(1/p)); Bray–Curtis on its usual data,
    // nonnegative (|x|): cityblock over the rows' sums.
    let w: Vec<f64> = (0..d).map(|k| 0.5 + (k % 3) as f64).collect();
    let mut cases: Vec<(String, Metric, &NdArray, &NdArray)> = Vec::new();
    for name in ndstride::distance::METRIC_NAMES {
        let metric: Metric = match name {
            "minkowski" => Metric::minkowski(3.0),
            _ => name.parse().unwrap(),
        };
        let (a, b) = if metric.is_boolean() {
            (&bx, &by)
        } else if name == "jensenshannon" {
            (&px, &py)
        } else {
            (&x, &y)
        };
        cases.push((name.to_string(), metric, a, b));
    }
    for (label, metric) in [
        ("minkowski_p4", Metric::minkowski(4.0)),
        ("minkowski_p8", Metric::minkowski(8.0)),
        ("minkowski_p3.5", Metric::minkowski(3.5)),
        ("minkowski_p12", Metric::minkowski(12.0)),
        (
            "minkowski_p3_weighted",
            Metric::weighted_minkowski(3.0, w.clone()),
        ),
    ] {
        cases.push((label.to_string(), metric, &x, &y));
    }
    cases.push((
        "braycurtis_nonnegative".to_string(),
        Metric::BrayCurtis,
        &px,
        &py,
    ));
    let mut g = c.benchmark_group("metrics_2048x2048x64_f64");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements((n * n * d) as u64));
    for (name, metric, a, b) in &cases {
        g.bench_function(name.as_str(), |bch| {
            bch.iter(|| {
                drop(std::hint::black_box(
                    cdist_with(a, b, metric, &CdistOptions::new()).unwrap(),
                ))
            })
        });
    }
    g.finish();
    // pdist of the same XA, each pair once: throughput n(n−1)/2·d, so pdist's ~2× over cdist
    // (issue 23, goal 5) reads as the same pair-dims/s as the group above.
    let mut g = c.benchmark_group("pdist_2048x64_f64");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements((n * (n - 1) / 2 * d) as u64));
    for (name, metric, a, _) in &cases {
        g.bench_function(name.as_str(), |bch| {
            bch.iter(|| {
                drop(std::hint::black_box(
                    pdist_with(a, metric, &CdistOptions::new()).unwrap(),
                ))
            })
        });
    }
    g.finish();

    let (n, d) = (30000usize, 64usize);
    let x = NdArray::normal(&[n, d], 0.0, 1.0, 3, DType::F32).unwrap();
    let mut g = c.benchmark_group("knn_30000x64_f32_k10");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(12));
    g.throughput(Throughput::Elements((n * n) as u64));
    for (name, strategy) in [
        ("euclidean", Strategy::Simd),
        ("sqeuclidean", Strategy::Simd),
        ("cityblock", Strategy::Simd),
        ("euclidean matmul", Strategy::MatmulTrick),
    ] {
        let metric: Metric = name.split(' ').next().unwrap().parse().unwrap();
        let opts = CdistOptions::new().strategy(strategy);
        g.bench_function(name, |b| {
            b.iter(|| {
                drop(std::hint::black_box(
                    knn_with(&x, &x, 10, &metric, &opts).unwrap(),
                ))
            })
        });
    }
    g.finish();

    // 8000 × 8000 float64 (512 MB) euclidean at d = 64: one allocation of the whole matrix,
    // against two 64 MiB blocks handed to a consumer that does nothing, and to a file.
    let (n, d) = (8000usize, 64usize);
    let x = NdArray::normal(&[n, d], 0.0, 1.0, 4, DType::F64).unwrap();
    let mut g = c.benchmark_group("chunked_8000x64_f64");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements((n * n) as u64));
    let opts = CdistOptions::new().working_memory(256 << 20);
    let metric = Metric::Euclidean;
    g.bench_function("in memory", |b| {
        b.iter(|| {
            drop(std::hint::black_box(
                cdist_with(&x, &x, &metric, &opts).unwrap(),
            ))
        })
    });
    g.bench_function("blocks to a no-op", |b| {
        b.iter(|| {
            cdist_chunked::<f64, _>(&x, &x, &metric, &opts, |_, block| {
                std::hint::black_box(block);
                Ok(())
            })
            .unwrap()
        })
    });
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench_chunked.npy");
    g.bench_function("blocks to a .npy file", |b| {
        b.iter(|| cdist_to_npy(&x, &x, &metric, &opts, &path).unwrap())
    });
    let _ = std::fs::remove_file(&path);
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
