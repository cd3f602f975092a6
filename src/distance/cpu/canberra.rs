//! Canberra distance, `Σ |u − v| / (|u| + |v|)`, without the divider.
//!
//! A pair loop of that sum is bound by the division unit: `vdivpd` retires half a float64 per
//! cycle whatever the vector width. On AVX-512, three pairs in four instead take the quotient
//! from `vrcp14pd`'s 14-bit reciprocal, one Newton step (28 bits) and a correction fused with
//! the accumulation, `acc + n·x·(2 − den·x)` (relative error 2⁻⁵⁶ before rounding, within a
//! few ulps of the division): five FMA-pipe instructions besides the reciprocal, while the
//! divider handles the fourth pair. That needs the reciprocal in the normal range, so only
//! rows whose entries are 0 or of magnitude in [2⁻⁹⁰⁰, 2⁹⁰⁰] take it; the others, and every
//! pair on other instruction sets, divide.

use super::lanes::lane_sum;
use super::pairwise::{PairMetric, RowKernel};
use crate::cpu::dispatched;

/// SciPy's definition, one division per term: a 0/0 term counts 0, NaN still propagates.
pub(crate) struct Canberra;
impl PairMetric for Canberra {
    #[inline(always)]
    fn dist(&self, a: &[f64], b: &[f64]) -> f64 {
        lane_sum(a, b, |x, y| {
            let den = x.abs() + y.abs();
            if den == 0.0 { 0.0 } else { (x - y).abs() / den }
        })
    }
}

/// Rows with what the reciprocal path needs to know about them.
pub(crate) struct CanberraRows<'a> {
    d: usize,
    raw: &'a [f64],
    /// `|x|`, so the pair loop does not recompute it for every pair.
    abs: Vec<f64>,
    /// Every entry 0 or of magnitude in [2⁻⁹⁰⁰, 2⁹⁰⁰] (finite).
    reciprocal_ok: Vec<bool>,
    /// Some entry is 0: only a pair of such rows can meet a 0/0 term.
    has_zero: Vec<bool>,
}

const SMALLEST: f64 = 1.2e-271; // just above 2⁻⁹⁰⁰ ≈ 1.18e-271
const LARGEST: f64 = 8.4e270; // just below 2⁹⁰⁰ ≈ 8.45e270

impl<'a> CanberraRows<'a> {
    /// `raw`: `rows` row-major rows of `d` features.
    pub(crate) fn new(raw: &'a [f64], rows: usize, d: usize) -> Self {
        debug_assert_eq!(raw.len(), rows * d);
        let abs: Vec<f64> = raw.iter().map(|x| x.abs()).collect();
        let mut reciprocal_ok = vec![true; rows];
        let mut has_zero = vec![false; rows];
        for (r, u) in abs.chunks_exact(d.max(1)).take(rows).enumerate() {
            reciprocal_ok[r] = u
                .iter()
                .all(|&x| x == 0.0 || (SMALLEST..=LARGEST).contains(&x));
            has_zero[r] = u.contains(&0.0);
        }
        CanberraRows {
            d,
            raw,
            abs,
            reciprocal_ok,
            has_zero,
        }
    }

    fn raw_row(&self, i: usize) -> &[f64] {
        &self.raw[i * self.d..][..self.d]
    }
}

#[inline(always)]
fn rows_by_division_body(
    a: &CanberraRows<'_>,
    i: usize,
    b: &CanberraRows<'_>,
    j0: usize,
    out: &mut [f64],
) {
    for (o, j) in out.iter_mut().zip(j0..) {
        *o = Canberra.dist(a.raw_row(i), b.raw_row(j));
    }
}

dispatched! {
    fn rows_by_division<>(a: &CanberraRows<'_>, i: usize, b: &CanberraRows<'_>, j0: usize, out: &mut [f64]) => rows_by_division_body
}

/// All pairs of rows of `a` and `b`, for [`super::pairwise::run_rows`].
pub(crate) struct Pairs<'r, 'a> {
    pub a: &'r CanberraRows<'a>,
    pub b: &'r CanberraRows<'a>,
}

