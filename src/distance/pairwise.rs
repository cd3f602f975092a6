//! Metrics without a register-blocked kernel: one pair at a time over contiguous float64 rows,
//! in eight independent lanes so that the loops vectorise (a single running sum cannot: float
//! addition is not reassociated), compiled per instruction set.

use rayon::prelude::*;

use super::sink::{Post, Sink};
use crate::cpu::dispatched;
use crate::dtype::Element;

/// A distance between two equal-length float64 rows.
pub(crate) trait PairMetric: Sync {
    fn dist(&self, a: &[f64], b: &[f64]) -> f64;
}

const LANES: usize = 8;

/// `Σ f(a[k], b[k])` in `LANES` partial sums.
#[inline(always)]
fn lane_sum(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> f64 {
    let (ac, ar) = a.as_chunks::<LANES>();
    let (bc, br) = b.as_chunks::<LANES>();
    let mut acc = [0.0; LANES];
    for (x, y) in ac.iter().zip(bc) {
        for l in 0..LANES {
            acc[l] += f(x[l], y[l]);
        }
    }
    let tail: f64 = ar.iter().zip(br).map(|(&x, &y)| f(x, y)).sum();
    acc.iter().sum::<f64>() + tail
}

pub(crate) struct Canberra;
impl PairMetric for Canberra {
    #[inline(always)]
    fn dist(&self, a: &[f64], b: &[f64]) -> f64 {
        lane_sum(a, b, |x, y| {
            let den = x.abs() + y.abs();
            // SciPy: a 0/0 term counts 0; NaN still propagates (NaN != 0).
            if den == 0.0 { 0.0 } else { (x - y).abs() / den }
        })
    }
}

/// `(Σ w·|u − v|^p)^(1/p)` for general `p`; `p = inf` is the largest `|u − v|` over the
/// features with nonzero weight.
pub(crate) struct Minkowski<'a> {
    pub p: f64,
    pub w: Option<&'a [f64]>,
}
impl PairMetric for Minkowski<'_> {
    #[inline(always)]
    fn dist(&self, a: &[f64], b: &[f64]) -> f64 {
        let p = self.p;
        if p.is_infinite() {
            let mut best = 0.0f64;
            for (k, (&x, &y)) in a.iter().zip(b).enumerate() {
                let t = (x - y).abs();
                let on = self.w.is_none_or(|w| w[k] > 0.0);
                if on && t > best {
                    best = t;
                }
            }
            return best;
        }
        let s: f64 = match self.w {
            // Small integer p: |t|^p by multiplication, which vectorises (powf does not).
            None if p == 3.0 => lane_sum(a, b, |x, y| {
                let t = (x - y).abs();
                t * t * t
            }),
            None if p == 4.0 => lane_sum(a, b, |x, y| {
                let t = (x - y) * (x - y);
                t * t
            }),
            None => a.iter().zip(b).map(|(&x, &y)| (x - y).abs().powf(p)).sum(),
            Some(w) => a
                .iter()
                .zip(b)
                .zip(w)
                .map(|((&x, &y), &w)| w * (x - y).abs().powf(p))
                .sum(),
        };
        s.powf(1.0 / p)
    }
}

/// SciPy's definition: probability vectors `u/Σu`, `v/Σv`; `inf` when an entry is negative
/// or a sum is zero.
pub(crate) struct JensenShannon;
impl PairMetric for JensenShannon {
    #[inline(always)]
    fn dist(&self, a: &[f64], b: &[f64]) -> f64 {
        let (mut sa, mut sb) = (0.0, 0.0);
        for (&x, &y) in a.iter().zip(b) {
            if x < 0.0 || y < 0.0 {
                return f64::INFINITY;
            }
            sa += x;
            sb += y;
        }
        if sa == 0.0 || sb == 0.0 {
            return f64::INFINITY;
        }
        let mut s = 0.0;
        for (&x, &y) in a.iter().zip(b) {
            let (p, q) = (x / sa, y / sb);
            let m = (p + q) / 2.0;
            if p > 0.0 {
                s += p * (p / m).ln();
            }
            if q > 0.0 {
                s += q * (q / m).ln();
            }
        }
        (s / 2.0).sqrt()
    }
}

