//! Every metric, every strategy, against a naive float64 reference written here from SciPy's
//! definitions (independently of the crate's kernels), over random n, m, d (including 0, 1,
//! primes and sizes just off the register tiles), dtypes and strided layouts.

use ndstride::distance::{CdistOptions, Metric, Strategy, cdist_into, cdist_with, pdist_with};
use ndstride::{DType, NdArray, s};
use proptest::prelude::*;

/// SciPy's definition of `metric` on one pair, in float64, element by element.
fn naive(metric: &Metric, u: &[f64], v: &[f64]) -> f64 {
    let d = u.len();
    let pairs = || u.iter().zip(v).map(|(&a, &b)| (a, b));
    let bools = || pairs().map(|(a, b)| (a != 0.0, b != 0.0));
    let count = |f: fn(bool, bool) -> bool| bools().filter(|&(a, b)| f(a, b)).count() as f64;
    let ntt = count(|a, b| a && b);
    let ntf = count(|a, b| a && !b);
    let nft = count(|a, b| !a && b);
    let nff = count(|a, b| !a && !b);
    match metric {
        Metric::SqEuclidean => pairs().map(|(a, b)| (a - b) * (a - b)).sum(),
        Metric::Euclidean => pairs().map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt(),
        Metric::Cityblock => pairs().map(|(a, b)| (a - b).abs()).sum(),
        Metric::Chebyshev => pairs().map(|(a, b)| (a - b).abs()).fold(0.0, f64::max),
        Metric::Minkowski { p, w } => {
            let w = |k: usize| w.as_ref().map_or(1.0, |w| w[k]);
            if p.is_infinite() {
                return pairs()
                    .enumerate()
                    .filter(|&(k, _)| w(k) > 0.0)
                    .map(|(_, (a, b))| (a - b).abs())
                    .fold(0.0, f64::max);
            }
            let s: f64 = pairs()
                .enumerate()
                .map(|(k, (a, b))| w(k) * (a - b).abs().powf(*p))
                .sum();
            s.powf(1.0 / p)
        }
        Metric::SEuclidean { v: Some(var) } => pairs()
            .zip(var)
            .map(|((a, b), s)| (a - b) * (a - b) / s)
            .sum::<f64>()
            .sqrt(),
        Metric::Cosine | Metric::Correlation => {
            let (mu, mv) = if *metric == Metric::Correlation {
                (
                    u.iter().sum::<f64>() / d as f64,
                    v.iter().sum::<f64>() / d as f64,
                )
            } else {
                (0.0, 0.0)
            };
            let dot: f64 = pairs().map(|(a, b)| (a - mu) * (b - mv)).sum();
            let nu: f64 = u.iter().map(|a| (a - mu) * (a - mu)).sum();
            let nv: f64 = v.iter().map(|b| (b - mv) * (b - mv)).sum();
            1.0 - (dot / (nu.sqrt() * nv.sqrt())).clamp(-1.0, 1.0)
        }
        Metric::Canberra => pairs()
            .map(|(a, b)| {
                let den = a.abs() + b.abs();
                if den == 0.0 { 0.0 } else { (a - b).abs() / den }
            })
            .sum(),
        Metric::BrayCurtis => {
            pairs().map(|(a, b)| (a - b).abs()).sum::<f64>()
                / pairs().map(|(a, b)| (a + b).abs()).sum::<f64>()
        }
        Metric::JensenShannon => {
            if pairs().any(|(a, b)| a < 0.0 || b < 0.0) {
                return f64::INFINITY;
            }
            let (su, sv) = (u.iter().sum::<f64>(), v.iter().sum::<f64>());
            if su == 0.0 || sv == 0.0 {
                return f64::INFINITY;
            }
            let rel = |x: f64, y: f64| if x > 0.0 { x * (x / y).ln() } else { 0.0 };
            let js: f64 = pairs()
                .map(|(a, b)| {
                    let (p, q) = (a / su, b / sv);
                    let m = (p + q) / 2.0;
                    rel(p, m) + rel(q, m)
                })
                .sum();
            (js / 2.0).sqrt()
        }
        Metric::Mahalanobis { vi: Some(vi) } => {
            let diff: Vec<f64> = pairs().map(|(a, b)| a - b).collect();
            let mut s = 0.0;
            for r in 0..d {
                for c in 0..d {
                    s += diff[r] * vi[r * d + c] * diff[c];
                }
            }
            s.sqrt()
        }
        Metric::Hamming => pairs().filter(|(a, b)| a != b).count() as f64 / d as f64,
        Metric::Jaccard => {
            if ntt + ntf + nft == 0.0 {
                0.0
            } else {
                (ntf + nft) / (ntt + ntf + nft)
            }
        }
        Metric::Dice => (ntf + nft) / (2.0 * ntt + ntf + nft),
        Metric::RogersTanimoto | Metric::SokalMichener => {
            2.0 * (ntf + nft) / (ntt + nff + 2.0 * (ntf + nft))
        }
        Metric::RussellRao => (d as f64 - ntt) / d as f64,
        Metric::SokalSneath => 2.0 * (ntf + nft) / (ntt + 2.0 * (ntf + nft)),
        Metric::Yule => {
            if ntf * nft == 0.0 {
                0.0
            } else {
                2.0 * ntf * nft / (ntt * nff + ntf * nft)
            }
        }
        Metric::Kulczynski1 => ntt / (ntf + nft),
        m => panic!("no reference for {m}"),
    }
}

