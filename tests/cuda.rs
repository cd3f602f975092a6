//! The CUDA back end. Without a GPU: every kernel in `kernels/` compiles with NVRTC for
//! sm_80 and sm_90 (CI installs NVRTC and sets `NDSTRIDE_REQUIRE_NVRTC=1`, so a kernel that
//! does not compile fails it), and every CUDA entry point returns a clear error when no
//! driver is present. With a GPU: every metric against the CPU back end, on random shapes
//! that are not multiples of the tiles, strided inputs and device arrays. Tests that need
//! what is missing say SKIPPED.
#![cfg(feature = "cuda")]

use ndstride::device::Device;
use ndstride::distance::{
    Backend, CdistOptions, METRIC_NAMES, Metric, Strategy, cdist_with, knn_with, pdist_with,
};
use ndstride::distance::{compile_kernel, compile_kernels};
use ndstride::{DType, Error, NdArray, s};

fn gpu() -> Option<Device> {
    match Device::new(0) {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!("SKIPPED: no GPU here ({e})");
            None
        }
    }
}

#[test]
fn every_kernel_compiles_for_sm80_and_sm90() {
    for cc in [(8, 0), (9, 0)] {
        match compile_kernels(cc) {
            Ok(bytes) => assert!(bytes > 10_000, "PTX of {bytes} bytes"),
            Err(e)
                if e.to_string().contains("could not be loaded")
                    && std::env::var_os("NDSTRIDE_REQUIRE_NVRTC").is_none() =>
            {
                eprintln!("SKIPPED: {e}");
                return;
            }
            Err(e) => panic!("{e}"),
        }
        // One kernel at a time, as a process compiles them when first used.
        for name in [
            "cdist_f32_f32_cityblock",
            "cdist_f64_f32_braycurtis",
            "pack_f64_f32",
            "prep_f32_f64",
        ] {
            let bytes = compile_kernel(cc, name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(bytes > 1000, "{name}: PTX of {bytes} bytes");
        }
        assert!(compile_kernel(cc, "cdist_f16_f16_dot").is_err());
    }
}

#[test]
fn without_a_driver_every_entry_point_says_so() {
    if Device::is_available() {
        eprintln!("SKIPPED: a GPU is present");
        return;
    }
    let e = Device::new(0).unwrap_err();
    assert!(matches!(e, Error::Cuda(_)), "{e}");
    assert!(e.to_string().starts_with("CUDA: "), "{e}");
    let x = NdArray::zeros(&[3, 2], DType::F32).unwrap();
    let cuda = CdistOptions::new().backend(Backend::Cuda);
    let e = cdist_with(&x, &x, &Metric::Euclidean, &cuda).unwrap_err();
    assert!(e.to_string().contains("CUDA"), "{e}");
    assert!(pdist_with(&x, &Metric::Euclidean, &cuda).is_err());
    let e = knn_with(&x, &x, 2, &Metric::Cityblock, &cuda).unwrap_err();
    assert!(e.to_string().contains("CUDA"), "{e}");
    // Auto falls back to the CPU.
    let auto_knn = knn_with(
        &x,
        &x,
        2,
        &Metric::Cityblock,
        &CdistOptions::new().backend(Backend::Auto),
    );
    assert_eq!(auto_knn.unwrap().indices.shape(), &[3, 2]);
    let auto = CdistOptions::new().backend(Backend::Auto);
    assert_eq!(
        cdist_with(&x, &x, &Metric::Euclidean, &auto)
            .unwrap()
            .shape(),
        &[3, 3]
    );
}

/// Every metric on the GPU against the CPU back end: shapes that are not multiples of the
/// 128 × 128 (float32) or 64 × 64 (float64) tiles, nor of the 8-feature steps; float32 and
/// float64 inputs and outputs; a transposed and a reversed input.
#[test]
fn every_metric_matches_the_cpu() {
    let Some(_) = gpu() else { return };
    // Every metric by name: one added without a GPU kernel fails here.
    let names = METRIC_NAMES;
    for (n, m, d) in [(1, 1, 1), (130, 67, 13), (257, 300, 64), (64, 129, 9)] {
        for dtype in [DType::F32, DType::F64] {
            let xa = NdArray::uniform(&[n, d], -1.0, 1.0, 1, dtype).unwrap();
            let xb = NdArray::uniform(&[d, m], -1.0, 1.0, 2, dtype).unwrap().t(); // F-order
            let xb = if m > 1 { xb.flip(0).unwrap() } else { xb };
            let mut metrics: Vec<Metric> = names.iter().map(|s| s.parse().unwrap()).collect();
            metrics.push(Metric::minkowski(3.0));
            metrics.push(Metric::minkowski(1.0));
            metrics.push(Metric::weighted_minkowski(
                2.0,
                (0..d).map(|i| i as f64 / 3.0).collect(),
            ));
            for metric in &metrics {
                if (n + m <= d + 1) && matches!(metric, Metric::Mahalanobis { .. }) {
                    continue; // singular covariance: not a GPU question
                }
                let cpu = cdist_with(&xa, &xb, metric, &CdistOptions::new()).unwrap();
                let gpu = cdist_with(
                    &xa,
                    &xb,
                    metric,
                    &CdistOptions::new().backend(Backend::Cuda),
                )
                .unwrap_or_else(|e| panic!("{metric}: {e}"));
                let (c, g) = (cpu.to_vec_f64().unwrap(), gpu.to_vec_f64().unwrap());
                let tol = if dtype == DType::F32 { 2e-5 } else { 1e-12 } * (d as f64 + 2.0);
                for (k, (a, b)) in c.iter().zip(&g).enumerate() {
                    assert!(
                        a == b
                            || (a - b).abs() <= tol * a.abs().max(1.0)
                            || (a.is_nan() && b.is_nan()),
                        "{metric} {dtype} {n}x{m}x{d} at {k}: cpu {a}, gpu {b}"
                    );
                }
            }
        }
    }
}

/// A device memory budget smaller than the problem: the output streams through the device
/// in blocks of rows (B resident) or of rows and columns (B in blocks too), on two streams,
/// and equals the one-launch result; a budget too small for one row is a clear error.
#[test]
fn streamed_blocks_match_the_one_launch_result() {
    let Some(_) = gpu() else { return };
    let (n, m, d) = (1000, 700, 20);
    let xa = NdArray::uniform(&[n, d], -1.0, 1.0, 11, DType::F32).unwrap();
    let xb = NdArray::uniform(&[m, d], -1.0, 1.0, 12, DType::F32).unwrap();
    let cuda = CdistOptions::new().backend(Backend::Cuda);
    for name in ["cityblock", "euclidean", "cosine", "jaccard"] {
        let metric: Metric = name.parse().unwrap();
        let whole = cdist_with(&xa, &xb, &metric, &cuda).unwrap();
        // B (700 rows × 84 bytes = 59 kB) resident, blocks of rows; then B in column blocks.
        for budget in [1 << 20, 64 << 10] {
            let blocked = cdist_with(&xa, &xb, &metric, &cuda.clone().device_memory(budget))
                .unwrap_or_else(|e| panic!("{metric} in {budget} bytes: {e}"));
            assert_eq!(
                whole.to_vec::<f32>().unwrap(),
                blocked.to_vec::<f32>().unwrap(),
                "{metric} in {budget} bytes"
            );
        }
    }
    let e = cdist_with(&xa, &xb, &Metric::Euclidean, &cuda.device_memory(100)).unwrap_err();
    assert!(e.to_string().contains("device memory"), "{e}");
}

/// kNN under a device memory budget smaller than B: the query rows' lists stay on the device
/// while B passes in blocks, and the result is the one-launch result, ties included; a
/// budget too small for one row is a clear error.
#[test]
fn knn_streams_b_through_a_small_budget() {
    let Some(_) = gpu() else { return };
    let (n, m, d, k) = (500, 3000, 8, 40);
    let xa = NdArray::uniform(&[n, d], 0.0, 3.0, 31, DType::F64)
        .unwrap()
        .floor()
        .unwrap();
    let xb = NdArray::uniform(&[m, d], 0.0, 3.0, 32, DType::F64)
        .unwrap()
        .floor()
        .unwrap();
    let cuda = CdistOptions::new().backend(Backend::Cuda);
    for name in ["cityblock", "sqeuclidean", "jaccard"] {
        let metric: Metric = name.parse().unwrap();
        let whole = knn_with(&xa, &xb, k, &metric, &cuda).unwrap();
        // B is 3000 × 72 bytes = 216 kB: 64 kB takes it in blocks of 448 rows.
        let blocked = knn_with(&xa, &xb, k, &metric, &cuda.clone().device_memory(64 << 10))
            .unwrap_or_else(|e| panic!("{metric}: {e}"));
        assert_eq!(
            whole.indices.to_vec::<i64>().unwrap(),
            blocked.indices.to_vec::<i64>().unwrap(),
            "{metric}"
        );
        assert_eq!(
            whole.distances.to_vec_f64().unwrap(),
            blocked.distances.to_vec_f64().unwrap(),
            "{metric}"
        );
    }
    let e = knn_with(&xa, &xb, k, &Metric::Cityblock, &cuda.device_memory(64)).unwrap_err();
    assert!(e.to_string().contains("device memory"), "{e}");
}

/// The fused kNN kernel on the GPU against the CPU search: the same distances, and indices
/// at those distances (the very same indices where both compute exactly).
#[test]
fn knn_on_the_gpu_matches_the_cpu() {
    let Some(_) = gpu() else { return };
    for (n, m, d, k) in [(300, 1000, 24, 10), (5, 70, 3, 70), (129, 65, 64, 1)] {
        for dtype in [DType::F32, DType::F64] {
            // Integers: exact distances, so ties are real and the tie rule is tested.
            let xa = NdArray::uniform(&[n, d], 0.0, 4.0, 7, DType::F64)
                .unwrap()
                .floor()
                .unwrap()
                .astype(dtype)
                .unwrap();
            let xb = NdArray::uniform(&[m, d], 0.0, 4.0, 8, DType::F64)
                .unwrap()
                .floor()
                .unwrap()
                .astype(dtype)
                .unwrap();
            for name in [
                "sqeuclidean",
                "euclidean",
                "cityblock",
                "chebyshev",
                "cosine",
                "canberra",
                "jaccard",
            ] {
                let metric: Metric = name.parse().unwrap();
                let cpu = knn_with(&xa, &xb, k, &metric, &CdistOptions::new()).unwrap();
                let gpu = knn_with(
                    &xa,
                    &xb,
                    k,
                    &metric,
                    &CdistOptions::new().backend(Backend::Cuda),
                )
                .unwrap_or_else(|e| panic!("{metric}: {e}"));
                let (ci, cd) = (
                    cpu.indices.to_vec::<i64>().unwrap(),
                    cpu.distances.to_vec_f64().unwrap(),
                );
                let (gi, gd) = (
                    gpu.indices.to_vec::<i64>().unwrap(),
                    gpu.distances.to_vec_f64().unwrap(),
                );
                let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 };
                for t in 0..n * k {
                    assert!(
                        cd[t] == gd[t] || (cd[t] - gd[t]).abs() <= tol * cd[t].abs().max(1.0),
                        "{metric} {dtype} at {t}: cpu {} gpu {}",
                        cd[t],
                        gd[t]
                    );
                    if [
                        "sqeuclidean",
                        "euclidean",
                        "cityblock",
                        "chebyshev",
                        "jaccard",
                    ]
                    .contains(&name)
                    {
                        assert_eq!(ci[t], gi[t], "{metric} {dtype} at {t}");
                    }
                }
            }
        }
    }
}

