//! `cdist` / `pdist` with arbitrary sizes, dtypes, layouts, metrics, parameters (including
//! invalid ones: p < 1, negative weights, wrong-length V, VI of the wrong shape), strategies
//! and values (NaN, ±inf, zeros). Properties: never a panic; an `Ok` has the right shape; the
//! condensed pdist agrees with the upper triangle of cdist(x, x) (except for the data-derived
//! seuclidean/mahalanobis defaults, which SciPy takes from different data in the two); the
//! matrix by blocks under any memory budget equals it; knn, radius and argmin never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndstride::distance::{
    CdistOptions, METRIC_NAMES, Metric, Strategy, argmin_min, cdist_chunked, cdist_with, knn_with,
    pdist_with, radius_count,
};
use ndstride::{DType, NdArray};

fn value(b: u8) -> f64 {
    match b {
        250 => f64::NAN,
        251 => f64::INFINITY,
        252 => f64::NEG_INFINITY,
        253 => 1e300,
        _ => (b as f64 - 100.0) / 8.0,
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (n, m, d) = (
        data[0] as usize % 12,
        data[1] as usize % 12,
        data[2] as usize % 10,
    );
    let dtype = [DType::F64, DType::F32, DType::I16, DType::U8, DType::Bool][data[3] as usize % 5];
    let name = METRIC_NAMES[data[4] as usize % METRIC_NAMES.len()];
    let strategy =
        [Strategy::Simd, Strategy::MatmulTrick, Strategy::Broadcast][data[5] as usize % 3];
    let layout = data[6] % 3;
    let param = data[7];
    let vals: Vec<f64> = data[8..]
        .iter()
        .map(|&b| value(b))
        .cycle()
        .take((n + m) * d)
        .collect();
    if vals.len() < (n + m) * d {
        return;
    }
    let make = |rows: usize, v: &[f64]| -> NdArray {
        let a = NdArray::from_vec(v.to_vec(), &[rows, d])
            .unwrap()
            .astype(dtype)
            .unwrap();
        match layout {
            0 => a,
            1 => a.t().copy().unwrap().t(), // Fortran order
            _ => a.flip(0).unwrap().copy().unwrap().flip(0).unwrap(), // negative strides
        }
    };
    let xa = make(n, &vals[..n * d]);
    let xb = make(m, &vals[n * d..]);
    let p = param as f64 / 32.0; // 0 .. 8: below 1 must be an error
    let k = (param % 4) as usize;
    let metric = match name {
        "minkowski" if param.is_multiple_of(2) => Metric::minkowski(p),
        "minkowski" => Metric::weighted_minkowski(
            p,
            (0..d + k % 2)
                .map(|i| value(data[i % data.len()]))
                .collect(),
        ),
        "seuclidean" if param.is_multiple_of(2) => Metric::seuclidean(
            (0..d + k % 2)
                .map(|i| value(data[i % data.len()]))
                .collect(),
        ),
        "mahalanobis" if param.is_multiple_of(2) => Metric::mahalanobis(
            (0..d * d + k % 2)
                .map(|i| value(data[i % data.len()]))
                .collect(),
        ),
        _ => name.parse().unwrap(),
    };
    let opts = CdistOptions::new().strategy(strategy).memory_limit(1 << 16);
    if let Ok(out) = cdist_with(&xa, &xb, &metric, &opts) {
        assert_eq!(out.shape(), &[n, m]);
    }
    // SciPy's data-derived defaults differ on purpose: pdist(x) takes the variance (or
    // covariance) of x, cdist(x, x) that of x stacked on itself.
    let derived = matches!(
        metric,
        Metric::SEuclidean { v: None } | Metric::Mahalanobis { vi: None }
    );
    let cond = pdist_with(&xa, &metric, &opts);
    let full = cdist_with(&xa, &xa, &metric, &opts);
    match (cond, full) {
        (Ok(c), Ok(f)) => {
            assert_eq!(c.shape(), &[n * n.saturating_sub(1) / 2]);
            let (c, f) = (c.to_vec_f64().unwrap(), f.to_vec_f64().unwrap());
            let mut idx = 0;
            for i in 0..n {
                for j in i + 1..n {
                    let (a, b) = (c[idx], f[i * n + j]);
                    let ok = a == b
                        || (a.is_nan() && b.is_nan())
                        || (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0);
                    // The matmul trick's cdist(x, x) and pdist(x) run the same GEMM; allow its
                    // rounding only.
                    assert!(
                        ok || derived || strategy == Strategy::MatmulTrick,
                        "{metric} {strategy}: pdist {a} vs cdist {b} at ({i},{j})"
                    );
                    idx += 1;
                }
            }
        }
        (Err(_), Err(_)) => {}
        _ if derived => {} // e.g. enough rows for the stacked covariance, not for x's own
        (c, f) => panic!(
            "pdist and cdist(x, x) disagree on failing: {:?} vs {:?}",
            c.err(),
            f.err()
        ),
    }
    // The block drivers (any budget, including ones too small for a row) and the fused
    // reductions: never a panic; blocks put together are cdist's matrix.
    let budget = param as usize * 37;
    let mut got = vec![];
    let chunked = cdist_chunked::<f64, _>(
        &xa,
        &xb,
        &metric,
        &opts.clone().working_memory(budget),
        |_, b| {
            got.extend(b.to_vec()?);
            Ok(())
        },
    );
    if let (Ok(()), Ok(full)) = (chunked, cdist_with(&xa, &xb, &metric, &opts)) {
        for (a, b) in got.iter().zip(full.to_vec_f64().unwrap()) {
            assert!(
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                "{metric} {strategy}: block {a} vs cdist {b}"
            );
        }
    }
    if let Ok(nn) = knn_with(&xa, &xb, k + 1, &metric, &opts) {
        assert_eq!(nn.indices.shape(), &[n, k + 1]);
        // Each row's k + 1 distances are the smallest of cdist's row, nearest first (NaN
        // last), and each index names a row at that distance.
        if let (Ok(full), false) = (
            cdist_with(&xa, &xb, &metric, &opts),
            strategy == Strategy::MatmulTrick,
        ) {
            // float32 inputs are computed in float32, whose last step (e.g. the square root)
            // knn takes in float64.
            let tol = if dtype == DType::F32 { 1e-6 } else { 1e-9 };
            let (full, got, idx) = (
                full.to_vec_f64().unwrap(),
                nn.distances.to_vec_f64().unwrap(),
                nn.indices.to_vec::<i64>().unwrap(),
            );
            let near = |a: f64, b: f64| {
                a == b
                    || (a.is_nan() && b.is_nan())
                    || (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
            };
            for i in 0..n {
                let mut row = full[i * m..(i + 1) * m].to_vec();
                row.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
                    (false, false) => a.partial_cmp(b).unwrap(),
                    (x, y) => x.cmp(&y),
                });
                for j in 0..=k {
                    let (d, want, at) = (got[i * (k + 1) + j], row[j], idx[i * (k + 1) + j]);
                    assert!(
                        near(d, want),
                        "{metric} {strategy}: knn row {i} #{j} is {d}, cdist's is {want}"
                    );
                    assert!(
                        (0..m as i64).contains(&at) && near(full[i * m + at as usize], d),
                        "{metric}: knn index {at} at distance {d}"
                    );
                }
            }
        }
    }
    if let Ok(c) = radius_count(&xa, &xb, p, (&metric, &opts)) {
        assert_eq!(c.shape(), &[n]);
    }
    let _ = argmin_min(&xa, &xb, (&metric, &opts));
});
