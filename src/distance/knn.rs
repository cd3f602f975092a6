//! k nearest neighbours without materialising the distance matrix: blocks of rows of `xa`
//! against blocks of rows of `xb` through [`cdist_into`] (any metric and strategy), each
//! block's distances folded into per-row top-k lists at once, so the working memory is one
//! block (12 MiB) per thread rather than `n × m`.
//!
//! Ties are broken by the lower index, as scikit-learn's brute-force search does; NaN
//! distances (NaN inputs) rank after every number.

use rayon::prelude::*;

use super::entry::cdist_into;
use super::input::cdist_dims;
use super::metric::Metric;
use super::options::CdistOptions;
use super::stats;
use crate::array::NdArray;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::s;

/// The `k` nearest rows of `xb` for every row of `xa`: `indices` (int64, `n × k`) and
/// `distances` (float64, `n × k`), nearest first.
#[derive(Debug)]
pub struct Neighbors {
    pub indices: NdArray,
    pub distances: NdArray,
}

/// Rows of `xa` per task and rows of `xb` per block (a 3072 × 512 float64 block is 12 MiB
/// per thread). The inner cdist cuts its rows into tasks of up to 192 and packs the `xb`
/// block once per task, so many rows per call keep the packing small beside the kernel:
/// with 256 rows per call, packing took 45% of the time.
const ROW_BLOCK: usize = 3072;
const COL_BLOCK: usize = 512;

/// `scikit-learn`'s `NearestNeighbors(n_neighbors=k, algorithm='brute', metric=...)
/// .fit(xb).kneighbors(xa)`: for each row of `xa` (`n × d`), the `k` nearest rows of `xb`
/// (`m × d`) under `metric`.
///
/// ```
/// use ndstride::{NdArray, distance::{knn, Metric}};
/// let xb = NdArray::from_vec(vec![0.0, 10.0, 1.0, 3.0], &[4, 1])?;
/// let xa = NdArray::from_vec(vec![2.0f64], &[1, 1])?;
/// let nn = knn(&xa, &xb, 2, &Metric::Cityblock)?;
/// assert_eq!(nn.indices.to_vec::<i64>()?, vec![2, 3]); // |2−1| = |2−3| = 1: lower index first
/// assert_eq!(nn.distances.to_vec::<f64>()?, vec![1.0, 1.0]);
/// # Ok::<(), ndstride::Error>(())
/// ```
pub fn knn(xa: &NdArray, xb: &NdArray, k: usize, metric: &Metric) -> Result<Neighbors> {
    knn_with(xa, xb, k, metric, &CdistOptions::default())
}

/// [`knn`] with [`CdistOptions`] (strategy, threads, float32 accumulation; the output dtype
/// option is ignored: distances are float64).
pub fn knn_with(
    xa: &NdArray,
    xb: &NdArray,
    k: usize,
    metric: &Metric,
    opts: &CdistOptions,
) -> Result<Neighbors> {
    let (n, m, d) = cdist_dims(xa, xb)?;
    if k == 0 || k > m {
        return Err(Error::invalid(format!(
            "knn: k must be between 1 and the number of rows of xb ({m}); got k = {k}"
        )));
    }
    metric.validate(d)?;
    let metric = with_defaults(metric, xa, xb, d)?;
    let inner = CdistOptions {
        threads: None,
        out_dtype: DType::F64,
        ..opts.clone()
    };
    let blocks: Vec<Result<Vec<(f64, i64)>>> = opts.run(|| {
        (0..n.div_ceil(ROW_BLOCK))
            .into_par_iter()
            .map(|b| {
                row_block(
                    xa,
                    xb,
                    k,
                    &metric,
                    &inner,
                    b * ROW_BLOCK..((b + 1) * ROW_BLOCK).min(n),
                    m,
                )
            })
            .collect()
    })?;
    let mut indices = Vec::with_capacity(n * k);
    let mut distances = Vec::with_capacity(n * k);
    for block in blocks {
        for (dist, idx) in block? {
            distances.push(dist);
            indices.push(idx);
        }
    }
    Ok(Neighbors {
        indices: NdArray::from_vec(indices, &[n, k])?,
        distances: NdArray::from_vec(distances, &[n, k])?,
    })
}

