//! k nearest neighbours for sqeuclidean and euclidean under [`Strategy::MatmulTrick`], fused:
//! per task of rows of `xa`, blocks `G = A·Bᵀ` of a few hundred kilobytes come from the GEMM
//! (one thread, L2-resident) and each row's distances `‖a‖² + ‖b‖² − 2g` are folded into its
//! top-k list straight from there; nothing the size of the distance block ever reaches memory.
//! This is faiss's `IndexFlatL2` method.
//!
//! The trick cancels (see [`Strategy::MatmulTrick`]), so the k survivors' distances are then
//! computed exactly, in float64, from the rows, and the list re-sorted by them (ties to the
//! lower index): the distances reported are exact, and only a neighbour whose trick distance
//! is within the trick's error of the k-th can differ from the exact search's.
//!
//! [`Strategy::MatmulTrick`]: super::Strategy::MatmulTrick

use rayon::prelude::*;

use super::top_k::TopK;
use crate::Order;
use crate::array::NdArray;
use crate::cpu::dispatched;
use crate::distance::input::compute_dtype;
use crate::distance::job::Job;
use crate::distance::metric::Metric;
use crate::distance::options::{CdistOptions, Strategy};
use crate::dtype::{DType, Element};
use crate::error::Result;
use crate::linalg::pack::MatRef;
use crate::linalg::{GemmFloat, MatMut, gemm};

/// Rows of `xa` per task and rows of `xb` per GEMM block: a 256 × 1024 float32 block of G is
/// 1 MiB, inside L2 beside the packed panels (the best of the shapes tried:
/// BENCHMARKS.md, "Measurements behind choices in the code").
const ROWS: usize = 256;
const COLS: usize = 1024;

/// The fused search of a cdist job, where it applies (the matmul strategy, sqeuclidean or
/// euclidean): `(indices, distances)`, row-major `n × k`; `None` sends the caller to the
/// general block driver.
pub(crate) fn search(job: &Job<'_>, k: usize) -> Result<Option<(Vec<i64>, Vec<f64>)>> {
    let root = match &*job.metric {
        Metric::SqEuclidean => false,
        Metric::Euclidean => true,
        _ => return Ok(None),
    };
    let (xa, xb, opts) = (&job.xa, job.xb(), job.opts);
    if opts.strategy != Strategy::MatmulTrick {
        return Ok(None);
    }
    Ok(Some(
        match compute_dtype(xa, Some(xb), opts.accumulate_f64) {
            DType::F32 => search_in::<f32>(xa, xb, k, root, opts)?,
            _ => search_in::<f64>(xa, xb, k, root, opts)?,
        },
    ))
}

