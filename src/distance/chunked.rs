//! The distance matrix block by block under a memory budget, each finished block of rows
//! handed on at once: to a callback (scikit-learn's `pairwise_distances_chunked`, or
//! `dask.delayed` over chunks without a scheduler) or to a `.npy` file on disk, so that a
//! matrix far larger than memory is produced with bounded resident memory.
//!
//! Two block buffers alternate: while the callback consumes block `b` (writes it to disk,
//! reduces it), the threads compute block `b + 1` into the other buffer.

use std::ops::Range;
use std::path::Path;

use super::entry::{DistanceOutput, check_out_dtype};
use super::input::cdist_dims;
use super::job::Job;
use super::metric::Metric;
use super::options::{CdistOptions, Strategy};
use super::output::OutputRows;
use crate::array::{ArrayView, NdArray};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::io::NpyWriter;
use crate::s;

/// The largest block handed on, in bytes (unless that leaves fewer than [`MIN_ROWS`] rows):
/// small enough that progress and cancellation stay responsive, large enough that the
/// per-block costs (converting or packing `xb`) stay small beside the block's work.
const TARGET_BLOCK_BYTES: usize = 64 << 20;
/// Rows per block below which the threads of the inner cdist would run short of tasks.
const MIN_ROWS: usize = 256;

