//! Metrics without a register-blocked kernel: one pair at a time over contiguous float64 rows,
//! in eight independent lanes so that the loops vectorise, compiled per instruction set; and
//! the threaded row driver that all pair-at-a-time metrics share.

use rayon::prelude::*;

use super::lanes::{LANES, lane_sum, pow_nonnegative};
use crate::cpu::dispatched;
use crate::distance::output::{OutputRows, Post, Root};
use crate::dtype::Element;

/// A distance between two equal-length float64 rows.
pub(crate) trait PairMetric: Sync {
    fn dist(&self, a: &[f64], b: &[f64]) -> f64;

    /// A last step over a row of results from [`dist`](Self::dist), for a step that
    /// vectorises over a row and not pair by pair.
    #[inline(always)]
    fn finish_row(&self, _out: &mut [f64]) {}
}

/// Minkowski without a power-sum kernel (`p` not an integer from 3 to 8):
/// `(Σ|u − v|^p)^(1/p)` with a vectorised `exp(p·ln|t|)`, the roots taken row by row.
/// Weights are applied to the rows beforehand (`w^(1/p)·u`).
pub(crate) struct Minkowski {
    pub p: f64,
}
impl PairMetric for Minkowski {
    #[inline(always)]
    fn dist(&self, a: &[f64], b: &[f64]) -> f64 {
        // The powers are mapped over a block into a buffer, then summed: LLVM's loop
        // vectoriser takes the plain map, while in the eight-lane body of `lane_sum` the
        // power stayed scalar (BENCHMARKS.md, "Issue 23 on an AVX-512 Xeon"). Blocks are
        // whole lane groups, so the sum's order is `lane_sum`'s.
        const BLOCK: usize = 8 * LANES;
        let mut powers = [0.0; BLOCK];
        let mut acc = [0.0; LANES];
        let mut tail = 0.0;
        for (a, b) in a.chunks(BLOCK).zip(b.chunks(BLOCK)) {
            let powers = &mut powers[..a.len()];
            for ((t, &x), &y) in powers.iter_mut().zip(a).zip(b) {
                *t = pow_nonnegative((x - y).abs(), self.p);
            }
            let (groups, rest) = powers.as_chunks::<LANES>();
            for g in groups {
                for l in 0..LANES {
                    acc[l] += g[l];
                }
            }
            tail += rest.iter().sum::<f64>();
        }
        acc.iter().sum::<f64>() + tail
    }

    #[inline(always)]
    fn finish_row(&self, out: &mut [f64]) {
        let root = Root::of(self.p);
        for v in out {
            *v = root.apply(*v);
        }
    }
}

/// Weighted Chebyshev (minkowski with `p = inf` and weights): the largest `|u − v|` over the
/// features with nonzero weight.
pub(crate) struct WeightedChebyshev<'a> {
    pub w: &'a [f64],
}
impl PairMetric for WeightedChebyshev<'_> {
    #[inline(always)]
    fn dist(&self, a: &[f64], b: &[f64]) -> f64 {
        let mut best = 0.0f64;
        for ((&x, &y), &w) in a.iter().zip(b).zip(self.w) {
            let t = (x - y).abs();
            if w > 0.0 && t > best {
                best = t;
            }
        }
        best
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
    } else {
        for (o, bj) in out.iter_mut().zip(b.chunks_exact(d)) {
            *o = metric.dist(a, bj);
        }
    }
    metric.finish_row(out);
}

dispatched! {
    /// `out[j] = metric(a, b[j])` for the rows `b[j]` of `b` (`d` columns).
    fn rows<M: PairMetric>(metric: &M, a: &[f64], b: &[f64], d: usize, out: &mut [f64]) => rows_body
}

/// All pairs of rows of `xa` (n × d) and `xb` (m × d), row-major float64, into `out`; for a
/// condensed output `xb` is `xa` and only `j > i` is computed.
pub(crate) fn run_pairs<M: PairMetric, O: Element>(
    metric: &M,
    xa: &[f64],
    xb: &[f64],
    d: usize,
    out: OutputRows<'_, O>,
) {
    let row = |i: usize, j0: usize, out: &mut [f64]| {
        rows(metric, &xa[i * d..][..d], &xb[j0 * d..], d, out);
    };
    run_rows(d, d * 8, out, &ByRow(row));
}