/// [`search`] in the compute type `T`.
fn search_in<T: GemmFloat + bytemuck::Pod>(
    xa: &NdArray,
    xb: &NdArray,
    k: usize,
    root: bool,
    opts: &CdistOptions,
) -> Result<(Vec<i64>, Vec<f64>)> {
    let (n, m, d) = (xa.shape()[0], xb.shape()[0], xa.shape()[1]);
    // Packed row-major copies in the compute type (the GEMM packs its panels from these).
    let a = xa.astype(T::DTYPE)?.to_contiguous(Order::C);
    let b = xb.astype(T::DTYPE)?.to_contiguous(Order::C);
    // Bᵀ (d × m, row-major) once, so that the GEMM packs B's panels from unit-stride rows
    // (packing from the m × d rows is a gather; BENCHMARKS.md, "Measurements behind choices in the code").
    let bt = b.t().to_contiguous(Order::C);
    let (av, bv, btv) = (a.view::<T>()?, b.view::<T>()?, bt.view::<T>()?);
    let empty: &[T] = &[];
    let (a_rows, b_rows) = (
        av.as_slice().unwrap_or(empty),
        bv.as_slice().unwrap_or(empty),
    );
    let b_t = btv.as_slice().unwrap_or(empty);
    let sq_norm = |r: &[T]| -> T {
        let s: f64 = r
            .iter()
            .map(|&v| Element::to_f64(v) * Element::to_f64(v))
            .sum();
        <T as Element>::from_f64(s)
    };
    let na: Vec<T> = (0..n)
        .map(|i| sq_norm(&a_rows[i * d..(i + 1) * d]))
        .collect();
    let nb: Vec<T> = (0..m)
        .map(|j| sq_norm(&b_rows[j * d..(j + 1) * d]))
        .collect();
    let task = |t: usize| -> Vec<(f64, i64)> {
        let rows = t * ROWS..((t + 1) * ROWS).min(n);
        let r = rows.len();
        let mut best = vec![TopK::new(k); r];
        let mut g = vec![T::zero(); r * COLS.min(m)];
        for c0 in (0..m).step_by(COLS) {
            let w = COLS.min(m - c0);
            // SAFETY: A is rows `rows` of the packed n × d copy, B is columns c0 .. c0 + w of
            // the packed d × m transpose (element (p, j) at p·m + c0 + j), and G is this
            // task's own r × w buffer, disjoint from both; all outlive the call.
            unsafe {
                gemm(
                    r,
                    w,
                    d,
                    MatRef {
                        ptr: a_rows.as_ptr().add(rows.start * d),
                        rs: d as isize,
                        cs: 1,
                    },
                    MatRef {
                        ptr: b_t.as_ptr().add(c0),
                        rs: m as isize,
                        cs: 1,
                    },
                    MatMut {
                        ptr: g.as_mut_ptr(),
                        rs: w as isize,
                        cs: 1,
                    },
                    1,
                )
            };
            for (li, list) in best.iter_mut().enumerate() {
                let ni = na[rows.start + li];
                offer_trick_row_dispatched(list, c0, ni, &nb[c0..c0 + w], &g[li * w..(li + 1) * w]);
            }
        }
        // The survivors' exact distances, re-sorted.
        let mut out = Vec::with_capacity(r * k);
        for (li, mut list) in best.into_iter().enumerate() {
            let ai = &a_rows[(rows.start + li) * d..][..d];
            list.rescore(|_, j| {
                let bj = &b_rows[j as usize * d..][..d];
                let exact: f64 = ai
                    .iter()
                    .zip(bj)
                    .map(|(&x, &y)| (Element::to_f64(x) - Element::to_f64(y)).powi(2))
                    .sum();
                if root { exact.sqrt() } else { exact }
            });
            out.extend(list.into_entries());
        }
        out
    };
    let tasks = n.div_ceil(ROWS);
    // One task runs here: waking the pool costs more (and Miri runs this without it).
    let lists: Vec<Vec<(f64, i64)>> = opts.run(|| {
        if tasks <= 1 {
            (0..tasks).map(task).collect()
        } else {
            (0..tasks).into_par_iter().map(task).collect()
        }
    })?;
    let mut indices = Vec::with_capacity(n * k);
    let mut distances = Vec::with_capacity(n * k);
    for (dist, idx) in lists.into_iter().flatten() {
        distances.push(dist);
        indices.push(idx);
    }
    Ok((indices, distances))
}

/// The float types of the fold (one bound, for `dispatched!`).
trait TrickFloat: Element + num_traits::Float {}
impl<T: Element + num_traits::Float> TrickFloat for T {}

dispatched! {
    /// [`offer_trick_row`] compiled for the running CPU (the screening loop vectorises to its
    /// width).
    fn offer_trick_row_dispatched<T: TrickFloat>(list: &mut TopK, c0: usize, na: T, nb: &[T], g: &[T]) => offer_trick_row
}