/// `sqrt(Σ (u − v)² / V)` pair by pair, for variances with zeros or infinities (positive
/// finite ones go through a scaled euclidean kernel).
pub(crate) struct SEuclidean<'a> {
    pub v: &'a [f64],
}
impl PairMetric for SEuclidean<'_> {
    #[inline(always)]
    fn dist(&self, a: &[f64], b: &[f64]) -> f64 {
        a.iter()
            .zip(b)
            .zip(self.v)
            .map(|((&x, &y), &v)| (x - y) * (x - y) / v)
            .sum::<f64>()
            .sqrt()
    }
}

/// Fraction of unequal components (numeric inputs; bool inputs use the bit kernels).
pub(crate) struct Hamming;
impl PairMetric for Hamming {
    #[inline(always)]
    fn dist(&self, a: &[f64], b: &[f64]) -> f64 {
        let s = lane_sum(a, b, |x, y| if x != y { 1.0 } else { 0.0 });
        s / a.len() as f64
    }
}

/// `sqrt((u − v)ᵀ · VI · (u − v))` pair by pair, for a `VI` that is not positive definite
/// (a positive definite one goes through a Cholesky transform and the euclidean kernel).
pub(crate) struct Mahalanobis<'a> {
    pub vi: &'a [f64],
}
impl PairMetric for Mahalanobis<'_> {
    #[inline(always)]
    fn dist(&self, a: &[f64], b: &[f64]) -> f64 {
        let d = a.len();
        let mut s = 0.0;
        for (r, vrow) in self.vi.chunks_exact(d.max(1)).take(d).enumerate() {
            let dr = a[r] - b[r];
            let row: f64 = vrow
                .iter()
                .zip(a.iter().zip(b))
                .map(|(&v, (&x, &y))| v * (x - y))
                .sum();
            s += dr * row;
        }
        s.sqrt()
    }
}

#[inline(always)]
fn rows_body<M: PairMetric>(metric: &M, a: &[f64], b: &[f64], d: usize, out: &mut [f64]) {
    if d == 0 {
        out.fill(metric.dist(&[], &[]));
        return;
    }
    for (o, bj) in out.iter_mut().zip(b.chunks_exact(d)) {
        *o = metric.dist(a, bj);
    }
}

dispatched! {
    /// `out[j] = metric(a, b[j])` for the rows `b[j]` of `b` (`d` columns).
    fn rows<M: PairMetric>(metric: &M, a: &[f64], b: &[f64], d: usize, out: &mut [f64]) => rows_body
}

/// All pairs of rows of `xa` (n × d) and `xb` (m × d), row-major float64, into `sink`; for a
/// condensed sink `xb` is `xa` and only `j > i` is computed.
///
/// # Safety
/// The sink is `n × m` (or condensed over n), exclusively the caller's.
pub(crate) unsafe fn run_pairs<M: PairMetric, O: Element>(
    metric: &M,
    xa: &[f64],
    xb: &[f64],
    d: usize,
    n: usize,
    m: usize,
    sink: Sink<O>,
) {
    let body = |i: usize| {
        let a = &xa[i * d..][..d];
        let j0 = if sink.is_condensed() { i + 1 } else { 0 };
        let mut out = vec![0.0; m - j0.min(m)];
        rows(metric, a, &xb[j0 * d..], d, &mut out);
        // SAFETY: row i, columns j0 .. m are inside the sink; rows go to one task each.
        unsafe { sink.put_row(i, j0, &out, &Post::Identity) };
    };
    if n * m * d.max(1) < 1 << 15 {
        (0..n).for_each(body);
    } else {
        (0..n).into_par_iter().with_min_len(4).for_each(body);
    }
}