/// Distances from rows of a first operand to runs of rows of a second, for [`run_rows`].
pub(crate) trait RowKernel: Sync {
    /// `out[k]` = the distance from row `i` to row `j + k`.
    fn row(&self, i: usize, j: usize, out: &mut [f64]);

    /// Rows `i` and `i + 1` against the same rows `j ..`; a kernel that can share its loads
    /// between the two overrides this.
    fn two_rows(&self, i: usize, j: usize, out0: &mut [f64], out1: &mut [f64]) {
        self.row(i, j, out0);
        self.row(i + 1, j, out1);
    }
}

/// A [`RowKernel`] from a closure `(i, j, out)`.
pub(crate) struct ByRow<F>(pub F);
impl<F: Fn(usize, usize, &mut [f64]) + Sync> RowKernel for ByRow<F> {
    fn row(&self, i: usize, j: usize, out: &mut [f64]) {
        (self.0)(i, j, out)
    }
}

/// Fills `out` (`n × m`, or condensed) in tiles through `kernel` (only `j > i` for a
/// condensed output). A task takes `TASK_ROWS` rows, two at a time; it walks the second
/// operand in blocks of about 12 KiB (`bytes_per_row` each) so that a block stays in L1 while
/// the task's rows pass over it. Small problems (`n·m·d` below about 2¹⁵) stay on the
/// calling thread.
pub(crate) fn run_rows<O: Element, K: RowKernel>(
    d: usize,
    bytes_per_row: usize,
    out: OutputRows<'_, O>,
    kernel: &K,
) {
    const TASK_ROWS: usize = 16;
    let (n, m) = (out.rows().len(), out.width());
    if m == 0 {
        return;
    }
    let block = (12 << 10) / bytes_per_row.max(1);
    let block = (block / 4 * 4).clamp(4, m.max(4));
    let task = |mut rows_out: OutputRows<'_, O>| {
        let rows = rows_out.rows();
        let i0 = rows.start;
        let condensed = rows_out.is_condensed();
        let first_col = |i: usize| if condensed { (i + 1).min(m) } else { 0 };
        let fill = |outs: &mut [&mut [f64]]| {
            for jb in (0..m).step_by(block) {
                let je = (jb + block).min(m);
                let mut i = i0;
                for pair in outs.chunks_mut(2) {
                    let (j0, j1) = (jb.max(first_col(i)), jb.max(first_col(i + 1)));
                    match pair {
                        [a, b] if j1 < je => {
                            // Row i may start one column before row i + 1 (condensed).
                            let (f0, f1) = (first_col(i), first_col(i + 1));
                            if j0 < j1 {
                                kernel.row(i, j0, &mut a[j0 - f0..j1 - f0]);
                            }
                            kernel.two_rows(
                                i,
                                j1,
                                &mut a[j1 - f0..je - f0],
                                &mut b[j1 - f1..je - f1],
                            );
                        }
                        _ => {
                            for (r, out) in pair.iter_mut().enumerate() {
                                let js = jb.max(first_col(i + r));
                                if js < je {
                                    let f = first_col(i + r);
                                    kernel.row(i + r, js, &mut out[js - f..je - f]);
                                }
                            }
                        }
                    }
                    i += 2;
                }
            }
        };
        // Each row's output: the output's own memory where it is contiguous float64, else
        // buffers stored at the end.
        let buffered = match rows_out.row_slices_f64() {
            Some(mut outs) => {
                fill(&mut outs);
                false
            }
            None => true,
        };
        if buffered {
            let mut owned: Vec<Vec<f64>> =
                rows.clone().map(|i| vec![0.0; m - first_col(i)]).collect();
            fill(
                &mut owned
                    .iter_mut()
                    .map(|v| v.as_mut_slice())
                    .collect::<Vec<_>>(),
            );
            for (i, row) in rows.zip(&owned) {
                rows_out.put_row(i, first_col(i), row, &Post::Identity);
            }
        }
    };
    let blocks = out.into_blocks(TASK_ROWS);
    if n * m * d.max(1) < 1 << 15 {
        blocks.into_iter().for_each(task);
    } else {
        blocks.into_par_iter().for_each(task);
    }
}