/// SciPy's data-derived defaults (seuclidean's V, mahalanobis's VI) from all of `xa` and
/// `xb`, as `cdist(xa, xb)` computes them, so that every block sees the same metric.
fn with_defaults(metric: &Metric, xa: &NdArray, xb: &NdArray, d: usize) -> Result<Metric> {
    Ok(match metric {
        Metric::SEuclidean { v: None } => Metric::SEuclidean {
            v: Some(stats::variance(&stats::stacked(xa, Some(xb))?, d)),
        },
        Metric::Mahalanobis { vi: None } => Metric::Mahalanobis {
            vi: Some(stats::inverse_covariance(
                &stats::stacked(xa, Some(xb))?,
                d,
            )?),
        },
        other => other.clone(),
    })
}

/// The top-k lists, `(distance, index)` nearest first, of rows `rows` of `xa`.
fn row_block(
    xa: &NdArray,
    xb: &NdArray,
    k: usize,
    metric: &Metric,
    opts: &CdistOptions,
    rows: std::ops::Range<usize>,
    m: usize,
) -> Result<Vec<(f64, i64)>> {
    let a = xa.slice(s![rows.start as isize..rows.end as isize, ..])?;
    let mut best: Vec<Vec<(f64, i64)>> = vec![Vec::with_capacity(k + 1); rows.len()];
    let mut block = NdArray::zeros(&[rows.len(), COL_BLOCK.min(m)], DType::F64)?;
    for c0 in (0..m).step_by(COL_BLOCK) {
        let c1 = (c0 + COL_BLOCK).min(m);
        let w = c1 - c0;
        if block.shape()[1] != w {
            block = NdArray::zeros(&[rows.len(), w], DType::F64)?;
        }
        let b = xb.slice(s![c0 as isize..c1 as isize, ..])?;
        // float64 blocks, so that the distances are exactly cdist's (some float32 paths
        // finish in float64, e.g. the square root).
        let mut view = block.view_mut::<f64>()?;
        cdist_into(&a, &b, metric, opts, &mut view)?;
        fold(&mut best, k, c0, w, view.as_slice())?;
    }
    Ok(best.into_iter().flatten().collect())
}

/// Folds a block of distances (rows of `w` columns from column `c0`) into the top-k lists.
fn fold<T: Copy + Into<f64>>(
    best: &mut [Vec<(f64, i64)>],
    k: usize,
    c0: usize,
    w: usize,
    values: Option<&[T]>,
) -> Result<()> {
    let values = values.ok_or_else(|| Error::invalid("knn: internal block not contiguous"))?;
    for (list, row) in best.iter_mut().zip(values.chunks_exact(w)) {
        let mut c = 0;
        // Until the list is full, or while its worst entry is NaN, every candidate is offered.
        while c < w && (list.len() < k || list[k - 1].0.is_nan()) {
            offer(list, k, row[c].into(), (c0 + c) as i64);
            c += 1;
        }
        // Then columns come in increasing index order, so a candidate enters only with a
        // distance strictly below the worst kept one: one comparison for almost every pair.
        let mut bound = if list.len() == k {
            list[k - 1].0
        } else {
            f64::INFINITY
        };
        for (j, &dist) in row.iter().enumerate().skip(c) {
            let dist: f64 = dist.into();
            if dist < bound {
                offer(list, k, dist, (c0 + j) as i64);
                bound = list[k - 1].0;
            }
        }
    }
    Ok(())
}

/// `a` ranks before `b`: smaller distance, NaN last, and on equal distances the lower index.
fn before(a: (f64, i64), b: (f64, i64)) -> bool {
    match (a.0.is_nan(), b.0.is_nan()) {
        (false, true) => true,
        (true, false) => false,
        (true, true) => a.1 < b.1,
        (false, false) => a.0 < b.0 || (a.0 == b.0 && a.1 < b.1),
    }
}

/// Inserts `(dist, idx)` into the sorted list of at most `k` if it ranks among the best.
#[inline]
fn offer(list: &mut Vec<(f64, i64)>, k: usize, dist: f64, idx: i64) {
    let item = (dist, idx);
    if list.len() == k && !before(item, list[k - 1]) {
        return;
    }
    let at = list.partition_point(|&x| before(x, item));
    list.insert(at, item);
    list.truncate(k);
}
