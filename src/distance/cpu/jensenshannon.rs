//! Jensen–Shannon distance, `sqrt((Σ p·ln(p/m) + Σ q·ln(q/m)) / 2)` with `p = u/Σu`,
//! `q = v/Σv`, `m = (p + q)/2`, as SciPy defines it, with the per-row work done once.
//!
//! SciPy normalises both rows for every pair and calls libm's `log` twice per feature, on
//! the ratios `p/m` and `q/m`. Here each row is normalised once and keeps `ln p` split as
//! [`ln_split_normal`] gives it, so a pair-feature takes one logarithm, of `m`, and no ratio:
//! `ln(p/m) = (hi_p − hi_m) + (lo_p − lo_m)`. The plain shortcut `ln p − ln m` would cancel
//! (its error grows with `|ln p|`); the split's `hi` difference is exact and the `lo` parts
//! carry errors below 6e-17, so `ln(p/m)` is off by a few 1e-16 at most, as SciPy's is (its
//! ratio near 1 is rounded to 1.1e-16). Equal probabilities give exactly 0, so a row against
//! itself is exactly 0. Rows SciPy answers with `inf` or NaN (negative or non-finite
//! entries, zero sums) and rows with subnormal probabilities take the pair-at-a-time
//! definition in [`super::pairwise::JensenShannon`].

use super::lanes::{
    LANES, LN2_HI, LN2_LO, ln_split_normal, log1p_parts_given, log1p_quotient, reduce_normal,
};
use super::pairwise::{JensenShannon, PairMetric};
use crate::cpu::dispatched;

/// Rows normalised to probability vectors, with their logarithms.
pub(crate) struct ProbabilityRows<'a> {
    d: usize,
    /// The rows as given, for the pairs that take SciPy's special cases.
    raw: &'a [f64],
    /// `u / Σu` (zeros for rows that are not `clean`).
    p: Vec<f64>,
    /// `ln p` as [`ln_split_normal`]'s `(hi, lo)`; `(0, 0)` where `p = 0`.
    ln_hi: Vec<f64>,
    ln_lo: Vec<f64>,
    /// All entries finite and nonnegative, a finite positive sum, and every nonzero `p`
    /// normal (so that `m` is normal or 0, in [`ln_split_normal`]'s domain).
    clean: Vec<bool>,
}

/// One row's probabilities and their split logarithms.
#[derive(Clone, Copy)]
struct Row<'r> {
    p: &'r [f64],
    ln_hi: &'r [f64],
    ln_lo: &'r [f64],
}

impl<'a> ProbabilityRows<'a> {
    /// `raw`: `rows` row-major rows of `d` features.
    pub(crate) fn new(raw: &'a [f64], rows: usize, d: usize) -> Self {
        debug_assert_eq!(raw.len(), rows * d);
        let mut p = vec![0.0; rows * d];
        let mut ln_hi = vec![0.0; rows * d];
        let mut ln_lo = vec![0.0; rows * d];
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
            split_logs(row, &mut ln_hi[r * d..][..d], &mut ln_lo[r * d..][..d]);
        }
        ProbabilityRows {
            d,
            raw,
            p,
            ln_hi,
            ln_lo,
            clean,
        }
    }

    fn row(&self, i: usize) -> Row<'_> {
        let at = i * self.d..(i + 1) * self.d;
        Row {
            p: &self.p[at.clone()],
            ln_hi: &self.ln_hi[at.clone()],
            ln_lo: &self.ln_lo[at],
        }
    }
}

/// `(hi, lo)[k]` = [`ln_split_normal`]`(p[k])`, or `(0, 0)` where `p[k] = 0`. Dispatched like
/// the pair loop: in baseline code its fused multiply-adds would be software calls.
#[inline(always)]
fn split_logs_body(p: &[f64], hi: &mut [f64], lo: &mut [f64]) {
    for ((hi, lo), &pk) in hi.iter_mut().zip(lo.iter_mut()).zip(p) {
        let (h, l) = ln_split_normal(pk);
        (*hi, *lo) = if pk > 0.0 { (h, l) } else { (0.0, 0.0) };
    }
}

dispatched! {
    fn split_logs<>(p: &[f64], hi: &mut [f64], lo: &mut [f64]) => split_logs_body
}

/// The first half of a pair-feature's term: `m`'s exponent `k`, reduced mantissa `f` and
/// [`log1p_quotient`] `s`. The pair loop runs it over a block of features before the
/// second half ([`term_given`]), so that the division's latency overlaps other features'
/// work instead of stalling one long dependency chain per feature.
#[inline(always)]
fn reduce_and_divide(p: f64, q: f64) -> [f64; 3] {
    let (k, f) = reduce_normal((p + q) * 0.5);
    [k, f, log1p_quotient(f)]
}

/// `rel_entr(p, m) + rel_entr(q, m)` for probabilities `p`, `q` that are 0 or normal, given
/// their split logarithms and `m`'s [`reduce_and_divide`]: `ln(p/m) = (hi_p − hi_m) +
/// (lo_p − lo_m)` with `lo_m` written out as [`log1p_parts`]'
/// `k·ln2_lo + f − half_f2 + s·half_f2_plus_r`, so that everything but the last product is
/// summed while the polynomial runs. Equal probabilities give exactly 0 (`m = p`: the true
/// value); a zero probability's side is `0 · (finite) = 0`, as its stored parts are 0 and
/// `m`'s are finite (`m` is normal or 0).
#[inline(always)]
fn term_given(p: f64, p_hi: f64, p_lo: f64, q: f64, q_hi: f64, q_lo: f64, kfs: [f64; 3]) -> f64 {
    let [k, f, s] = kfs;
    let l = log1p_parts_given(f, s);
    let m_hi = k * LN2_HI;
    let shared = (l.half_f2 - f) - k * LN2_LO;
    let ln_p_over_m = (-s).mul_add(l.half_f2_plus_r, (p_hi - m_hi) + (p_lo + shared));
    let ln_q_over_m = (-s).mul_add(l.half_f2_plus_r, (q_hi - m_hi) + (q_lo + shared));
    let t = p.mul_add(ln_p_over_m, q * ln_q_over_m);
    if p == q { 0.0 } else { t }
}

