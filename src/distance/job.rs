//! One distance computation as the back ends receive it: the inputs, their dimensions, the
//! metric with SciPy's data-derived defaults filled in once, the options, and where it runs
//! ([`Route`], decided once). The public functions build a job after checking their inputs;
//! the block drivers (`chunked`, the neighbour searches) run jobs on sub-views of it rather
//! than calling the public functions again.

use std::borrow::Cow;
use std::ops::Range;

use super::backend::{self, DistanceBackend, Route};
use super::entry::DistanceOutput;
use super::input::{cdist_dims, pdist_dims};
use super::metric::Metric;
use super::options::CdistOptions;
use super::output::{OutputRows, Post};
use super::plan::{MetricPlan, plan};
use super::stats;
use crate::array::NdArray;
use crate::error::{Error, Result};
use crate::s;

/// A checked distance computation: `xa` (`n × d`) against `xb` (`m × d`), or for pdist
/// (`xb = None`) `xa` against itself into a condensed output.
pub(crate) struct Job<'a> {
    pub xa: NdArray,
    pub xb: Option<NdArray>,
    /// Defaults filled in: seuclidean's `V` and mahalanobis's `VI` are always `Some`.
    pub metric: Cow<'a, Metric>,
    /// The metric's plan, made once for the job and its blocks.
    pub plan: Cow<'a, MetricPlan>,
    pub opts: &'a CdistOptions,
    pub route: Route,
    pub n: usize,
    pub m: usize,
    pub d: usize,
}

