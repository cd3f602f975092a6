//! The CUDA back end of cdist and kNN. Files: `plan` (a metric as a kernel, its row
//! preparation and last step), `blocks` (tiles and the blocks of a launch, pure arithmetic),
//! `streamed` (cdist of host arrays streamed through a device memory budget on two streams),
//! `knn` (the fused kNN, streamed the same way), `on_device` (cdist of device arrays),
//! `source` (`kernels/cdist.cu`, registered with the device layer), and this file (the entry
//! points).

mod blocks;
mod knn;
mod on_device;
mod plan;
mod source;
mod streamed;

use std::sync::OnceLock;

use cudarc::driver::{DeviceRepr, ValidAsZeroBits};

use super::input::{cdist_dims, compute_dtype};
use super::metric::Metric;
use super::options::CdistOptions;
use super::plan::MetricPlan;
use crate::array::NdArray;
use crate::device::Device;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
pub use on_device::cdist_device;
use plan::{GpuPlan, RowSide, from_plan, knn_form, plan, row_side, strategy_plan};
pub use source::{compile_kernel, compile_kernels};

/// Problems below this many pair-features stay on the CPU under `Backend::Auto`: the
/// transfers and the launch would cost more than the GPU saves.
pub(crate) const AUTO_MIN_WORK: u128 = 1 << 27;

/// GPU 0, opened once per process (its compiled kernels are loaded once with it).
pub(crate) fn default_device() -> Result<Device> {
    static DEVICE: OnceLock<std::result::Result<Device, String>> = OnceLock::new();
    DEVICE
        .get_or_init(|| Device::new(0).map_err(|e| e.to_string()))
        .clone()
        .map_err(|e| Error::Cuda(e.trim_start_matches("CUDA: ").to_string()))
}

/// `Ok` where a kernel computes `metric` over `d` features (for seuclidean and mahalanobis
/// without their defaults: once they are filled in, when they are usable).
pub(crate) fn supports(metric: &Metric, d: usize) -> Result<()> {
    match metric {
        Metric::SEuclidean { v: None } | Metric::Mahalanobis { vi: None } => Ok(()),
        _ => plan(metric, d).map(|_| ()),
    }
}

/// Whether `Backend::Auto` should use the GPU for this problem.
pub(crate) fn auto_picks_gpu(metric: &Metric, n: usize, m: usize, d: usize) -> bool {
    let work = n as u128 * m as u128 * d.max(1) as u128;
    work >= AUTO_MIN_WORK && supports(metric, d).is_ok() && Device::is_available()
}

/// The type the kernels compute in: the inputs' compute type, except that counts of ones are
/// exact in float32 only below 2^24 features.
fn kernel_dtype(t: DType, plan: &GpuPlan, d: usize) -> DType {
    if t == DType::F32 && row_side(plan.post) == RowSide::Count && d >= 1 << 24 {
        DType::F64
    } else {
        t
    }
}

/// The device bytes a call may use: the options' budget, or half the free memory.
fn device_budget(device: &Device, opts: &CdistOptions) -> Result<usize> {
    match opts.device_memory {
        Some(bytes) => Ok(bytes),
        None => Ok(device.free_memory()? / 2),
    }
}

fn as_i32(v: usize, what: &str) -> Result<i32> {
    i32::try_from(v)
        .map_err(|_| Error::Cuda(format!("{what} = {v} exceeds the kernels' i32 range")))
}

/// cdist of host arrays on the GPU by the job's `planned` kernel (`metric`'s data-derived
/// defaults filled in). The result is a host array of the options' output dtype.
pub(crate) fn cdist(
    (xa, xb): (&NdArray, &NdArray),
    metric: &Metric,
    planned: &MetricPlan,
    opts: &CdistOptions,
) -> Result<NdArray> {
    let (n, m, d) = cdist_dims(xa, xb)?;
    let plan = strategy_plan(from_plan(metric, planned)?, metric, opts.strategy)?;
    let device = default_device()?;
    let t = kernel_dtype(compute_dtype(xa, Some(xb), opts.accumulate_f64), &plan, d);
    let budget = device_budget(&device, opts)?;
    /// The streamed cdist in compute type `T`, output `O`.
    fn cdist_in<T, O>(
        device: &Device,
        (xa, xb): (&NdArray, &NdArray),
        plan: &GpuPlan,
        dims: (usize, usize, usize),
        budget: usize,
    ) -> Result<NdArray>
    where
        T: Element + DeviceRepr + ValidAsZeroBits,
        O: Element + DeviceRepr + ValidAsZeroBits,
    {
        let prepare = |x| streamed::HostRows::<T>::prepare(x, dims.2, plan);
        streamed::run::<T, O>(device, &prepare(xa)?, &prepare(xb)?, plan, dims, budget)
    }
    let (x, dims) = ((xa, xb), (n, m, d));
    match (t, opts.out_dtype) {
        (DType::F32, DType::F32) => cdist_in::<f32, f32>(&device, x, &plan, dims, budget),
        (DType::F32, _) => cdist_in::<f32, f64>(&device, x, &plan, dims, budget),
        (_, DType::F32) => cdist_in::<f64, f32>(&device, x, &plan, dims, budget),
        _ => cdist_in::<f64, f64>(&device, x, &plan, dims, budget),
    }
}

/// The `k` nearest rows of `xb` for every row of `xa` on the GPU, the distance matrix never
/// written out (kernels/cdist.cu, `knn_rows`): `(indices, distances)`, row-major `n × k`.
/// `metric`'s data-derived defaults must be filled in; `k` is checked by the caller. The
/// tiled kernels are exact, so the options' strategy does not change the result.
pub(crate) fn knn(
    (xa, xb): (&NdArray, &NdArray),
    k: usize,
    (metric, planned): (&Metric, &MetricPlan),
    opts: &CdistOptions,
) -> Result<(Vec<i64>, Vec<f64>)> {
    let (n, m, d) = cdist_dims(xa, xb)?;
    let (plan, root) = knn_form(from_plan(metric, planned)?);
    let device = default_device()?;
    let budget = device_budget(&device, opts)?;
    let (x, dims) = ((xa, xb), (n, m, d));
    let (mut idx, mut dist) =
        match kernel_dtype(compute_dtype(xa, Some(xb), opts.accumulate_f64), &plan, d) {
            DType::F32 => knn_in::<f32>(&device, x, k, &plan, dims, budget)?,
            _ => knn_in::<f64>(&device, x, k, &plan, dims, budget)?,
        };
    if root {
        dist.iter_mut().for_each(|v| *v = v.sqrt());
    }
    idx.truncate(n * k);
    dist.truncate(n * k);
    Ok((idx, dist))
}

/// [`knn`] in the compute type `T`.
fn knn_in<T: Element + DeviceRepr + ValidAsZeroBits>(
    device: &Device,
    (xa, xb): (&NdArray, &NdArray),
    k: usize,
    plan: &GpuPlan,
    dims: (usize, usize, usize),
    budget: usize,
) -> Result<(Vec<i64>, Vec<f64>)> {
    let prepare = |x| streamed::HostRows::<T>::prepare(x, dims.2, plan);
    knn::run::<T>(device, &prepare(xa)?, &prepare(xb)?, k, plan, dims, budget)
}

// Each test compiles and runs the emulator as a child process, which Miri cannot spawn.
#[cfg(all(test, not(miri)))]
mod emulated_tests;