/// Features per block of [`divergence_sum`]'s two passes.
const BLOCK: usize = 8 * LANES;

/// [`reduce_and_divide`]'s results for one block, between the two passes: a struct of
/// arrays, so that both passes store and load whole vectors. It lives across pairs, so
/// that no pair zeroes it.
struct Between {
    ks: [[f64; LANES]; BLOCK / LANES],
    fs: [[f64; LANES]; BLOCK / LANES],
    ss: [[f64; LANES]; BLOCK / LANES],
}

/// `Σ term` over the features of one pair, in `LANES` partial sums: per block of features,
/// a first pass of [`reduce_and_divide`], then a second of [`term_given`].
#[inline(always)]
fn divergence_sum(a: Row<'_>, b: Row<'_>, between: &mut Between) -> f64 {
    let Between { ks, fs, ss } = between;
    let mut acc = [0.0; LANES];
    let full = a.p.len() / LANES * LANES;
    for start in (0..full).step_by(BLOCK) {
        let end = (start + BLOCK).min(full);
        let (ap, bp) = (&a.p[start..end], &b.p[start..end]);
        let (ah, bh) = (&a.ln_hi[start..end], &b.ln_hi[start..end]);
        let (al, bl) = (&a.ln_lo[start..end], &b.ln_lo[start..end]);
        let (ap, bp) = (ap.as_chunks::<LANES>().0, bp.as_chunks::<LANES>().0);
        let (ah, bh) = (ah.as_chunks::<LANES>().0, bh.as_chunks::<LANES>().0);
        let (al, bl) = (al.as_chunks::<LANES>().0, bl.as_chunks::<LANES>().0);
        for c in 0..ap.len() {
            for l in 0..LANES {
                [ks[c][l], fs[c][l], ss[c][l]] = reduce_and_divide(ap[c][l], bp[c][l]);
            }
        }
        for c in 0..ap.len() {
            let (ap, ah, al, bp, bh, bl) = (&ap[c], &ah[c], &al[c], &bp[c], &bh[c], &bl[c]);
            for l in 0..LANES {
                let kfs = [ks[c][l], fs[c][l], ss[c][l]];
                acc[l] += term_given(ap[l], ah[l], al[l], bp[l], bh[l], bl[l], kfs);
            }
        }
    }
    let mut tail = 0.0;
    for k in full..a.p.len() {
        let kfs = reduce_and_divide(a.p[k], b.p[k]);
        tail += term_given(
            a.p[k], a.ln_hi[k], a.ln_lo[k], b.p[k], b.ln_hi[k], b.ln_lo[k], kfs,
        );
    }
    acc.iter().sum::<f64>() + tail
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
    let row_i = a.row(i);
    let block = [[0.0; LANES]; BLOCK / LANES];
    let mut between = Between {
        ks: block,
        fs: block,
        ss: block,
    };
    for (o, j) in out.iter_mut().zip(j0..) {
        *o = if a.clean[i] && b.clean[j] {
            (divergence_sum(row_i, b.row(j), &mut between) / 2.0).sqrt()
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
    /// Nearly equal rows, where every evaluation's divergence carries an absolute error of
    /// a few 1e-16 (SciPy's in rounding `p/m` near 1, this one's in the `lo` parts): against
    /// a reference without that cancellation, `m·Σ t^2k / (k(2k − 1))` with
    /// `t = (p − q)/(p + q)`, both this kernel and SciPy's formula stay within 1e-15.
    #[test]
    #[cfg_attr(miri, ignore)] // SciPy's formula goes through libm's `ln`, which Miri perturbs
    fn nearly_equal_rows_keep_the_absolute_error_of_scipys_formula() {
        let d = 37;
        let base: Vec<f64> = (0..d)
            .map(|k| 1.0 + ((k * 29 % 17) as f64) * 0.37)
            .collect();
        for scale in [1e-3, 1e-5, 1e-7] {
            let other: Vec<f64> = base
                .iter()
                .enumerate()
                .map(|(k, &x)| x * (1.0 + scale * ((k % 5) as f64 - 2.0)))
                .collect();
            let both: Vec<f64> = base.iter().chain(&other).copied().collect();
            let prepared = ProbabilityRows::new(&both, 2, d);
            let mut out = [0.0; 2];
            rows(&prepared, 0, &prepared, 0, &mut out);
            let (pa, pb) = (prepared.row(0).p, prepared.row(1).p);
            let exact: f64 = pa
                .iter()
                .zip(pb)
                .map(|(&p, &q)| {
                    let t = (p - q) / (p + q);
                    let series: f64 = (1..8)
                        .map(|k| t.powi(2 * k) / (k * (2 * k - 1)) as f64)
                        .sum();
                    (p + q) / 2.0 * series
                })
                .sum();
            let ours = 2.0 * out[1] * out[1];
            let scipy = 2.0 * JensenShannon.dist(&base, &other).powi(2);
            assert!(exact > 0.0 && out[0] == 0.0);
            assert!(
                (ours - exact).abs() <= 1e-15,
                "{scale}: {ours:e} vs {exact:e}"
            );
            assert!(
                (scipy - exact).abs() <= 1e-15,
                "{scale}: SciPy {scipy:e} vs {exact:e}"
            );
        }
    }
}
