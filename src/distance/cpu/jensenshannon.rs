//! Jensen–Shannon distance, `sqrt((Σ p·ln(p/m) + Σ q·ln(q/m)) / 2)` with `p = u/Σu`,
//! `q = v/Σv`, `m = (p + q)/2`, as SciPy evaluates it, with the per-row work done once.
//!
//! SciPy normalises both rows for every pair and calls libm's `log` twice per feature. Here
//! each row is normalised once, and the pair loop evaluates the same expression (the same
//! ratios `p/m`, `q/m`, so the same rounding behaviour when `p ≈ q`) with the vectorised
//! [`ln_positive`], eight features per step. The shortcut `p·(ln p − ln m)` with `ln p`
//! kept per row would save the divisions, but it cancels: for nearly equal rows its error
//! grows with `|ln p|` while SciPy's does not. Rows SciPy answers with `inf` or NaN
//! (negative or non-finite entries, zero sums) and rows with subnormal probabilities take
//! the pair-at-a-time definition in [`super::pairwise::JensenShannon`].

use super::lanes::{lane_sum, ln_positive};
use super::pairwise::{JensenShannon, PairMetric};
use crate::cpu::dispatched;

/// Rows normalised to probability vectors, with their logarithms.
pub(crate) struct ProbabilityRows<'a> {
    d: usize,
    /// The rows as given, for the pairs that take SciPy's special cases.
    raw: &'a [f64],
    /// `u / Σu` (zeros for rows that are not `clean`).
    p: Vec<f64>,
    /// All entries finite and nonnegative, a finite positive sum, and every nonzero `p`
    /// normal (so that `m` and the ratios stay in [`ln_positive`]'s domain).
    clean: Vec<bool>,
}

impl<'a> ProbabilityRows<'a> {
    /// `raw`: `rows` row-major rows of `d` features.
    pub(crate) fn new(raw: &'a [f64], rows: usize, d: usize) -> Self {
        debug_assert_eq!(raw.len(), rows * d);
        let mut p = vec![0.0; rows * d];
        let mut clean = vec![false; rows];
        for (r, u) in raw.chunks_exact(d.max(1)).take(rows).enumerate() {
            let sum: f64 = u.iter().sum();
            let ok = u.iter().all(|&x| x >= 0.0 && x.is_finite()) && sum > 0.0 && sum.is_finite();
            if !ok {
                continue;
            }
            let row = &mut p[r * d..][..d];
            for (pk, &x) in row.iter_mut().zip(u) {
                *pk = x / sum;
            }
            clean[r] = row
                .iter()
                .all(|&pk| pk == 0.0 || pk >= 4.0 * f64::MIN_POSITIVE);
        }
        ProbabilityRows { d, raw, p, clean }
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.p[i * self.d..][..self.d]
    }
}

/// `rel_entr(p, m) + rel_entr(q, m)` for probabilities `p`, `q` that are 0 or normal: each
/// side is 0 where its probability is 0, and `m ≥ p/2` keeps the ratios normal.
#[inline(always)]
fn term(p: f64, q: f64) -> f64 {
    let m = (p + q) / 2.0;
    let left = if p > 0.0 { p * ln_positive(p / m) } else { 0.0 };
    let right = if q > 0.0 { q * ln_positive(q / m) } else { 0.0 };
    left + right
}

/// `Σ term` over the features of one pair, in `LANES` partial sums.
#[inline(always)]
fn divergence_sum(p: &[f64], q: &[f64]) -> f64 {
    lane_sum(p, q, term)
}

#[inline(always)]
fn rows_body(
    a: &ProbabilityRows<'_>,
    i: usize,
    b: &ProbabilityRows<'_>,
    j0: usize,
    out: &mut [f64],
) {
    let d = a.d;
    let p = a.row(i);
    for (o, j) in out.iter_mut().zip(j0..) {
        *o = if a.clean[i] && b.clean[j] {
            (divergence_sum(p, b.row(j)) / 2.0).sqrt()
        } else {
            JensenShannon.dist(&a.raw[i * d..][..d], &b.raw[j * d..][..d])
        };
    }
}

dispatched! {
    /// `out[k]` = the distance from row `i` of `a` to row `j0 + k` of `b`.
    pub(crate) fn rows<>(a: &ProbabilityRows<'_>, i: usize, b: &ProbabilityRows<'_>, j0: usize, out: &mut [f64]) => rows_body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_rows_agree_with_the_definition() {
        let d = 19;
        let mut x = vec![0.0; 5 * d];
        for (k, v) in x.iter_mut().enumerate() {
            // A few zeros and spread magnitudes.
            *v = match k % 7 {
                0 => 0.0,
                _ => ((k * 37 % 101) as f64 + 0.5) * 10f64.powi((k % 5) as i32 - 2),
            };
        }
        x[3 * d + 3] = 1e-310; // row 3: a subnormal probability, the exact fallback
        x[4 * d + 2] = -1.0; // row 4: SciPy's inf
        let prepared = ProbabilityRows::new(&x, 5, d);
        // Rows 0-2 take the vectorised path, rows 3-4 the pair-at-a-time one.
        assert_eq!(prepared.clean, [true, true, true, false, false]);
        for i in 0..5 {
            let mut out = vec![0.0; 5];
            rows(&prepared, i, &prepared, 0, &mut out);
            for j in 0..5 {
                // The pair-at-a-time definition (SciPy's, libm logarithms, inf for negatives).
                let want = JensenShannon.dist(&x[i * d..][..d], &x[j * d..][..d]);
                if i == j && i < 4 {
                    assert_eq!(out[j], 0.0, "row {i} against itself");
                } else {
                    let err = (out[j] - want).abs();
                    assert!(
                        err <= 1e-14 * want.abs() || out[j] == want,
                        "({i},{j}): {} vs {want}",
                        out[j]
                    );
                }
            }
        }
    }
}
