//! SciPy's data-derived defaults (the variance for seuclidean, the inverse covariance for
//! mahalanobis) and the small dense float64 algebra they need.

use super::metric::Metric;
use crate::array::NdArray;
use crate::error::{Error, Result};

/// The rows the defaults are computed from, as SciPy takes them: `xa` then `xb` (cdist), or
/// `xa` alone (pdist). They are visited in blocks of rows, as row-major float64, so that an
/// input memory-mapped from a file larger than memory is never copied whole.
pub(crate) struct Observations<'a> {
    parts: [Option<&'a NdArray>; 2],
}

/// Rows per block visited (4096 rows of 64 features: 2 MiB of float64).
const BLOCK_ROWS: usize = 4096;

impl<'a> Observations<'a> {
    pub fn new(xa: &'a NdArray, xb: Option<&'a NdArray>) -> Self {
        Observations {
            parts: [Some(xa), xb],
        }
    }

    /// Number of rows.
    fn count(&self) -> usize {
        self.parts.iter().flatten().map(|x| x.shape()[0]).sum()
    }

    /// Calls `f` on consecutive blocks of rows, in order.
    fn for_each_block(&self, mut f: impl FnMut(&[f64])) -> Result<()> {
        for x in self.parts.iter().flatten() {
            let rows = x.shape()[0];
            for r0 in (0..rows).step_by(BLOCK_ROWS) {
                let r1 = (r0 + BLOCK_ROWS).min(rows);
                f(&x.slice(crate::s![r0 as isize..r1 as isize, ..])?
                    .to_vec_f64()?);
            }
        }
        Ok(())
    }
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
            v: Some(variance(&Observations::new(xa, xb), d)?),
        },
        Metric::Mahalanobis { vi: None } => Metric::Mahalanobis {
            vi: Some(inverse_covariance(&Observations::new(xa, xb), d)?),
        },
        other => other.clone(),
    })
}

/// Whether no element of the rows is negative or NaN.
pub(crate) fn all_nonnegative(x: &Observations<'_>) -> Result<bool> {
    let mut all = true;
    // `!(v >= 0.0)` is true for NaN.
    x.for_each_block(|block| all &= block.iter().all(|&v| v >= 0.0))?;
    Ok(all)
}

/// Per-feature variance with `ddof = 1` of the rows of `x` (`d` columns), as
/// `np.var(x, axis=0, ddof=1)`; two passes (mean, then squared deviations).
pub(crate) fn variance(x: &Observations<'_>, d: usize) -> Result<Vec<f64>> {
    let n = if d == 0 { 0 } else { x.count() };
    let mut mean = vec![0.0; d];
    x.for_each_block(|block| {
        for row in block.chunks_exact(d.max(1)) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
    })?;
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut var = vec![0.0; d];
    x.for_each_block(|block| {
        for row in block.chunks_exact(d.max(1)) {
            for ((s, &v), &m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
    })?;
    var.iter_mut().for_each(|s| *s /= n as f64 - 1.0);
    Ok(var)
}

/// `inv(cov(x.T))` for mahalanobis, with SciPy's error when there are too few observations.
pub(crate) fn inverse_covariance(x: &Observations<'_>, d: usize) -> Result<Vec<f64>> {
    let n = if d == 0 { 0 } else { x.count() };
    if n <= d {
        return Err(Error::invalid(format!(
            "mahalanobis: the number of observations ({n}) is too small; the covariance matrix \
             is singular. For observations with {d} dimensions, at least {} observations are \
             required (or pass VI)",
            d + 1
        )));
    }
    let mut mean = vec![0.0; d];
    x.for_each_block(|block| {
        for row in block.chunks_exact(d) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v / n as f64;
            }
        }
    })?;
    let mut cov = vec![0.0; d * d];
    x.for_each_block(|block| {
        for row in block.chunks_exact(d) {
            for r in 0..d {
                let dr = row[r] - mean[r];
                for c in 0..d {
                    cov[r * d + c] += dr * (row[c] - mean[c]);
                }
            }
        }
    })?;
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
        let x = NdArray::from_vec(vec![1.0, 10.0, 3.0, 10.0], &[2, 2]).unwrap();
        assert_eq!(
            variance(&Observations::new(&x, None), 2).unwrap(),
            vec![2.0, 0.0]
        );
    }

    /// Blocks of rows across both inputs give what one pass over the stacked rows gives.
    /// (Safe code over 16 K values: two minutes under Miri, which checks nothing new here.)
    #[test]
    #[cfg_attr(miri, ignore)]
    fn observations_in_blocks_equal_the_stacked_rows() {
        let rows = 2 * BLOCK_ROWS + 7;
        let all: Vec<f64> = (0..rows * 2)
            .map(|v| ((v * 37) % 101) as f64 / 7.0)
            .collect();
        let x = NdArray::from_vec(all.clone(), &[rows, 2]).unwrap();
        let split = BLOCK_ROWS + 3;
        let (xa, xb) = (
            x.slice(crate::s![..split as isize, ..]).unwrap(),
            x.slice(crate::s![split as isize.., ..]).unwrap(),
        );
        let obs = Observations::new(&xa, Some(&xb));
        let mean: Vec<f64> = (0..2)
            .map(|c| all.iter().skip(c).step_by(2).sum::<f64>() / rows as f64)
            .collect();
        let var: Vec<f64> = (0..2)
            .map(|c| {
                let s: f64 = all
                    .iter()
                    .skip(c)
                    .step_by(2)
                    .map(|v| (v - mean[c]) * (v - mean[c]))
                    .sum();
                s / (rows as f64 - 1.0)
            })
            .collect();
        assert_eq!(variance(&obs, 2).unwrap(), var);
        let vi = inverse_covariance(&obs, 2).unwrap();
        let whole = inverse_covariance(&Observations::new(&x, None), 2).unwrap();
        assert_eq!(vi, whole);
    }
}
