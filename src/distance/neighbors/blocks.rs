//! The driver of the reductions that never materialise the distance matrix (k nearest
//! neighbours, radius neighbours, argmin): blocks of rows of `xa` against blocks of rows of
//! `xb`, each a sub-job of the caller's [`Job`] (any metric, strategy and route), folded into
//! per-row state at once, so the working memory is one block (12 MiB) per thread rather than
//! `n × m`.

use std::ops::Range;

use rayon::prelude::*;

use crate::array::NdArray;
use crate::distance::job::Job;
use crate::distance::output::OutputRows;
use crate::dtype::DType;
use crate::error::{Error, Result};

/// Rows of `xa` per task and rows of `xb` per block (a 3072 × 512 float64 block is 12 MiB
/// per thread). A block's job cuts its rows into tasks of up to 192 and packs the `xb`
/// block once per task, so many rows per call keep the packing small beside the kernel
/// (BENCHMARKS.md, "Measurements behind choices in the code").
const ROW_BLOCK: usize = 3072;
const COL_BLOCK: usize = 512;

/// A block of distances being folded: a task's rows of `xa` against columns `c0 .. c0 + w`
/// of `xb`, row-major float64.
pub(crate) struct Block<'a> {
    pub c0: usize,
    pub w: usize,
    pub values: &'a [f64],
}

impl Block<'_> {
    /// The distances of the task's row `r`, columns `c0 ..`.
    pub fn row(&self, r: usize) -> &[f64] {
        &self.values[r * self.w..(r + 1) * self.w]
    }
}

/// Folds the distance matrix of `job` (a cdist job: `xa` is `n × d`, `xb` is `m × d`) block
/// by block: `init` makes the state of a task's rows, `fold` takes each of its blocks in
/// increasing column order. Returns the states in row order. The job's defaults (computed
/// once from all the data) serve every block.
pub(crate) fn fold_blocks<S: Send>(
    job: &Job<'_>,
    init: impl Fn(Range<usize>) -> S + Sync,
    fold: impl Fn(&mut S, &Block<'_>) + Sync,
) -> Result<Vec<S>> {
    let (n, m, _) = job.dims();
    let task = |rows: Range<usize>| -> Result<S> {
        let mut state = init(rows.clone());
        let mut buf = NdArray::for_overwrite(&[rows.len(), COL_BLOCK.min(m)], DType::F64)?;
        for c0 in (0..m).step_by(COL_BLOCK) {
            let w = COL_BLOCK.min(m - c0);
            if buf.shape()[1] != w {
                buf = NdArray::for_overwrite(&[rows.len(), w], DType::F64)?;
            }
            // float64 blocks, so that the distances are exactly cdist's (some float32 paths
            // finish in float64, e.g. the square root). The job writes every element.
            let mut view = buf.view_mut::<f64>()?;
            job.block(rows.clone(), c0..c0 + w)?
                .run(OutputRows::matrix(&mut view)?)?;
            let values = view
                .as_slice()
                .ok_or_else(|| Error::invalid("internal distance block is not contiguous"))?;
            fold(&mut state, &Block { c0, w, values });
        }
        Ok(state)
    };
    let rows_of = |b: usize| b * ROW_BLOCK..((b + 1) * ROW_BLOCK).min(n);
    let tasks = n.div_ceil(ROW_BLOCK);
    // One task runs on this thread (its blocks still use the pool for their tiles).
    let states: Vec<Result<S>> = job.opts.run(|| {
        if tasks <= 1 {
            (0..tasks).map(|b| task(rows_of(b))).collect()
        } else {
            (0..tasks)
                .into_par_iter()
                .map(|b| task(rows_of(b)))
                .collect()
        }
    })?;
    states.into_iter().collect()
}
