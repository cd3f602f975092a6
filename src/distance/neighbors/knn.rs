//! k nearest neighbours without materialising the distance matrix: each block of distances
//! (see `blocks`) is folded into per-row top-k lists ([`TopK`]) at once.
//!
//! Ties are broken by the lower index, as scikit-learn's brute-force search does; NaN
//! distances (NaN inputs) rank after every number.

use super::blocks::{Block, fold_blocks};
use super::matmul_knn;
use super::top_k::TopK;
use crate::array::NdArray;
use crate::distance::backend::Cuda;
use crate::distance::input::cdist_dims;
use crate::distance::job::Job;
use crate::distance::metric::Metric;
use crate::distance::options::CdistOptions;
use crate::distance::spec::MetricSpec;
use crate::error::{Error, Result};

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
    let job = Job::cdist(xa, xb, metric, opts)?;
    let n = job.n;
    let neighbors = |(indices, distances): (Vec<i64>, Vec<f64>)| -> Result<Neighbors> {
        Ok(Neighbors {
            indices: NdArray::from_vec(indices, &[n, k])?,
            distances: NdArray::from_vec(distances, &[n, k])?,
        })
    };
    // The fused GPU kernel where the route says so.
    if let Some(found) = job.try_gpu(|| Cuda.knn(&job, k))? {
        return neighbors(found);
    }
    let job = job.on_cpu();
    if let Some(found) = matmul_knn::search(&job, k)? {
        return neighbors(found);
    }
    // Euclidean ranks as sqeuclidean does (the square root is monotone), so the blocks
    // skip the root and only the k survivors take it (scikit-learn ranks the same way;
    // BENCHMARKS.md, "Measurements behind choices in the code").
    let (ranked, root) = match &*job.metric {
        Metric::Euclidean => (Some(Metric::SqEuclidean), true),
        _ => (None, false),
    };
    let job = match &ranked {
        Some(sq) => job.with_metric(sq)?,
        None => job,
    };
    let init = |rows: std::ops::Range<usize>| vec![TopK::new(k); rows.len()];
    let fold = |best: &mut Vec<TopK>, block: &Block<'_>| {
        for (r, list) in best.iter_mut().enumerate() {
            list.offer_row(block.c0, block.row(r));
        }
    };
    let states = fold_blocks(&job, init, fold)?;
    let mut indices = Vec::with_capacity(n * k);
    let mut distances = Vec::with_capacity(n * k);
    for (dist, idx) in states.into_iter().flatten().flat_map(TopK::into_entries) {
        distances.push(if root { dist.sqrt() } else { dist });
        indices.push(idx);
    }
    neighbors((indices, distances))
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