impl RowKernel for Pairs<'_, '_> {
    fn row(&self, i: usize, j: usize, out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if crate::cpu::simd_level() == crate::cpu::SimdLevel::Avx512 {
            // SAFETY: simd_level() verified AVX-512 F/DQ on the running CPU.
            return unsafe { avx512::rows(self.a, [i], self.b, j, [out]) };
        }
        rows_by_division(self.a, i, self.b, j, out);
    }

    fn two_rows(&self, i: usize, j: usize, out0: &mut [f64], out1: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if crate::cpu::simd_level() == crate::cpu::SimdLevel::Avx512 {
            // SAFETY: as above.
            return unsafe { avx512::rows(self.a, [i, i + 1], self.b, j, [out0, out1]) };
        }
        rows_by_division(self.a, i, self.b, j, out0);
        rows_by_division(self.a, i + 1, self.b, j, out1);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{Canberra, CanberraRows, PairMetric};
    use std::arch::x86_64::*;

    /// Rows of the second operand per kernel call, one accumulator chain per pair: with two
    /// rows of the first operand, eight independent chains cover the reciprocal chain's
    /// latency without spilling registers, and each load of `v` serves two pairs.
    const ROWS: usize = 4;

    /// `out[s][k]` = the distance from row `i[s]` of `a` to row `j + k` of `b`; all `out[s]`
    /// have the same length.
    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) fn rows<const A: usize>(
        a: &CanberraRows<'_>,
        i: [usize; A],
        b: &CanberraRows<'_>,
        j: usize,
        out: [&mut [f64]; A],
    ) {
        // A row outside the reciprocal range divides; its partner must not divide with it (a
        // pair's bits must not depend on the row beside it): each row alone.
        if A > 1 && !i.iter().all(|&i| a.reciprocal_ok[i]) {
            for (&i, out) in i.iter().zip(out) {
                rows::<1>(a, [i], b, j, [out]);
            }
            return;
        }
        let d = a.d;
        let len = out[0].len();
        let fast = |j: usize| i.iter().all(|&i| a.reciprocal_ok[i]) && b.reciprocal_ok[j];
        let zero_terms = |j: usize| i.iter().any(|&i| a.has_zero[i]) && b.has_zero[j];
        let u = i.map(|i| a.raw_row(i));
        let au = i.map(|i| &a.abs[i * d..][..d]);
        let mut k = 0;
        while k < len {
            let group = j + k..j + (k + ROWS).min(len);
            if group.len() == ROWS && group.clone().all(fast) {
                let v = &b.raw[group.start * d..][..ROWS * d];
                let av = &b.abs[group.start * d..][..ROWS * d];
                let q = if group.clone().any(zero_terms) {
                    block::<A, true>(u, au, v, av)
                } else {
                    block::<A, false>(u, au, v, av)
                };
                for s in 0..A {
                    out[s][k..k + ROWS].copy_from_slice(&q[s]);
                }
            } else {
                for (c, jj) in group.enumerate() {
                    for s in 0..A {
                        out[s][k + c] = Canberra.dist(u[s], b.raw_row(jj));
                    }
                }
            }
            k += ROWS;
        }
    }