/// Folds one row's trick distances `max(0, ‖a‖² + ‖b_j‖² − 2·g_j)` (NaN stays NaN and ranks
/// last) to columns `c0 ..` into its top-k list. Once the list is full, a column is looked at
/// only when `‖b_j‖² − 2·g_j` is at most the worst kept distance minus `‖a‖²`, with a few
/// ulps to spare for the two sides' rounding: one subtraction and one comparison per pair.
#[inline(always)]
fn offer_trick_row<T: TrickFloat>(list: &mut TopK, c0: usize, na: T, nb: &[T], g: &[T]) {
    let two = T::one() + T::one();
    let dist = |j: usize| -> f64 {
        let v = na + nb[j] - two * g[j];
        if v.is_nan() {
            f64::NAN
        } else {
            Element::to_f64(v.max(T::zero()))
        }
    };
    let w = g.len();
    let mut j = 0;
    // Until the list is full, or while its worst entry is NaN, every candidate is offered.
    while j < w && list.takes_any() {
        list.offer(dist(j), (c0 + j) as i64);
        j += 1;
    }
    if j == w {
        return;
    }
    let slack = T::epsilon() * <T as Element>::from_f64(8.0);
    let threshold = |bound: f64| -> T {
        let b = <T as Element>::from_f64(bound);
        b - na + (b.abs() + na.abs()) * slack
    };
    let mut bound = list.bound();
    let mut thr = threshold(bound);
    // Chunks of 16 columns are screened with a branch-free test that vectorises; almost
    // every chunk has no candidate once the list holds the row's near neighbours.
    const CHUNK: usize = 16;
    let mut jj = j;
    while jj < w {
        let end = (jj + CHUNK).min(w);
        if end - jj == CHUNK {
            let (nbc, gc) = (&nb[jj..end], &g[jj..end]);
            let mut hit = false;
            for c in 0..CHUNK {
                hit |= nbc[c] - two * gc[c] <= thr;
            }
            if !hit {
                jj = end;
                continue;
            }
        }
        for c in jj..end {
            if nb[c] - two * g[c] <= thr {
                let v = dist(c);
                if v < bound {
                    list.offer(v, (c0 + c) as i64);
                    bound = list.bound();
                    thr = threshold(bound);
                }
            }
        }
        jj = end;
    }
}

#[cfg(test)]
mod tests {
    //! Small enough for Miri, which checks the GEMM's pointers into the packed copies.
    use super::*;
    use crate::distance::backend::Route;

    /// The fused search on a job built as `knn` builds it, without the strategy's check of
    /// the metric (which would refuse cityblock under the matmul strategy before the search
    /// could decline it). The test predates jobs: it called the search with the arrays.
    fn knn_trick(
        xa: &NdArray,
        xb: &NdArray,
        k: usize,
        metric: &Metric,
        opts: &CdistOptions,
    ) -> Result<Option<(Vec<i64>, Vec<f64>)>> {
        let job = Job {
            xa: xa.clone(),
            xb: Some(xb.clone()),
            metric: std::borrow::Cow::Borrowed(metric),
            plan: std::borrow::Cow::Owned(crate::distance::plan::plan(metric, xa.shape()[1])?),
            opts,
            route: Route::Cpu(opts.strategy),
            n: xa.shape()[0],
            m: xb.shape()[0],
            d: xa.shape()[1],
        };
        search(&job, k)
    }

    #[test]
    fn fused_search_matches_the_exact_one() {
        // Distinct distances: the trick's rounding cannot reorder them.
        let xa =
            NdArray::from_vec((0..15).map(|v| (v * v % 11) as f64).collect(), &[5, 3]).unwrap();
        let xb = NdArray::from_vec(
            (0..21).map(|v| (v * 7 % 13) as f64 * 0.5).collect(),
            &[7, 3],
        )
        .unwrap();
        for dtype in [DType::F64, DType::F32] {
            let (a, b) = (xa.astype(dtype).unwrap(), xb.astype(dtype).unwrap());
            let trick = CdistOptions::new().strategy(Strategy::MatmulTrick);
            let (got_indices, g) = knn_trick(&a, &b, 3, &Metric::Euclidean, &trick)
                .unwrap()
                .unwrap();
            let want = crate::distance::knn(&a, &b, 3, &Metric::Euclidean).unwrap();
            assert_eq!(got_indices, want.indices.to_vec::<i64>().unwrap());
            let w = want.distances.to_vec_f64().unwrap();
            for (x, y) in g.iter().zip(&w) {
                assert!((x - y).abs() <= 1e-6 * y.max(1.0), "{x} vs {y}");
            }
        }
        // Not this path's metric or strategy: the caller's general driver takes it.
        let simd = CdistOptions::new();
        assert!(
            knn_trick(&xa, &xb, 3, &Metric::Euclidean, &simd)
                .unwrap()
                .is_none()
        );
        let trick = CdistOptions::new().strategy(Strategy::MatmulTrick);
        assert!(
            knn_trick(&xa, &xb, 3, &Metric::Cityblock, &trick)
                .unwrap()
                .is_none()
        );
    }
}