/// The matmul-trick path on the GPU (the `dot` kernel and the norms) against the exact CPU
/// distances, to the trick's rounding (the size of ‖a‖² + ‖b‖²).
#[test]
fn matmul_trick_on_the_gpu_matches_the_exact_distances() {
    let Some(_) = gpu() else { return };
    let (n, m, d) = (300, 131, 40);
    for dtype in [DType::F32, DType::F64] {
        let eps = if dtype == DType::F32 { 1e-6 } else { 1e-15 };
        let xa = NdArray::uniform(&[n, d], -1.0, 1.0, 5, dtype).unwrap();
        let xb = NdArray::uniform(&[m, d], -1.0, 1.0, 6, dtype).unwrap();
        for name in ["sqeuclidean", "euclidean"] {
            let metric: Metric = name.parse().unwrap();
            let exact = cdist_with(&xa, &xb, &metric, &CdistOptions::new()).unwrap();
            let trick = cdist_with(
                &xa,
                &xb,
                &metric,
                &CdistOptions::new()
                    .backend(Backend::Cuda)
                    .strategy(Strategy::MatmulTrick),
            )
            .unwrap_or_else(|e| panic!("{metric}: {e}"));
            let sq = |v: f64| if name == "euclidean" { v * v } else { v };
            for (a, b) in exact
                .to_vec_f64()
                .unwrap()
                .iter()
                .zip(trick.to_vec_f64().unwrap())
            {
                assert!(
                    b >= 0.0 && (sq(*a) - sq(b)).abs() <= 64.0 * eps * d as f64 * 2.0 * d as f64
                );
            }
        }
    }
}

