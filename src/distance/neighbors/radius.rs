//! Radius neighbours without materialising the distance matrix: each block of distances
//! (see `fused`) is folded into per-row lists of the columns within the radius, or counts.

use super::blocks::{Block, fold_blocks};
use crate::array::NdArray;
use crate::distance::job::Job;
use crate::distance::spec::MetricSpec;
use crate::error::{Error, Result};

/// For each row `i` of `xa`, the rows of `xb` within the radius, in compressed sparse row
/// form (SciPy's CSR): their indices are `indices[indptr[i] .. indptr[i + 1]]`, in increasing
/// order, and their distances the same range of `distances`.
#[derive(Debug)]
pub struct RadiusNeighbors {
    /// int64, length `n + 1`, from 0 to the number of pairs found.
    pub indptr: NdArray,
    /// int64, one per pair found.
    pub indices: NdArray,
    /// float64, one per pair found.
    pub distances: NdArray,
}

/// scikit-learn's `NearestNeighbors(radius=r, algorithm='brute', metric=...).fit(xb)
/// .radius_neighbors(xa)`: the rows of `xb` at distance `<= radius` from each row of `xa`
/// (NaN distances never are), in index order (scikit-learn's `sort_results=False`).
///
/// ```
/// use ndstride::{NdArray, distance::{radius_neighbors, CdistOptions, Metric}};
/// let xb = NdArray::from_vec(vec![0.0, 10.0, 1.0, 3.0], &[4, 1])?;
/// let xa = NdArray::from_vec(vec![2.0f64, 20.0], &[2, 1])?;
/// let r = radius_neighbors(&xa, &xb, 1.0, (&Metric::Cityblock, &CdistOptions::new()))?;
/// assert_eq!(r.indptr.to_vec::<i64>()?, vec![0, 2, 2]); // row 1 has none
/// assert_eq!(r.indices.to_vec::<i64>()?, vec![2, 3]);
/// assert_eq!(r.distances.to_vec::<f64>()?, vec![1.0, 1.0]);
/// # Ok::<(), ndstride::Error>(())
/// ```
pub fn radius_neighbors<'a>(
    xa: &NdArray,
    xb: &NdArray,
    radius: f64,
    metric: impl Into<MetricSpec<'a>>,
) -> Result<RadiusNeighbors> {
    let found = per_row_within(xa, xb, radius, metric, Vec::new(), |list, j, dist| {
        list.push((j, dist))
    })?;
    let n = found.len();
    let mut indptr = Vec::with_capacity(n + 1);
    indptr.push(0i64);
    let (mut indices, mut distances) = (Vec::new(), Vec::new());
    for list in found {
        for (j, dist) in list {
            indices.push(j);
            distances.push(dist);
        }
        indptr.push(indices.len() as i64);
    }
    let nnz = indices.len();
    Ok(RadiusNeighbors {
        indptr: NdArray::from_vec(indptr, &[n + 1])?,
        indices: NdArray::from_vec(indices, &[nnz])?,
        distances: NdArray::from_vec(distances, &[nnz])?,
    })
}

/// The number of rows of `xb` within `radius` (`<=`) of each row of `xa`: int64, length `n`;
/// [`radius_neighbors`] without storing the pairs.
pub fn radius_count<'a>(
    xa: &NdArray,
    xb: &NdArray,
    radius: f64,
    metric: impl Into<MetricSpec<'a>>,
) -> Result<NdArray> {
    let counts = per_row_within(xa, xb, radius, metric, 0i64, |count, _, _| *count += 1)?;
    let n = counts.len();
    NdArray::from_vec(counts, &[n])
}

/// For each row of `xa`, `empty` with `add(state, j, distance)` applied to each row `j` of
/// `xb` within `radius`, in index order.
fn per_row_within<'a, S: Clone + Send + Sync>(
    xa: &NdArray,
    xb: &NdArray,
    radius: f64,
    metric: impl Into<MetricSpec<'a>>,
    empty: S,
    add: impl Fn(&mut S, i64, f64) + Sync,
) -> Result<Vec<S>> {
    let spec = metric.into();
    check_radius(radius)?;
    let init = |rows: std::ops::Range<usize>| vec![empty.clone(); rows.len()];
    let fold = |states: &mut Vec<S>, block: &Block<'_>| {
        for (r, state) in states.iter_mut().enumerate() {
            for (j, &dist) in block.row(r).iter().enumerate() {
                if dist <= radius {
                    add(state, (block.c0 + j) as i64, dist);
                }
            }
        }
    };
    let job = Job::cdist(xa, xb, spec.metric(), spec.opts())?.for_blocks();
    Ok(fold_blocks(&job, init, fold)?.concat())
}

fn check_radius(radius: f64) -> Result<()> {
    if radius.is_nan() {
        return Err(Error::invalid("radius is NaN"));
    }
    Ok(())
}