/// The distances between `xa` (`n × d`) and `xb` (`m × d`) as [`cdist_with`](super::cdist_with)
/// computes them, by blocks of whole rows in order, each handed to `f(rows, block)` (a
/// `rows.len() × m` C-contiguous view) as soon as it is complete. Only two blocks and their
/// temporaries are alive at a time, within [`CdistOptions::working_memory`].
///
/// `f` returning an `Err` stops the computation and the error is returned (use
/// [`Error::Cancelled`] to stop early). SciPy's data-derived defaults (seuclidean's V,
/// mahalanobis's VI) are computed once from all of `xa` and `xb`, so the blocks put together
/// equal the one-shot matrix exactly.
///
/// ```
/// use ndstride::{NdArray, distance::{cdist_chunked, CdistOptions, Metric}};
/// let x = NdArray::from_vec((0..12).map(f64::from).collect(), &[6, 2])?;
/// let mut row_sums = vec![];
/// cdist_chunked::<f64, _>(&x, &x, &Metric::Cityblock, &CdistOptions::new(), |rows, block| {
///     assert_eq!(block.shape(), &[rows.len(), 6]);
///     row_sums.extend(block.to_vec()?.chunks(6).map(|r| r.iter().sum::<f64>()));
///     Ok(())
/// })?;
/// assert_eq!(row_sums[0], 0.0 + 4.0 + 8.0 + 12.0 + 16.0 + 20.0);
/// # Ok::<(), ndstride::Error>(())
/// ```
pub fn cdist_chunked<O, F>(
    xa: &NdArray,
    xb: &NdArray,
    metric: &Metric,
    opts: &CdistOptions,
    mut f: F,
) -> Result<()>
where
    O: DistanceOutput,
    F: FnMut(Range<usize>, &ArrayView<'_, O>) -> Result<()> + Send,
{
    let (n, m, d) = cdist_dims(xa, xb)?;
    metric.validate(d)?;
    let rows = block_rows(opts, n, m, d, size_of::<O>())?;
    if n == 0 {
        return Ok(());
    }
    // The blocks run on the pool chosen below; the broadcast strategy's temporaries were
    // counted in `rows`. The job fills in the data-derived defaults once, from all the data.
    let inner = CdistOptions {
        memory_limit: usize::MAX,
        ..opts.clone()
    };
    let job = Job::cdist(xa, xb, metric, &inner)?;
    let ranges: Vec<Range<usize>> = (0..n)
        .step_by(rows)
        .map(|r0| r0..(r0 + rows).min(n))
        .collect();
    // Every element of a block is written by the job before it is handed on.
    let mut ready = NdArray::for_overwrite(&[rows, m], O::DTYPE)?;
    let mut spare = if ranges.len() > 1 {
        NdArray::for_overwrite(&[rows, m], O::DTYPE)?
    } else {
        NdArray::zeros(&[0, m], O::DTYPE)?
    };
    let compute = |buf: &mut NdArray, r: &Range<usize>| -> Result<()> {
        let mut all = buf.view_mut::<O>()?;
        let mut block = all.slice_mut(&s![..r.len() as isize, ..])?;
        job.block(r.clone(), 0..m)?
            .run(OutputRows::matrix(&mut block)?)
    };
    let f = &mut f;
    let mut hand_on = |buf: &NdArray, r: &Range<usize>| -> Result<()> {
        let all = buf.view::<O>()?;
        f(r.clone(), &all.slice(&s![..r.len() as isize, ..])?)
    };
    opts.run(|| {
        compute(&mut ready, &ranges[0])?;
        for (b, done) in ranges.iter().enumerate() {
            match ranges.get(b + 1) {
                Some(next) => {
                    let (handed, computed) =
                        rayon::join(|| hand_on(&ready, done), || compute(&mut spare, next));
                    handed?;
                    computed?;
                    std::mem::swap(&mut ready, &mut spare);
                }
                None => hand_on(&ready, done)?,
            }
        }
        Ok(())
    })?
}

/// [`cdist_with`](super::cdist_with) written to a `.npy` file at `path` block by block
/// ([`cdist_chunked`] into an [`NpyWriter`]): resident memory stays within
/// [`CdistOptions::working_memory`] (plus the inputs) however large the matrix. The file
/// appears under its name only when complete; on any error nothing is left behind.
pub fn cdist_to_npy(
    xa: &NdArray,
    xb: &NdArray,
    metric: &Metric,
    opts: &CdistOptions,
    path: impl AsRef<Path>,
) -> Result<()> {
    let (n, m, d) = cdist_dims(xa, xb)?;
    metric.validate(d)?;
    let dtype = check_out_dtype(opts.out_dtype)?;
    let mut w = NpyWriter::create(path, dtype, &[n, m])?;
    match dtype {
        DType::F32 => cdist_chunked::<f32, _>(xa, xb, metric, opts, |_, b| w.write(block(b)?))?,
        _ => cdist_chunked::<f64, _>(xa, xb, metric, opts, |_, b| w.write(block(b)?))?,
    }
    w.finish()
}

/// A block's elements (blocks are C-contiguous by construction).
fn block<'a, O: DistanceOutput>(b: &'a ArrayView<'_, O>) -> Result<&'a [O]> {
    b.as_slice()
        .ok_or_else(|| Error::invalid("cdist_chunked: internal block is not contiguous"))
}

/// Rows per block: as many as the budget allows for two output blocks and the strategy's
/// per-block temporaries, capped near [`TARGET_BLOCK_BYTES`].
fn block_rows(opts: &CdistOptions, n: usize, m: usize, d: usize, out_size: usize) -> Result<usize> {
    let (m128, d128) = (m as u128, d as u128);
    let out_row = m128 * out_size as u128;
    let temporaries_row = match opts.strategy {
        // The Gram matrix block (at most float64).
        Strategy::MatmulTrick => m128 * 8,
        // The (rows, m, d) difference and its transformed copy, then two (rows, m) results.
        Strategy::Broadcast => 2 * m128 * d128 * 8 + 2 * m128 * 8,
        Strategy::Simd => 0,
    };
    let per_row = 2 * out_row + temporaries_row;
    // Per block, xb is converted or packed (at most one float64 copy).
    let fixed = m128 * d128 * 8;
    let budget = opts.working_memory as u128;
    if fixed + per_row > budget {
        return Err(Error::invalid(format!(
            "a working memory of {budget} bytes is too small for rows of {m} distances with the \
             {} strategy: one row needs {per_row} bytes (two output blocks and temporaries) \
             besides {fixed} for a copy of xb; give at least {} bytes",
            opts.strategy,
            fixed + per_row
        )));
    }
    // No columns (m = 0): rows cost nothing, one block holds them all.
    let fit = ((budget - fixed) / per_row.max(1)).min(usize::MAX as u128) as usize;
    let target = (TARGET_BLOCK_BYTES as u128 / out_row.max(1)).max(MIN_ROWS as u128) as usize;
    Ok(fit.min(target).min(n).max(1))
}