/// A device array keeps NumPy's metadata: a transpose and a slice change only it, and the
/// distances of strided device arrays are packed on the device.
#[test]
fn device_arrays_keep_numpys_metadata() {
    let Some(dev) = gpu() else { return };
    let info = dev.info().unwrap();
    assert!(
        info.multiprocessors > 0 && info.total_memory > 0,
        "{info:?}"
    );
    let a = NdArray::arange(24, DType::F64)
        .unwrap()
        .reshape(&[4, 6])
        .unwrap();
    let da = a.to_device(&dev).unwrap();
    let t = da.t();
    assert_eq!(
        (t.shape(), t.strides()),
        (&[6usize, 4][..], &[8isize, 48][..])
    );
    assert!(t.shares_buffer(&da));
    let sl = da.slice(s![1..;2, ..;-1]).unwrap();
    assert_eq!(
        sl.to_host().unwrap().to_vec_f64().unwrap(),
        a.slice(s![1..;2, ..;-1]).unwrap().to_vec_f64().unwrap()
    );
    let want = cdist_with(&a.t(), &a.t(), &Metric::Cityblock, &CdistOptions::new()).unwrap();
    let got = ndstride::distance::cdist_device(&t, &t, &Metric::Cityblock, &CdistOptions::new())
        .unwrap()
        .to_host()
        .unwrap();
    assert_eq!(got.to_vec_f64().unwrap(), want.to_vec_f64().unwrap());
}

