//! SciPy's data-derived defaults (the variance for seuclidean, the inverse covariance for
//! mahalanobis) and the small dense float64 algebra they need.

use super::metric::Metric;
use crate::array::NdArray;
use crate::error::{Error, Result};

/// The rows the defaults are computed from, as SciPy computes them: `xa` stacked on `xb`
/// (cdist), or `xa` alone (pdist), as row-major float64.
pub(crate) fn stacked(xa: &NdArray, xb: Option<&NdArray>) -> Result<Vec<f64>> {
    let mut all = xa.to_vec_f64()?;
    if let Some(xb) = xb {
        all.extend(xb.to_vec_f64()?);
    }
    Ok(all)
}

/// `metric` with SciPy's data-derived defaults (seuclidean's V, mahalanobis's VI) filled in
/// from all of `xa` stacked on `xb`, as `cdist(xa, xb)` computes them (`xb = None`: from
/// `xa` alone, as `pdist(xa)` does): drivers that cut the matrix into blocks call this once,
/// so that every block sees the same metric.
pub(crate) fn with_defaults(
    metric: &Metric,
    xa: &NdArray,
    xb: Option<&NdArray>,
    d: usize,
) -> Result<Metric> {
    Ok(match metric {
        Metric::SEuclidean { v: None } => Metric::SEuclidean {
            v: Some(variance(&stacked(xa, xb)?, d)),
        },
        Metric::Mahalanobis { vi: None } => Metric::Mahalanobis {
            vi: Some(inverse_covariance(&stacked(xa, xb)?, d)?),
        },
        other => other.clone(),
    })
}

/// Per-feature variance with `ddof = 1` of the rows of `x` (row-major, `d` columns), as
/// `np.var(x, axis=0, ddof=1)`; two passes (mean, then squared deviations).
pub(crate) fn variance(x: &[f64], d: usize) -> Vec<f64> {
    let n = x.len().checked_div(d).unwrap_or(0);
    let mut mean = vec![0.0; d];
    for row in x.chunks_exact(d.max(1)).take(n) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut var = vec![0.0; d];
    for row in x.chunks_exact(d.max(1)).take(n) {
        for ((s, &v), &m) in var.iter_mut().zip(row).zip(&mean) {
            *s += (v - m) * (v - m);
        }
    }
    var.iter_mut().for_each(|s| *s /= n as f64 - 1.0);
    var
}

/// `inv(cov(x.T))` for mahalanobis, with SciPy's error when there are too few observations.
pub(crate) fn inverse_covariance(x: &[f64], d: usize) -> Result<Vec<f64>> {
    let n = x.len().checked_div(d).unwrap_or(0);
    if n <= d {
        return Err(Error::invalid(format!(
            "mahalanobis: the number of observations ({n}) is too small; the covariance matrix \
             is singular. For observations with {d} dimensions, at least {} observations are \
             required (or pass VI)",
            d + 1
        )));
    }
    let mut mean = vec![0.0; d];
    for row in x.chunks_exact(d) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v / n as f64;
        }
    }
    let mut cov = vec![0.0; d * d];
    for row in x.chunks_exact(d) {
        for r in 0..d {
            let dr = row[r] - mean[r];
            for c in 0..d {
                cov[r * d + c] += dr * (row[c] - mean[c]);
            }
        }
    }
    cov.iter_mut().for_each(|v| *v /= n as f64 - 1.0);
    invert(&cov, d).ok_or_else(|| {
        Error::invalid("mahalanobis: the covariance matrix of the data is singular (pass VI)")
    })
}

/// Gauss-Jordan inverse with partial pivoting; `None` for a singular matrix.
fn invert(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let mut m = a.to_vec();
    let mut inv: Vec<f64> = (0..d * d)
        .map(|k| if k / d == k % d { 1.0 } else { 0.0 })
        .collect();
    let scale = a.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    for col in 0..d {
        let piv =
            (col..d).max_by(|&x, &y| m[x * d + col].abs().total_cmp(&m[y * d + col].abs()))?;
        let p = m[piv * d + col];
        // NaN pivots count as singular too.
        if p.is_nan() || p.abs() <= scale * 1e-14 * d as f64 {
            return None;
        }
        for k in 0..d {
            m.swap(col * d + k, piv * d + k);
            inv.swap(col * d + k, piv * d + k);
        }
        for k in 0..d {
            m[col * d + k] /= p;
            inv[col * d + k] /= p;
        }
        for r in 0..d {
            let f = m[r * d + col];
            if r != col && f != 0.0 {
                for k in 0..d {
                    m[r * d + k] -= f * m[col * d + k];
                    inv[r * d + k] -= f * inv[col * d + k];
                }
            }
        }
    }
    Some(inv)
}

/// The lower Cholesky factor `L` of a symmetric positive definite `a` (`a = L·Lᵀ`, row-major),
/// or `None` when `a` is not symmetric positive definite.
pub(crate) fn cholesky(a: &[f64], d: usize) -> Option<Vec<f64>> {
    let tol = 1e-12 * a.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    for r in 0..d {
        for c in 0..r {
            if (a[r * d + c] - a[c * d + r]).abs() > tol {
                return None;
            }
        }
    }
    let mut l = vec![0.0; d * d];
    for r in 0..d {
        for c in 0..=r {
            let s: f64 = (0..c).map(|k| l[r * d + k] * l[c * d + k]).sum();
            if r == c {
                let v = a[r * d + r] - s;
                if v.is_nan() || v <= 0.0 {
                    return None;
                }
                l[r * d + r] = v.sqrt();
            } else {
                l[r * d + c] = (a[r * d + c] - s) / l[c * d + c];
            }
        }
    }
    Some(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_and_cholesky_agree_with_hand_results() {
        // [[4, 2], [2, 3]]: inverse [[3, -2], [-2, 4]] / 8; L = [[2, 0], [1, sqrt 2]].
        let a = [4.0, 2.0, 2.0, 3.0];
        let inv = invert(&a, 2).unwrap();
        for (x, y) in inv.iter().zip([0.375, -0.25, -0.25, 0.5]) {
            assert!((x - y).abs() < 1e-15, "{inv:?}");
        }
        let l = cholesky(&a, 2).unwrap();
        assert_eq!(l[..3], [2.0, 0.0, 1.0]);
        assert!((l[3] - 2f64.sqrt()).abs() < 1e-15);
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_none()); // indefinite
        assert!(invert(&[1.0, 2.0, 2.0, 4.0], 2).is_none()); // singular
        assert_eq!(variance(&[1.0, 10.0, 3.0, 10.0], 2), vec![2.0, 0.0]);
    }
}
