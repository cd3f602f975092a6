//! k nearest neighbours without materialising the distance matrix: each block of distances
//! (see `fused`) is folded into per-row top-k lists at once.
//!
//! Ties are broken by the lower index, as scikit-learn's brute-force search does; NaN
//! distances (NaN inputs) rank after every number.

use super::fused::{Block, fold_blocks};
use super::input::cdist_dims;
use super::knn_trick;
use super::metric::Metric;
use super::options::CdistOptions;
use super::spec::MetricSpec;
use crate::array::NdArray;
use crate::error::{Error, Result};
use crate::sort::select::offer;

/// The `k` nearest rows of `xb` for every row of `xa`: `indices` (int64, `n × k`) and
/// `distances` (float64, `n × k`), nearest first.
#[derive(Debug)]
pub struct Neighbors {
    pub indices: NdArray,
    pub distances: NdArray,
}

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
pub fn knn<'a>(
    xa: &NdArray,
    xb: &NdArray,
    k: usize,
    metric: impl Into<MetricSpec<'a>>,
) -> Result<Neighbors> {
    let spec = metric.into();
    knn_with(xa, xb, k, spec.metric(), spec.opts())
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
    let m = cdist_dims(xa, xb)?.1;
    if k == 0 || k > m {
        return Err(Error::invalid(format!(
            "knn: k must be between 1 and the number of rows of xb ({m}); got k = {k}"
        )));
    }
    metric.validate(xa.shape()[1])?;
    if let Some(found) = on_gpu(xa, xb, k, metric, opts)? {
        return Ok(found);
    }
    if let Some(found) = knn_trick::knn_trick(xa, xb, k, metric, opts)? {
        return Ok(found);
    }
    // Euclidean ranks as sqeuclidean does (the square root is monotone), so the blocks
    // skip the root and only the k survivors take it (25% faster at d = 64; scikit-learn
    // ranks the same way).
    let (ranked, root) = match metric {
        Metric::Euclidean => (Metric::SqEuclidean, true),
        other => (other.clone(), false),
    };
    let init = |rows: std::ops::Range<usize>| vec![Vec::with_capacity(k + 1); rows.len()];
    let fold = |best: &mut Vec<Vec<(f64, i64)>>, block: &Block<'_>| {
        for (r, list) in best.iter_mut().enumerate() {
            fold_row(list, k, block.c0, block.row(r));
        }
    };
    let (states, n, _) = fold_blocks(xa, xb, &ranked, opts, init, fold)?;
    let mut indices = Vec::with_capacity(n * k);
    let mut distances = Vec::with_capacity(n * k);
    for (dist, idx) in states.into_iter().flatten().flatten() {
        distances.push(if root { dist.sqrt() } else { dist });
        indices.push(idx);
    }
    Ok(Neighbors {
        indices: NdArray::from_vec(indices, &[n, k])?,
        distances: NdArray::from_vec(distances, &[n, k])?,
    })
}

/// The neighbours from the fused GPU kernel where the options' backend says so (as cdist
/// decides: `Cuda` always, `Auto` for large problems when a GPU is present, falling back to
/// the CPU on any GPU failure); `None`: search on the CPU.
fn on_gpu(
    xa: &NdArray,
    xb: &NdArray,
    k: usize,
    metric: &Metric,
    opts: &CdistOptions,
) -> Result<Option<Neighbors>> {
    use super::options::Backend;
    if opts.backend == Backend::Cpu {
        return Ok(None);
    }
    #[cfg(feature = "cuda")]
    {
        let (n, m, d) = cdist_dims(xa, xb)?;
        let go = || -> Result<Neighbors> {
            let resolved = super::stats::with_defaults(metric, xa, Some(xb), d)?;
            let (indices, distances) = super::cuda::knn(xa, xb, k, &resolved, opts)?;
            Ok(Neighbors {
                indices: NdArray::from_vec(indices, &[n, k])?,
                distances: NdArray::from_vec(distances, &[n, k])?,
            })
        };
        match opts.backend {
            Backend::Cuda => go().map(Some),
            _ if super::cuda::auto_picks_gpu(metric, n, m, d) => Ok(go().ok()),
            _ => Ok(None),
        }
    }
    #[cfg(not(feature = "cuda"))]
    {
        let _ = (xa, xb, k, metric);
        match opts.backend {
            Backend::Cuda => Err(Error::Cuda(
                "this build of ndstride has no CUDA support (cargo feature `cuda`)".into(),
            )),
            _ => Ok(None),
        }
    }
}

/// Folds one row's distances to columns `c0 ..` into its top-k list.
fn fold_row(list: &mut Vec<(f64, i64)>, k: usize, c0: usize, row: &[f64]) {
    let w = row.len();
    let mut c = 0;
    // Until the list is full, or while its worst entry is NaN, every candidate is offered.
    while c < w && (list.len() < k || list[k - 1].0.is_nan()) {
        offer(list, k, row[c], (c0 + c) as i64);
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
        if dist < bound {
            offer(list, k, dist, (c0 + j) as i64);
            bound = list[k - 1].0;
        }
    }
}

/// scikit-learn's `pairwise_distances_argmin_min(xa, xb, metric)`: for each row of `xa`, the
/// index of the nearest row of `xb` (int64, length `n`) and its distance (float64) — cuVS's
/// fused L2 nearest neighbour, for any metric. Ties go to the lower index; a row whose
/// distances are all NaN gets index 0 and NaN.
///
/// ```
/// use ndstride::{NdArray, distance::{argmin_min, CdistOptions, Metric}};
/// let xb = NdArray::from_vec(vec![0.0, 10.0, 4.0], &[3, 1])?;
/// let xa = NdArray::from_vec(vec![9.0f64, 1.0, 2.0], &[3, 1])?;
/// let (idx, dist) = argmin_min(&xa, &xb, (&Metric::Euclidean, &CdistOptions::new()))?;
/// assert_eq!(idx.to_vec::<i64>()?, vec![1, 0, 0]); // 2 is as far from 0 as from 4
/// assert_eq!(dist.to_vec::<f64>()?, vec![1.0, 1.0, 2.0]);
/// # Ok::<(), ndstride::Error>(())
/// ```
pub fn argmin_min<'a>(
    xa: &NdArray,
    xb: &NdArray,
    metric: impl Into<MetricSpec<'a>>,
) -> Result<(NdArray, NdArray)> {
    let spec = metric.into();
    let (metric, opts) = (spec.metric(), spec.opts());
    let m = cdist_dims(xa, xb)?.1;
    if m == 0 {
        return Err(Error::invalid(
            "argmin_min: xb has no rows, so no row of xa has a nearest one",
        ));
    }
    let nn = knn_with(xa, xb, 1, metric, opts)?;
    let n = nn.indices.shape()[0];
    Ok((nn.indices.reshape(&[n])?, nn.distances.reshape(&[n])?))
}