impl<'a> Job<'a> {
    /// `cdist(xa, xb)`: SciPy's shape rules, the metric's parameters, the route, the defaults.
    pub fn cdist(
        xa: &NdArray,
        xb: &NdArray,
        metric: &'a Metric,
        opts: &'a CdistOptions,
    ) -> Result<Job<'a>> {
        let (n, m, d) = cdist_dims(xa, xb)?;
        Job::new(xa, Some(xb), metric, opts, (n, m, d))
    }

    /// `pdist(x)`: the pairs of `x`'s rows, condensed.
    pub fn pdist(x: &NdArray, metric: &'a Metric, opts: &'a CdistOptions) -> Result<Job<'a>> {
        let (n, d) = pdist_dims(x)?;
        Job::new(x, None, metric, opts, (n, n, d))
    }

    fn new(
        xa: &NdArray,
        xb: Option<&NdArray>,
        metric: &'a Metric,
        opts: &'a CdistOptions,
        (n, m, d): (usize, usize, usize),
    ) -> Result<Job<'a>> {
        metric.validate(d)?;
        let route = backend::route(metric, opts, (n, m, d))?;
        if let Route::Cpu(strategy) = route {
            // Refused before any default is computed from the data.
            backend::cpu(strategy).supports(metric, d)?;
        }
        let metric = match metric {
            Metric::SEuclidean { v: None } | Metric::Mahalanobis { vi: None } => {
                Cow::Owned(stats::with_defaults(metric, xa, xb, d)?)
            }
            other => Cow::Borrowed(other),
        };
        Ok(Job {
            xa: xa.clone(),
            xb: xb.cloned(),
            plan: Cow::Owned(plan(&metric, d)?.fitted_to(xa, xb)?),
            metric,
            opts,
            route,
            n,
            m,
            d,
        })
    }

    /// The second operand (`xa` itself for pdist).
    pub fn xb(&self) -> &NdArray {
        self.xb.as_ref().unwrap_or(&self.xa)
    }

    pub fn dims(&self) -> (usize, usize, usize) {
        (self.n, self.m, self.d)
    }

    /// The same computation on the CPU (the route a block driver takes once the GPU has
    /// declined, or for its blocks).
    pub fn on_cpu(mut self) -> Self {
        self.route = Route::Cpu(self.opts.strategy);
        self
    }

    /// The route for a block driver's blocks: `Auto`'s GPU choice was made for the whole
    /// problem, and its blocks are too small to pay for the transfers, so they stay on the
    /// CPU; a required GPU stays required.
    pub fn for_blocks(self) -> Self {
        match self.route {
            Route::Gpu { required: false } => self.on_cpu(),
            _ => self,
        }
    }

    /// This job with another metric that needs no data-derived defaults.
    pub fn with_metric<'b>(&'b self, metric: &'b Metric) -> Result<Job<'b>> {
        Ok(Job {
            xa: self.xa.clone(),
            xb: self.xb.clone(),
            plan: Cow::Owned(plan(metric, self.d)?),
            metric: Cow::Borrowed(metric),
            opts: self.opts,
            route: self.route,
            n: self.n,
            m: self.m,
            d: self.d,
        })
    }

    /// Rows `rows` of `xa` against rows `cols` of `xb` (a cdist job), with this job's metric,
    /// defaults and route.
    pub fn block(&self, rows: Range<usize>, cols: Range<usize>) -> Result<Job<'_>> {
        let view =
            |x: &NdArray, r: &Range<usize>| x.slice(s![r.start as isize..r.end as isize, ..]);
        Ok(Job {
            xa: view(&self.xa, &rows)?,
            xb: Some(view(self.xb(), &cols)?),
            metric: Cow::Borrowed(&*self.metric),
            plan: Cow::Borrowed(&*self.plan),
            opts: self.opts,
            route: self.route,
            n: rows.len(),
            m: cols.len(),
            d: self.d,
        })
    }

    /// `gpu()` where the route is the GPU: `Some` of its result; `None` on the CPU route, or
    /// when a GPU chosen by `Auto` fails (a kernel missing for these defaults, memory), so
    /// that the caller computes on the CPU; a required GPU's failure is the error.
    pub fn try_gpu<R>(&self, gpu: impl FnOnce() -> Result<R>) -> Result<Option<R>> {
        match self.route {
            Route::Cpu(_) => Ok(None),
            Route::Gpu { required: true } => gpu().map(Some),
            Route::Gpu { required: false } => Ok(gpu().ok()),
        }
    }

    /// Every distance into `out` (`n × m`, or condensed over `n` for pdist), on the route.
    pub fn run<O: DistanceOutput>(&self, out: OutputRows<'_, O>) -> Result<()> {
        match self.try_gpu(|| backend::Cuda.matrix::<O>(self))? {
            Some(full) => write_matrix(&full, out),
            None => backend::cpu(self.opts.strategy).run(self, out),
        }
    }

    /// Every distance as a fresh `n × m` array of `O` (cdist only).
    pub fn matrix<O: DistanceOutput>(&self) -> Result<NdArray> {
        if let Some(full) = self.try_gpu(|| backend::Cuda.matrix::<O>(self))? {
            return Ok(full);
        }
        // Every element is written below (or the array is dropped on error), so the output
        // is not zeroed first; large buffers come from the huge-page pool.
        let mut out = NdArray::for_overwrite(&[self.n, self.m], O::DTYPE)?;
        let mut view = out.view_mut::<O>()?;
        let rows = OutputRows::matrix(&mut view)?.streamed_if_large();
        let cpu = backend::cpu(self.opts.strategy);
        self.opts.run(|| cpu.run(self, rows))??;
        Ok(out)
    }
}

/// A matrix computed elsewhere (the GPU's) written into `out` row by row (condensed outputs
/// keep the pairs `i < j`).
pub(crate) fn write_matrix<O: DistanceOutput>(
    full: &NdArray,
    mut out: OutputRows<'_, O>,
) -> Result<()> {
    let view = full.view::<O>()?;
    let values = view
        .as_slice()
        .ok_or_else(|| Error::invalid("the GPU's matrix is not contiguous"))?;
    let m = full.shape()[1];
    for i in out.rows() {
        out.put_row(i, 0, &values[i * m..(i + 1) * m], &Post::Identity);
    }
    Ok(())
}