    /// `acc + n / den` for `0 ≤ n ≤ den`, den in [2⁻⁸⁹⁹, 2⁹⁰¹] (or 0, where the lane is
    /// garbage): `x1` ≈ 1/den to 2⁻²⁸ by a Newton step from `vrcp14pd`, then
    /// `n·x1·(2 − den·x1) = (n/den)·(1 − e²)` with `e = 1 − den·x1`, so the relative error is
    /// 2⁻⁵⁶ before the three roundings; the last multiply fuses with the accumulation.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn add_quotient(acc: __m512d, n: __m512d, den: __m512d) -> __m512d {
        let x0 = _mm512_rcp14_pd(den);
        let e0 = _mm512_fnmadd_pd(den, x0, _mm512_set1_pd(1.0)); // 1 − den·x0, |e0| < 2⁻¹⁴
        let x1 = _mm512_fmadd_pd(x0, e0, x0);
        let q1 = _mm512_mul_pd(n, x1);
        let correction = _mm512_fnmadd_pd(den, x1, _mm512_set1_pd(2.0)); // 1 + e
        _mm512_fmadd_pd(q1, correction, acc)
    }

    /// Adds the 8 terms `|x − y| / (ax + ay)` to `acc`, by division or by reciprocal; lanes
    /// outside `live`, and (with `ZERO_TERMS`) 0/0 lanes, add nothing.
    #[inline(always)]
    fn accumulate<const ZERO_TERMS: bool>(
        acc: &mut __m512d,
        divide: bool,
        live: __mmask8,
        (x, ax, y, ay): (__m512d, __m512d, __m512d, __m512d),
    ) {
        // SAFETY (each intrinsic): only called from functions compiled with AVX-512 F.
        unsafe {
            let n = _mm512_abs_pd(_mm512_sub_pd(x, y));
            let den = _mm512_add_pd(ax, ay);
            *acc = if ZERO_TERMS || live != 0xff {
                // The lanes that add do so exactly as below (the quotient fused with the
                // accumulation), so that a pair's bits do not depend on whether a zero term
                // elsewhere in its block chose this path.
                let nonzero =
                    _mm512_mask_cmp_pd_mask::<_CMP_NEQ_UQ>(live, den, _mm512_setzero_pd());
                if divide {
                    _mm512_mask_add_pd(*acc, nonzero, *acc, _mm512_div_pd(n, den))
                } else {
                    _mm512_mask_blend_pd(nonzero, *acc, add_quotient(*acc, n, den))
                }
            } else if divide {
                _mm512_add_pd(*acc, _mm512_div_pd(n, den))
            } else {
                add_quotient(*acc, n, den)
            };
        }
    }

    /// `Σ |u − v| / (|u| + |v|)` for each row `u[s]` against the `ROWS` consecutive rows of
    /// `v` (`au`, `av`: absolute values). One pair in four divides, the others take
    /// reciprocals: the divider is a separate unit, so its share is nearly free while the
    /// FMA pipes do the rest. `ZERO_TERMS`: some `u[k] = v[k] = 0` may occur, whose 0/0 term
    /// must count 0.
    #[inline]
    #[target_feature(enable = "avx512f,avx512dq")]
    fn block<const A: usize, const ZERO_TERMS: bool>(
        u: [&[f64]; A],
        au: [&[f64]; A],
        v: &[f64],
        av: &[f64],
    ) -> [[f64; ROWS]; A] {
        let d = v.len() / ROWS;
        assert!(u.iter().chain(&au).all(|s| s.len() == d) && av.len() == ROWS * d);
        let (u, au) = (u.map(<[f64]>::as_ptr), au.map(<[f64]>::as_ptr));
        let (v, av) = (v.as_ptr(), av.as_ptr());
        // acc[r][s]: row u[s] against row r of v.
        let mut acc = [[_mm512_setzero_pd(); A]; ROWS];
        let mut k = 0;
        while k + 8 <= d {
            // SAFETY: k + 8 ≤ d, so offsets k .. k + 8 of each u and au and r·d + k ..
            // r·d + k + 8 of v and av (r < ROWS) are in bounds.
            let load = |p: *const f64, at: usize| unsafe { _mm512_loadu_pd(p.add(at)) };
            for (r, acc) in acc.iter_mut().enumerate() {
                let (y, ay) = (load(v, r * d + k), load(av, r * d + k));
                for (s, acc) in acc.iter_mut().enumerate() {
                    let t = (load(u[s], k), load(au[s], k), y, ay);
                    accumulate::<ZERO_TERMS>(acc, r == 0, 0xff, t);
                }
            }
            k += 8;
        }
        if k < d {
            let live: __mmask8 = (1u8 << (d - k)) - 1;
            // SAFETY: the first d − k < 8 lanes from offset k (or r·d + k) are in bounds;
            // masked-off lanes are not read.
            let load = |p: *const f64, at: usize| unsafe { _mm512_maskz_loadu_pd(live, p.add(at)) };
            for (r, acc) in acc.iter_mut().enumerate() {
                let (y, ay) = (load(v, r * d + k), load(av, r * d + k));
                for (s, acc) in acc.iter_mut().enumerate() {
                    let t = (load(u[s], k), load(au[s], k), y, ay);
                    accumulate::<ZERO_TERMS>(acc, r == 0, live, t);
                }
            }
        }
        let mut sums = [[0.0; ROWS]; A];
        for (r, acc) in acc.iter().enumerate() {
            for (s, &acc) in acc.iter().enumerate() {
                sums[s][r] = _mm512_reduce_add_pd(acc);
            }
        }
        sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reciprocal_path_is_within_ulps_of_division() {
        // Zero terms, both signs, magnitudes across the allowed range and beyond it, and
        // lengths around the 8-lane width.
        let vals = [
            0.0, 1.0, -2.5, 3e-200, -7e250, 1e-300, 0.1, 5.0, -0.0, 1e-5, 2.0, 9.75,
        ];
        for d in [1, 3, 7, 8, 9, 16, 17, 31] {
            let rows = 6;
            let x: Vec<f64> = (0..rows * d)
                .map(|k| vals[(k * 7 + k / d) % vals.len()])
                .collect();
            let prepared = CanberraRows::new(&x, rows, d);
            for i in 0..rows {
                let mut out = vec![0.0; rows];
                Pairs {
                    a: &prepared,
                    b: &prepared,
                }
                .row(i, 0, &mut out);
                for (j, &got) in out.iter().enumerate() {
                    let want = Canberra.dist(&x[i * d..][..d], &x[j * d..][..d]);
                    assert!(
                        (got - want).abs() <= 4.0 * f64::EPSILON * want,
                        "d={d} ({i},{j}): {got} vs {want}"
                    );
                    if i == j {
                        assert_eq!(got, 0.0);
                    }
                }
            }
        }
    }

    /// A pair's distance must not depend on which row it is computed beside: blocks of rows
    /// (cdist_chunked, any budget) pair rows differently from one whole cdist. Found by the
    /// cdist fuzz target: a row outside the reciprocal range (1e300) sent its partner to the
    /// division path, and a partner's zeros sent it to the unfused zero-term path, each a few
    /// ulps off the row computed alone.
    #[test]
    fn a_rows_distances_do_not_depend_on_the_row_beside_it() {
        let vals = [
            0.0, 1.0, -2.5, 1e300, 0.1, 5.0, 3.25, -7.0, 1e-5, 2.0, 9.75, -0.5,
        ];
        for d in [1, 7, 8, 13] {
            let (rows, cols) = (7, 9);
            let x: Vec<f64> = (0..rows * d)
                .map(|k| vals[(k * 5 + k / d) % vals.len()])
                .collect();
            // Rows of y all in the reciprocal range; some rows of x are not (1e300).
            let y: Vec<f64> = (0..cols * d)
                .map(|k| match vals[(k * 7 + 3) % vals.len()] {
                    1e300 => 4.5,
                    v => v * 1.5,
                })
                .collect();
            let (a, b) = (
                CanberraRows::new(&x, rows, d),
                CanberraRows::new(&y, cols, d),
            );
            let pairs = Pairs { a: &a, b: &b };
            for i in 0..rows - 1 {
                let (mut alone0, mut alone1) = (vec![0.0; cols], vec![0.0; cols]);
                pairs.row(i, 0, &mut alone0);
                pairs.row(i + 1, 0, &mut alone1);
                let (mut two0, mut two1) = (vec![0.0; cols], vec![0.0; cols]);
                pairs.two_rows(i, 0, &mut two0, &mut two1);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&alone0),
                    bits(&two0),
                    "d={d}, row {i} beside {}",
                    i + 1
                );
                assert_eq!(
                    bits(&alone1),
                    bits(&two1),
                    "d={d}, row {} beside {i}",
                    i + 1
                );
            }
        }
    }
}