fn metrics(d: usize) -> Vec<Metric> {
    let mut v: Vec<Metric> = [
        "sqeuclidean",
        "euclidean",
        "cityblock",
        "chebyshev",
        "cosine",
        "correlation",
        "canberra",
        "braycurtis",
        "jensenshannon",
        "hamming",
        "jaccard",
        "dice",
        "rogerstanimoto",
        "russellrao",
        "sokalmichener",
        "sokalsneath",
        "yule",
        "kulczynski1",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    for p in [1.0, 1.5, 2.0, 3.0, 4.0, 7.0, 9.0, f64::INFINITY] {
        v.push(Metric::minkowski(p));
        v.push(Metric::weighted_minkowski(
            p,
            (0..d).map(|k| (k % 4) as f64 * 0.5).collect(),
        ));
    }
    v.push(Metric::seuclidean(
        (0..d).map(|k| 0.5 + (k % 3) as f64).collect(),
    ));
    let vi: Vec<f64> = (0..d * d)
        .map(|k| if k / d == k % d { 2.0 } else { 0.1 })
        .collect();
    v.push(Metric::mahalanobis(vi));
    v
}

/// `rows × d` values from a small integer set (so 0/0 terms, equal components and zero rows
/// happen), in `dtype`, laid out by `layout`: 0 C, 1 Fortran, 2 reversed rows, 3 every other
/// column of a wider array.
fn operand(vals: &[i8], rows: usize, d: usize, dtype: DType, layout: u8) -> NdArray {
    let data: Vec<f64> = vals
        .iter()
        .take(rows * d)
        .map(|&v| v as f64 * 0.75)
        .collect();
    let base = NdArray::from_vec(data, &[rows, d])
        .unwrap()
        .astype(dtype)
        .unwrap();
    match layout {
        0 => base,
        1 => base.t().copy().unwrap().t(),
        2 => base.flip(0).unwrap().copy().unwrap().flip(0).unwrap(),
        _ => {
            let mut wide = NdArray::zeros(&[rows, 2 * d], dtype).unwrap();
            for (k, v) in base.to_vec_f64().unwrap().iter().enumerate() {
                let one = NdArray::full_f64(&[], *v, dtype).unwrap();
                wide.apply_within(ndstride::ufunc::BinaryOp::Add, s![k / d, 2 * (k % d)], one)
                    .unwrap();
            }
            wide.slice(s![.., ..;2]).unwrap()
        }
    }
}

fn dim() -> impl proptest::strategy::Strategy<Value = usize> {
    prop_oneof![
        0usize..=10,
        Just(23),
        Just(24),
        Just(25),
        Just(47),
        Just(49),
        11usize..40
    ]
}

fn check(metric: &Metric, got: &[f64], want: f64, k: usize, tol: f64) -> Result<(), TestCaseError> {
    let g = got[k];
    let close = match metric {
        // The divergence `2·js²` is a sum of terms `p·ln(p/m)` whose logarithms carry an
        // absolute error of about 1e-16 in any evaluation (SciPy's rounds the ratio `p/m`
        // near 1 to 1.1e-16), so the divergences of two evaluations differ by up to a few
        // 1e-16 (the probabilities sum to 1), which is a large relative difference in the
        // distance of two nearly equal rows. Compared as divergences: that absolute part,
        // plus `tol` relative.
        // A divergence within that error of 0 may round below 0 in either evaluation, and
        // its square root is then NaN (SciPy's formula does the same): such a NaN counts as
        // a divergence of 0.
        Metric::JensenShannon => {
            let divergence = |x: f64| if x.is_nan() { 0.0 } else { x * x };
            let one_nan = g.is_nan() != want.is_nan();
            let (dg, dw) = (divergence(g), divergence(want));
            (dg - dw).abs() <= 2e-15 + tol * dw && (!one_nan || dg.max(dw) <= 2e-15)
        }
        _ => (g - want).abs() <= tol * want.abs().max(1.0),
    };
    let ok = (g.is_nan() && want.is_nan()) || g == want || close;
    prop_assert!(ok, "{metric}: element {k} is {g}, reference {want}");
    Ok(())
}

/// `cdist(xa, xb)` and `pdist(xa)` for `metric`, each element against the naive reference
/// within `tol` (relative, absolute below 1), and their lengths.
fn check_cdist_and_pdist(
    metric: &Metric,
    xa: &NdArray,
    xb: &NdArray,
    tol: f64,
) -> Result<(), TestCaseError> {
    let (n, m, d) = (xa.shape()[0], xb.shape()[0], xa.shape()[1]);
    let (ra, rb) = (xa.to_vec_f64().unwrap(), xb.to_vec_f64().unwrap());
    let got = cdist_with(xa, xb, metric, &CdistOptions::new())
        .unwrap()
        .to_vec_f64()
        .unwrap();
    prop_assert_eq!(got.len(), n * m);
    for i in 0..n {
        for j in 0..m {
            let want = naive(metric, &ra[i * d..][..d], &rb[j * d..][..d]);
            check(metric, &got, want, i * m + j, tol)?;
        }
    }
    let cond = pdist_with(xa, metric, &CdistOptions::new())
        .unwrap()
        .to_vec_f64()
        .unwrap();
    prop_assert_eq!(cond.len(), n * n.saturating_sub(1) / 2);
    let mut k = 0;
    for i in 0..n {
        for j in i + 1..n {
            let want = naive(metric, &ra[i * d..][..d], &ra[j * d..][..d]);
            check(metric, &cond, want, k, tol)?;
            k += 1;
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn cdist_and_pdist_match_the_naive_reference(
        n in dim(), m in dim(), d in prop_oneof![0usize..=9, Just(16), Just(17), Just(31), Just(64), Just(65)],
        dtype in prop::sample::select(vec![DType::F64, DType::F32, DType::I32, DType::U8, DType::Bool]),
        la in 0u8..4, lb in 0u8..4,
        vals in prop::collection::vec(-3i8..=4, 49 * 65 * 2),
        which in 0usize..64,
    ) {
        let xa = operand(&vals, n, d, dtype, la);
        let xb = operand(&vals[n * d..], m, d, dtype, lb);
        let all = metrics(d);
        let metric = &all[which % all.len()];
        let f32_math = dtype == DType::F32 && !metric.is_boolean();
        let tol = if f32_math { 2e-6 * (d as f64 + 2.0) } else { 1e-12 * (d as f64 + 2.0) };
        check_cdist_and_pdist(metric, &xa, &xb, tol)?;
    }

    /// Canberra's reciprocal path and Jensen–Shannon's per-row logarithms on the data they
    /// are meant for: nonnegative (or mixed-sign, for canberra) values spread over sixty
    /// decades, with zeros, so both the fast paths and their fallbacks run; lengths around
    /// the 8-lane width and the 4-row kernel blocks.
    #[test]
    fn canberra_and_jensenshannon_fast_paths_match_the_reference(
        n in dim(), m in dim(), d in 1usize..70,
        vals in prop::collection::vec((0u32..1000, -30i32..30, 0u8..8), 49 * 70 * 2),
        signed in any::<bool>(), fortran in any::<bool>(),
    ) {
        let data: Vec<f64> = vals.iter().map(|&(mant, exp, kind)| match kind {
            0 => 0.0,
            1 if signed => -(mant as f64 + 0.5) * 10f64.powi(exp),
            _ => (mant as f64 + 0.5) * 10f64.powi(exp),
        }).collect();
        let make = |rows: usize, from: usize| {
            let a = NdArray::from_vec(data[from..from + rows * d].to_vec(), &[rows, d]).unwrap();
            if fortran { a.t().copy().unwrap().t() } else { a }
        };
        let (xa, xb) = (make(n, 0), make(m, n * d));
        for metric in [Metric::Canberra, Metric::JensenShannon] {
            check_cdist_and_pdist(&metric, &xa, &xb, 1e-13 * (d as f64 + 2.0))?;
        }
    }

    /// Minkowski at every exponent with a power-sum kernel (3 to 8), at integers past them
    /// and at fractional ones (the vectorised power), weighted or not, over values spread
    /// across twelve decades with zeros and equal components; float32 input large enough
    /// that `|t|^p` leaves float32's range (the sums are float64, as SciPy's).
    #[test]
    fn minkowski_every_exponent_matches_the_reference(
        n in dim(), m in dim(), d in prop_oneof![1usize..40, Just(64), Just(700)],
        p in prop::sample::select(vec![3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 12.0, 1.25, 2.5, 3.5, 6.75]),
        vals in prop::collection::vec((0u32..1000, -6i32..6, 0u8..8), 49 * 70 * 2),
        weighted in any::<bool>(), fortran in any::<bool>(), f32_in in any::<bool>(),
    ) {
        let (n, m) = if d > 64 { (n.min(9), m.min(9)) } else { (n, m) };
        let data: Vec<f64> = vals.iter().cycle().take((n + m) * d).map(|&(mant, exp, kind)| {
            match kind {
                0 => 0.0,
                1 => 1.0,
                2 | 3 => -(mant as f64 + 0.5) * 10f64.powi(exp),
                _ => (mant as f64 + 0.5) * 10f64.powi(exp),
            }
        }).collect();
        let dtype = if f32_in { DType::F32 } else { DType::F64 };
        let make = |rows: usize, from: usize| {
            let a = NdArray::from_vec(data[from..from + rows * d].to_vec(), &[rows, d])
                .unwrap().astype(dtype).unwrap();
            if fortran { a.t().copy().unwrap().t() } else { a }
        };
        let (xa, xb) = (make(n, 0), make(m, n * d));
        let metric = if weighted {
            Metric::weighted_minkowski(p, (0..d).map(|k| [0.0, 0.5, 1.0, 3.0][k % 4]).collect())
        } else {
            Metric::minkowski(p)
        };
        check_cdist_and_pdist(&metric, &xa, &xb, 1e-13 * (d as f64 + 2.0))?;
    }

    /// Bray–Curtis' two one-pass forms: nonnegative rows (cityblock over the rows' sums)
    /// and mixed signs (the two-sum kernel), over wide magnitudes with zeros (so 0/0 pairs
    /// happen), in float64 and float32, with feature counts past the kernels' feature chunk.
    #[test]
    fn braycurtis_both_forms_match_the_reference(
        n in dim(), m in dim(), d in prop_oneof![1usize..70, Just(700), Just(1100)],
        vals in prop::collection::vec((0u32..1000, -8i32..8, 0u8..8), 49 * 70 * 2),
        signed in any::<bool>(), fortran in any::<bool>(), f32_in in any::<bool>(),
    ) {
        let (n, m) = if d > 70 { (n.min(9), m.min(9)) } else { (n, m) };
        let data: Vec<f64> = vals.iter().cycle().take((n + m) * d).map(|&(mant, exp, kind)| {
            match kind {
                0 => 0.0,
                1 | 2 if signed => -(mant as f64 + 0.5) * 10f64.powi(exp),
                _ => (mant as f64 + 0.5) * 10f64.powi(exp),
            }
        }).collect();
        let dtype = if f32_in { DType::F32 } else { DType::F64 };
        let make = |rows: usize, from: usize| {
            let a = NdArray::from_vec(data[from..from + rows * d].to_vec(), &[rows, d])
                .unwrap().astype(dtype).unwrap();
            if fortran { a.t().copy().unwrap().t() } else { a }
        };
        let (xa, xb) = (make(n, 0), make(m, n * d));
        let (ra, rb) = (xa.to_vec_f64().unwrap(), xb.to_vec_f64().unwrap());
        let metric = Metric::BrayCurtis;
        // Mixed signs cancel in the denominator; its error is relative to Σ(|u| + |v|).
        let eps = if f32_in { 1e-6 } else { 1e-14 };
        let tol = |u: &[f64], v: &[f64]| {
            let scale: f64 = u.iter().zip(v).map(|(a, b)| a.abs() + b.abs()).sum();
            let den: f64 = u.iter().zip(v).map(|(a, b)| (a + b).abs()).sum();
            eps * (d as f64 + 2.0) * (scale / den).max(1.0)
        };
        let got = cdist_with(&xa, &xb, &metric, &CdistOptions::new()).unwrap().to_vec_f64().unwrap();
        for i in 0..n {
            for j in 0..m {
                let (u, v) = (&ra[i * d..][..d], &rb[j * d..][..d]);
                check(&metric, &got, naive(&metric, u, v), i * m + j, tol(u, v))?;
            }
        }
        let cond = pdist_with(&xa, &metric, &CdistOptions::new()).unwrap().to_vec_f64().unwrap();
        let mut k = 0;
        for i in 0..n {
            for j in i + 1..n {
                let (u, v) = (&ra[i * d..][..d], &ra[j * d..][..d]);
                check(&metric, &cond, naive(&metric, u, v), k, tol(u, v))?;
                k += 1;
            }
        }
    }

    #[test]
    fn strategies_agree_within_their_documented_error(
        n in dim(), m in dim(), d in 1usize..70,
        f32_in in any::<bool>(),
        vals in prop::collection::vec(-3i8..=4, 49 * 70 * 2),
        which in 0usize..5,
    ) {
        let dtype = if f32_in { DType::F32 } else { DType::F64 };
        let xa = operand(&vals, n, d, dtype, 0);
        let xb = operand(&vals[n * d..], m, d, dtype, 3);
        let metric: Metric = ["sqeuclidean", "euclidean", "cityblock", "chebyshev", "cosine"][which].parse().unwrap();
        let simd = cdist_with(&xa, &xb, &metric, &CdistOptions::new()).unwrap().to_vec_f64().unwrap();
        let eps = if f32_in { f32::EPSILON as f64 } else { f64::EPSILON };
        let norms: f64 = vals.iter().take((n + m) * d).map(|&v| (v as f64 * 0.75).powi(2)).sum();
        for strategy in [Strategy::Broadcast, Strategy::MatmulTrick] {
            let Ok(other) = cdist_with(&xa, &xb, &metric, &CdistOptions::new().strategy(strategy)) else {
                let refused = match strategy {
                    Strategy::MatmulTrick => matches!(metric, Metric::Cityblock | Metric::Chebyshev),
                    _ => metric == Metric::Cosine,
                };
                prop_assert!(refused, "{strategy} refused {metric}");
                continue;
            };
            let other = other.to_vec_f64().unwrap();
            for (k, (&a, &b)) in simd.iter().zip(&other).enumerate() {
                // Broadcast differs only in summation order; the trick cancels, with an error
                // of about eps·(‖x‖² + ‖y‖²) on squared distances (sqrt of that on euclidean).
                let tol = match (strategy, &metric) {
                    (Strategy::Broadcast, _) => 4.0 * eps * (d as f64 + 2.0) * a.abs().max(1.0),
                    (_, Metric::Euclidean) => (8.0 * eps * (norms + 1.0)).sqrt(),
                    _ => 8.0 * eps * (norms + 1.0) * (d as f64 + 1.0),
                };
                prop_assert!((a - b).abs() <= tol || (a.is_nan() && b.is_nan()),
                    "{metric} {strategy}: element {k}: simd {a}, {strategy} {b}, tol {tol}");
            }
        }
    }
}

#[test]
fn outputs_large_enough_to_stream_are_complete_and_exact() {
    // Outputs of 8 MiB and more are written with non-temporal stores from strips of tiles:
    // odd sizes (partial tiles, strips and cache lines at every row's end), cdist into a
    // fresh matrix and into a view starting off a cache line, pdist's condensed rows.
    let (n, m, d) = (1031, 1027, 3);
    let xa = NdArray::normal(&[n, d], 0.0, 1.0, 5, DType::F64).unwrap();
    let xb = NdArray::normal(&[m, d], 0.0, 1.0, 6, DType::F64).unwrap();
    let (ra, rb) = (xa.to_vec_f64().unwrap(), xb.to_vec_f64().unwrap());
    for metric in [Metric::Euclidean, Metric::Cityblock] {
        let tol = |want: f64| 1e-14 * want.abs().max(1.0);
        let got = cdist_with(&xa, &xb, &metric, &CdistOptions::new())
            .unwrap()
            .to_vec_f64()
            .unwrap();
        let mut wide = NdArray::full_f64(&[n, m + 2], -1.0, DType::F64).unwrap();
        {
            let mut view = wide.slice_mut::<f64>(s![.., 1..m + 1]).unwrap();
            cdist_into(&xa, &xb, &metric, &CdistOptions::new(), &mut view).unwrap();
        }
        let wide = wide.to_vec_f64().unwrap();
        for i in 0..n {
            assert_eq!([wide[i * (m + 2)], wide[i * (m + 2) + m + 1]], [-1.0, -1.0]);
            for j in 0..m {
                let want = naive(&metric, &ra[i * d..][..d], &rb[j * d..][..d]);
                for (what, g) in [
                    ("cdist", got[i * m + j]),
                    ("cdist_into", wide[i * (m + 2) + 1 + j]),
                ] {
                    assert!(
                        (g - want).abs() <= tol(want),
                        "{what} {metric} ({i},{j}): {g} vs {want}"
                    );
                }
            }
        }
        let cond = pdist_with(&xb, &metric, &CdistOptions::new())
            .unwrap()
            .to_vec_f64()
            .unwrap();
        // 1027·1026/2 float64 is 4 MiB, below the streaming threshold (1449 rows): a larger one
        // follows.
        assert_eq!(cond.len(), m * (m - 1) / 2);
        let mut k = 0;
        for i in 0..m {
            for j in i + 1..m {
                let want = naive(&metric, &rb[i * d..][..d], &rb[j * d..][..d]);
                assert!((cond[k] - want).abs() <= tol(want), "pdist ({i},{j})");
                k += 1;
            }
        }
    }
    let big = NdArray::normal(&[1501, d], 0.0, 1.0, 7, DType::F64).unwrap();
    let rows = big.to_vec_f64().unwrap();
    let cond = pdist_with(&big, &Metric::SqEuclidean, &CdistOptions::new())
        .unwrap()
        .to_vec_f64()
        .unwrap();
    assert_eq!(cond.len(), 1501 * 1500 / 2); // 8.6 MiB
    let mut k = 0;
    for i in 0..1501 {
        for j in i + 1..1501 {
            let want = naive(
                &Metric::SqEuclidean,
                &rows[i * d..][..d],
                &rows[j * d..][..d],
            );
            assert!(
                (cond[k] - want).abs() <= 1e-14 * want.max(1.0),
                "pdist ({i},{j})"
            );
            k += 1;
        }
    }
}

#[test]
fn long_feature_axis_is_chunked_exactly() {
    // d beyond the kernels' feature chunk (512 f64 / 1024 f32 on AVX-512): partial results
    // are combined across chunks.
    for (dtype, d) in [(DType::F64, 1300), (DType::F32, 2100)] {
        let xa = NdArray::normal(&[13, d], 0.0, 1.0, 3, dtype).unwrap();
        let xb = NdArray::normal(&[29, d], 0.0, 1.0, 4, dtype).unwrap();
        let (ra, rb) = (xa.to_vec_f64().unwrap(), xb.to_vec_f64().unwrap());
        for metric in [
            Metric::SqEuclidean,
            Metric::Cityblock,
            Metric::Chebyshev,
            Metric::Cosine,
        ] {
            let got = cdist_with(&xa, &xb, &metric, &CdistOptions::new())
                .unwrap()
                .to_vec_f64()
                .unwrap();
            for i in 0..13 {
                for j in 0..29 {
                    let want = naive(&metric, &ra[i * d..][..d], &rb[j * d..][..d]);
                    let g = got[i * 29 + j];
                    let tol = if dtype == DType::F32 { 1e-5 } else { 1e-12 } * want.abs().max(1.0);
                    assert!(
                        (g - want).abs() <= tol,
                        "{metric} {dtype} ({i},{j}): {g} vs {want}"
                    );
                }
            }
        }
    }
}

#[test]
fn exact_kernels_give_zero_for_identical_rows_where_the_trick_does_not() {
    // The accuracy anchor: N(0,1) + 100, d = 64, float32.
    let x = NdArray::normal(&[256, 64], 100.0, 1.0, 5, DType::F32).unwrap();
    let exact = pdist_with(&x, &Metric::SqEuclidean, &CdistOptions::new()).unwrap();
    let diag = cdist_with(&x, &x, &Metric::SqEuclidean, &CdistOptions::new())
        .unwrap()
        .to_vec_f64()
        .unwrap();
    assert!(
        (0..256).all(|i| diag[i * 257] == 0.0),
        "exact kernel: a point's distance to itself is 0"
    );
    let trick = cdist_with(
        &x,
        &x,
        &Metric::SqEuclidean,
        &CdistOptions::new().strategy(Strategy::MatmulTrick),
    )
    .unwrap()
    .to_vec_f64()
    .unwrap();
    let worst_self = (0..256).map(|i| trick[i * 257]).fold(0.0, f64::max);
    assert!(
        worst_self > 0.0,
        "the f32 trick's self-distance is not exactly 0 at this offset"
    );
    let reference = pdist_with(
        &x,
        &Metric::SqEuclidean,
        &CdistOptions::new().accumulate_f64(true),
    )
    .unwrap()
    .to_vec_f64()
    .unwrap();
    let worst = exact
        .to_vec_f64()
        .unwrap()
        .iter()
        .zip(&reference)
        .map(|(a, b)| ((a - b) / b).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 1e-5, "exact f32 kernel errs {worst} relative");
}

#[test]
fn bad_input_is_a_clear_error() {
    let a = NdArray::zeros(&[3, 4], DType::F64).unwrap();
    let b = NdArray::zeros(&[2, 5], DType::F64).unwrap();
    let msg = |r: ndstride::Result<NdArray>| r.unwrap_err().to_string();
    let e = msg(cdist_with(&a, &b, &Metric::Euclidean, &CdistOptions::new()));
    assert!(
        e.contains("same number of columns") && e.contains("(3, 4)") && e.contains("(2, 5)"),
        "{e}"
    );
    let v = NdArray::zeros(&[3], DType::F64).unwrap();
    assert!(
        msg(cdist_with(&v, &a, &Metric::Euclidean, &CdistOptions::new()))
            .contains("XA must be a 2-dimensional")
    );
    assert!(
        msg(pdist_with(&v, &Metric::Euclidean, &CdistOptions::new())).contains("2-dimensional")
    );
    assert!(
        msg(cdist_with(
            &a,
            &a,
            &Metric::minkowski(0.5),
            &CdistOptions::new()
        ))
        .contains("p must be at least 1")
    );
    assert!(
        msg(cdist_with(
            &a,
            &a,
            &Metric::minkowski(f64::NAN),
            &CdistOptions::new()
        ))
        .contains("p must be")
    );
    assert!(
        msg(cdist_with(
            &a,
            &a,
            &Metric::mahalanobis(vec![1.0; 9]),
            &CdistOptions::new()
        ))
        .contains("4 × 4")
    );
    assert!(
        msg(cdist_with(
            &a,
            &a,
            &Metric::seuclidean(vec![1.0; 3]),
            &CdistOptions::new()
        ))
        .contains("one entry per feature (4)")
    );
    assert!(
        msg(cdist_with(
            &a,
            &a,
            &Metric::weighted_minkowski(2.0, vec![1.0, -1.0, 1.0, 1.0]),
            &CdistOptions::new()
        ))
        .contains("w[1]")
    );
    let one = NdArray::ones(&[1, 4], DType::F64).unwrap();
    assert!(
        msg(cdist_with(
            &a,
            &one,
            &Metric::Mahalanobis { vi: None },
            &CdistOptions::new()
        ))
        .contains("too small")
    );
    assert!(
        msg(cdist_with(
            &a,
            &a,
            &Metric::Mahalanobis { vi: None },
            &CdistOptions::new()
        ))
        .contains("singular")
    );
    assert!(
        msg(cdist_with(
            &a,
            &a,
            &Metric::Cityblock,
            &CdistOptions::new().strategy(Strategy::MatmulTrick)
        ))
        .contains("simd")
    );
    let big = NdArray::zeros(&[1000, 100], DType::F64).unwrap();
    let e = msg(cdist_with(
        &big,
        &big,
        &Metric::Euclidean,
        &CdistOptions::new()
            .strategy(Strategy::Broadcast)
            .memory_limit(1 << 20),
    ));
    assert!(
        e.contains("(1000, 1000, 100)") && e.contains("memory limit"),
        "{e}"
    );
    assert!(
        msg(cdist_with(
            &a,
            &a,
            &Metric::Euclidean,
            &CdistOptions::new().out_dtype(DType::I32)
        ))
        .contains("float64 or float32")
    );
    assert!(
        "nope"
            .parse::<Metric>()
            .unwrap_err()
            .to_string()
            .contains("Unknown Distance Metric: nope")
    );
    assert!(
        msg(cdist_with(
            &a,
            &a,
            &Metric::Euclidean,
            &CdistOptions::new().threads(0)
        ))
        .contains("threads")
    );
}
