//! The one interface of the distance back ends ([`DistanceBackend`]: `supports` and `run`),
//! the CPU strategies behind it ([`cpu`]), the CUDA back end ([`Cuda`], an error in a build
//! without the `cuda` feature), and the one decision of where a job runs ([`route`]).

use super::cpu::register_blocked;
use super::entry::DistanceOutput;
use super::job::{Job, write_matrix};
use super::metric::Metric;
use super::options::{Backend, CdistOptions, Strategy};
use super::output::OutputRows;
use super::strategies::{broadcast, matmul_trick};
use crate::array::NdArray;
use crate::error::{Error, Result};

/// A way of computing a distance matrix.
pub(crate) trait DistanceBackend {
    /// `Ok` where this back end computes `metric` over `d` features; otherwise the error
    /// that says what does.
    fn supports(&self, metric: &Metric, d: usize) -> Result<()>;
    /// Every distance of `job` into `out` (the job's `n × m`, or condensed over `n`).
    fn run<O: DistanceOutput>(&self, job: &Job<'_>, out: OutputRows<'_, O>) -> Result<()>;
}

/// Where a job runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Route {
    /// This CPU, by the strategy's back end.
    Cpu(Strategy),
    /// The GPU; `required: false` (`Backend::Auto`) falls back to the CPU on any failure.
    Gpu { required: bool },
}

/// The route for a problem of `n × m` pairs of `d` features under the options' backend:
/// `Cuda` always the GPU (an error in a build without CUDA), `Auto` the GPU for problems
/// large enough to pay for the transfers when one is present and has a kernel for the metric.
pub(crate) fn route(
    metric: &Metric,
    opts: &CdistOptions,
    (n, m, d): (usize, usize, usize),
) -> Result<Route> {
    let cpu = Route::Cpu(opts.strategy);
    match opts.backend {
        Backend::Cpu => Ok(cpu),
        Backend::Cuda if cfg!(feature = "cuda") => Ok(Route::Gpu { required: true }),
        Backend::Cuda => Err(no_cuda()),
        Backend::Auto => {
            #[cfg(feature = "cuda")]
            if super::cuda::auto_picks_gpu(metric, n, m, d) {
                return Ok(Route::Gpu { required: false });
            }
            let _ = (metric, n, m, d);
            Ok(cpu)
        }
    }
}

/// The CPU back end of a strategy.
pub(crate) fn cpu(strategy: Strategy) -> CpuBackend {
    CpuBackend(strategy)
}

/// The CPU strategies: the register-blocked kernels (`Simd`), the matmul trick, broadcast.
#[derive(Clone, Copy)]
pub(crate) struct CpuBackend(Strategy);

impl DistanceBackend for CpuBackend {
    fn supports(&self, metric: &Metric, _d: usize) -> Result<()> {
        match self.0 {
            Strategy::Simd => Ok(()),
            Strategy::MatmulTrick => matmul_trick::supports(metric),
            Strategy::Broadcast => broadcast::supports(metric),
        }
    }

    fn run<O: DistanceOutput>(&self, job: &Job<'_>, out: OutputRows<'_, O>) -> Result<()> {
        match self.0 {
            Strategy::Simd => register_blocked::run(job, out),
            Strategy::MatmulTrick => matmul_trick::run(job, out),
            Strategy::Broadcast => broadcast::run(job, out),
        }
    }
}

/// The CUDA back end (kernels/cdist.cu): the tiled kernels for every metric they cover, the
/// strategy only choosing the matmul trick's form.
pub(crate) struct Cuda;

impl Cuda {
    /// The job's matrix computed on the GPU, as a host array of `O`.
    pub fn matrix<O: DistanceOutput>(&self, job: &Job<'_>) -> Result<NdArray> {
        #[cfg(feature = "cuda")]
        {
            let opts = job.opts.clone().out_dtype(O::DTYPE);
            super::cuda::cdist((&job.xa, job.xb()), &job.metric, &job.plan, &opts)
        }
        #[cfg(not(feature = "cuda"))]
        {
            let _ = (job, O::DTYPE);
            Err(no_cuda())
        }
    }

    /// The `k` nearest rows of `xb` for every row of `xa` by the fused GPU kernel:
    /// `(indices, distances)`, row-major `n × k`.
    pub fn knn(&self, job: &Job<'_>, k: usize) -> Result<(Vec<i64>, Vec<f64>)> {
        #[cfg(feature = "cuda")]
        {
            super::cuda::knn((&job.xa, job.xb()), k, (&job.metric, &job.plan), job.opts)
        }
        #[cfg(not(feature = "cuda"))]
        {
            let _ = (job, k);
            Err(no_cuda())
        }
    }
}

fn no_cuda() -> Error {
    Error::Cuda("this build of ndstride has no CUDA support (cargo feature `cuda`)".into())
}

impl DistanceBackend for Cuda {
    fn supports(&self, metric: &Metric, d: usize) -> Result<()> {
        #[cfg(feature = "cuda")]
        {
            super::cuda::supports(metric, d)
        }
        #[cfg(not(feature = "cuda"))]
        {
            let _ = (metric, d);
            Err(no_cuda())
        }
    }

    fn run<O: DistanceOutput>(&self, job: &Job<'_>, out: OutputRows<'_, O>) -> Result<()> {
        write_matrix(&self.matrix::<O>(job)?, out)
    }
}