/// Every metric through `cdist_device` on strided device arrays (a transposed, reversed view;
/// the rows prepared on the device) against host arrays on the CUDA back end (rows prepared
/// on the host): the same arithmetic, so the same distances to rounding of the kernels.
#[test]
fn device_arrays_give_every_metric_as_host_arrays_do() {
    let Some(dev) = gpu() else { return };
    let (n, m, d) = (70, 45, 6);
    for dtype in [DType::F32, DType::F64] {
        let xa = NdArray::uniform(&[d, n], 0.0, 1.0, 21, dtype).unwrap().t();
        let xb = NdArray::uniform(&[m, d], 0.0, 1.0, 22, dtype)
            .unwrap()
            .flip(0)
            .unwrap();
        let (da, db) = (xa.to_device(&dev).unwrap(), xb.to_device(&dev).unwrap());
        let (da, db) = (da.t().t(), db.slice(s![.., ..]).unwrap());
        let mut metrics: Vec<Metric> = METRIC_NAMES
            .iter()
            .filter(|n| !matches!(**n, "seuclidean" | "mahalanobis"))
            .map(|s| s.parse().unwrap())
            .collect();
        metrics.push(Metric::seuclidean(vec![0.5, 1.0, 2.0, 1.5, 0.25, 3.0]));
        let vi = (0..d * d)
            .map(|k| if k / d == k % d { 2.0 } else { 0.1 })
            .collect();
        metrics.push(Metric::mahalanobis(vi));
        metrics.push(Metric::weighted_minkowski(
            3.0,
            vec![1.0, 0.0, 2.0, 1.0, 0.5, 1.0],
        ));
        for metric in &metrics {
            let cuda = CdistOptions::new().backend(Backend::Cuda);
            let host = cdist_with(&xa, &xb, metric, &cuda).unwrap();
            let device = ndstride::distance::cdist_device(&da, &db, metric, &CdistOptions::new())
                .unwrap_or_else(|e| panic!("{metric}: {e}"))
                .to_host()
                .unwrap();
            let tol = if dtype == DType::F32 { 1e-6 } else { 1e-14 };
            for (h, g) in host
                .to_vec_f64()
                .unwrap()
                .iter()
                .zip(device.to_vec_f64().unwrap())
            {
                assert!(
                    *h == g
                        || (h - g).abs() <= tol * h.abs().max(1.0)
                        || (h.is_nan() && g.is_nan()),
                    "{metric} {dtype}: host arrays {h}, device arrays {g}"
                );
            }
        }
    }
    // The data-derived defaults are not computed on the device: a clear error.
    let x = NdArray::zeros(&[3, 2], DType::F32)
        .unwrap()
        .to_device(&dev)
        .unwrap();
    let e = ndstride::distance::cdist_device(
        &x,
        &x,
        &"seuclidean".parse().unwrap(),
        &CdistOptions::new(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("explicitly"), "{e}");
}
