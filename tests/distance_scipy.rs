//! cdist/pdist against SciPy's own outputs on a fixed table of inputs with edge cases (zero
//! vectors, NaN, 0/0 terms, negative jensenshannon entries, all-false and all-true boolean
//! rows, weights with a zero, a zero variance, an indefinite VI). The expected values were
//! generated once with SciPy 1.17.1 by `tests/data/make_scipy_distances.py` and are stored in
//! `tests/data/scipy_distances.rs`.

use ndstride::distance::{CdistOptions, Metric, Strategy, cdist_with, pdist_with, squareform};
use ndstride::{DType, NdArray, Order};

#[allow(dead_code)]
mod table {
    include!("data/scipy_distances.rs");
}
use table::*;

fn array(name: &str) -> NdArray {
    let f = |(v, s): &(&[f64], [usize; 2])| NdArray::from_slice(v, s).unwrap();
    let b = |(v, s): &(&[bool], [usize; 2])| NdArray::from_bools(v, s).unwrap();
    match name {
        "XA" => f(&(&XA.0, XA.1)),
        "XB" => f(&(&XB.0, XB.1)),
        "PA" => f(&(&PA.0, PA.1)),
        "PB" => f(&(&PB.0, PB.1)),
        "G" => f(&(&G.0, G.1)),
        "GB" => f(&(&GB.0, GB.1)),
        "BA" => b(&(&BA.0, BA.1)),
        "BB" => b(&(&BB.0, BB.1)),
        _ => panic!("unknown input {name}"),
    }
}

fn metric(case: &Case) -> Metric {
    let w = vec![0.5, 1.0, 2.0, 0.0];
    match case.params {
        "None" => case.metric.parse().unwrap(),
        "P3" => Metric::minkowski(3.0),
        "P15W" => Metric::weighted_minkowski(1.5, w),
        "P1W" => Metric::weighted_minkowski(1.0, w),
        "P2W" => Metric::weighted_minkowski(2.0, w),
        "PINF" => Metric::minkowski(f64::INFINITY),
        "V" => Metric::seuclidean(vec![0.5, 2.0, 1.0, 4.0]),
        "V0" => Metric::seuclidean(vec![0.0, 2.0, 1.0, 4.0]),
        "VI" => Metric::mahalanobis(VI.to_vec()),
        "IND" => Metric::mahalanobis(IND.to_vec()),
        p => panic!("unknown params {p}"),
    }
}

/// Equal as SciPy's values: NaN where SciPy has NaN, the same infinity, otherwise within a
/// relative (or, near zero, absolute) 1e-12 — only the summation order differs.
fn close(got: f64, want: f64, tol: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= tol * want.abs().max(1.0)
}

fn run(case: &Case, xa: &NdArray, xb: Option<&NdArray>, opts: &CdistOptions) -> Vec<f64> {
    let m = metric(case);
    let out = match xb {
        Some(xb) => cdist_with(xa, xb, &m, opts),
        None => pdist_with(xa, &m, opts),
    };
    out.unwrap_or_else(|e| panic!("{}: {e}", case.label))
        .to_vec_f64()
        .unwrap()
}

fn check(case: &Case, got: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), case.expected.len(), "{}: {what}", case.label);
    for (k, (&g, &w)) in got.iter().zip(case.expected).enumerate() {
        assert!(
            close(g, w, tol),
            "{} ({what}): element {k} is {g}, SciPy gives {w}",
            case.label
        );
    }
}

#[test]
fn every_case_matches_scipy() {
    let opts = CdistOptions::new();
    for case in CASES {
        let xa = array(case.xa);
        let xb = case.xb.map(array);
        let got = run(case, &xa, xb.as_ref(), &opts);
        check(case, &got, 1e-12, "C-order inputs");
    }
}

#[test]
fn layouts_and_dtypes_do_not_change_results() {
    // Fortran-order copies and reversed-row views are read in place; float32 output rounds.
    for case in CASES {
        let xa = array(case.xa);
        let xb = case.xb.map(array);
        let f = |x: &NdArray| x.to_contiguous(Order::F);
        let got = run(
            case,
            &f(&xa),
            xb.as_ref().map(f).as_ref(),
            &CdistOptions::new(),
        );
        check(case, &got, 1e-12, "Fortran-order inputs");
        if let Some(xb) = &xb {
            // Rows of XB reversed twice: a negative-stride view with the original row order.
            let rev = xb.flip(0).unwrap().copy().unwrap().flip(0).unwrap();
            let got = run(case, &xa, Some(&rev), &CdistOptions::new());
            check(case, &got, 1e-12, "negative-stride XB");
        }
        let opts = CdistOptions::new().out_dtype(DType::F32);
        let got = run(case, &xa, xb.as_ref(), &opts);
        check(case, &got, 1e-6, "float32 output");
    }
}

#[test]
fn other_strategies_match_scipy_where_they_apply() {
    for case in CASES {
        let xa = array(case.xa);
        let xb = case.xb.map(array);
        let has_nan = case.xa == "XA";
        for (strategy, tol) in [(Strategy::MatmulTrick, 1e-9), (Strategy::Broadcast, 1e-12)] {
            let m = metric(case);
            let supported = match strategy {
                Strategy::MatmulTrick => matches!(
                    m,
                    Metric::SqEuclidean | Metric::Euclidean | Metric::Cosine | Metric::Correlation
                ),
                _ => matches!(
                    m,
                    Metric::SqEuclidean
                        | Metric::Euclidean
                        | Metric::Cityblock
                        | Metric::Chebyshev
                        | Metric::Minkowski { w: None, .. }
                ),
            };
            // The broadcast strategy's max is np.max, which propagates NaN where SciPy's
            // chebyshev loop skips it (documented in `Strategy::Broadcast`).
            let max_like = m == Metric::Chebyshev || m == Metric::minkowski(f64::INFINITY);
            let opts = CdistOptions::new().strategy(strategy);
            let out = match &xb {
                Some(xb) => cdist_with(&xa, xb, &m, &opts),
                None => pdist_with(&xa, &m, &opts),
            };
            if !supported {
                assert!(
                    out.is_err(),
                    "{} with {strategy} should be refused",
                    case.label
                );
                continue;
            }
            let got = out.unwrap().to_vec_f64().unwrap();
            if max_like && has_nan {
                let nan_rows = got.iter().filter(|v| v.is_nan()).count();
                assert!(nan_rows > 0, "{}: np.max propagates NaN", case.label);
                continue;
            }
            // The trick cancels: compare against SciPy with an absolute allowance scaled by
            // the squared norms (‖x‖ reaches 1000 in XA), and skip its NaN-row/zero-row cases
            // where the trick's cosine of a zero row is NaN as well.
            if strategy == Strategy::MatmulTrick {
                for (k, (&g, &w)) in got.iter().zip(case.expected).enumerate() {
                    let ok = (w.is_nan() && g.is_nan())
                        || (g - w).abs() <= tol * 1e6 + 1e-6 * w.abs()
                        || (m == Metric::Euclidean && (g * g - w * w).abs() <= 1e-9 * 1e6);
                    assert!(
                        ok,
                        "{} ({strategy}): element {k} is {g}, SciPy {w}",
                        case.label
                    );
                }
            } else {
                check(case, &got, tol, strategy.name());
            }
        }
    }
}

#[test]
fn squareform_round_trips_pdist() {
    let x = array("XA");
    let v = pdist_with(&x, &Metric::Cityblock, &CdistOptions::new()).unwrap();
    let sq = squareform(&v).unwrap();
    let full = cdist_with(&x, &x, &Metric::Cityblock, &CdistOptions::new()).unwrap();
    let (s, f) = (sq.to_vec_f64().unwrap(), full.to_vec_f64().unwrap());
    for (k, (a, b)) in s.iter().zip(&f).enumerate() {
        // cdist's diagonal for the NaN row is NaN; squareform's diagonal is 0 by definition.
        assert!(
            a == b || (a.is_nan() && b.is_nan()) || k % 7 == 0,
            "{k}: {a} vs {b}"
        );
    }
    assert_eq!(
        squareform(&sq).unwrap().to_vec_f64().unwrap().len(),
        v.len()
    );
}
