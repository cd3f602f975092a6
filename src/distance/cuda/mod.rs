//! The CUDA back end of cdist and kNN. Files: `plan` (a metric as a kernel, its row
//! preparation and last step), `blocks` (tiles and the blocks of a launch, pure arithmetic),
//! `streamed` (cdist of host arrays streamed through a device memory budget on two streams),
//! this file (the entry points, and the fused kNN), `on_device` (cdist of device arrays).

mod blocks;
mod on_device;
mod plan;
mod streamed;

use std::sync::OnceLock;

use cudarc::driver::{
    CudaSlice, CudaView, DeviceRepr, LaunchConfig, PushKernelArg, ValidAsZeroBits,
};

use super::input::{cdist_dims, compute_dtype};
use super::metric::Metric;
use super::options::CdistOptions;
use crate::array::NdArray;
use crate::device::{Device, cuda_error};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use blocks::{RowBlock, THREADS, row_blocks, rows_per_block, type_name};
pub use on_device::cdist_device;
use plan::{GpuPlan, RowSide, knn_plan, plan, prepared_rows, row_side, strategy_plan};

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

/// Whether `Backend::Auto` should use the GPU for this problem.
pub(crate) fn auto_picks_gpu(metric: &Metric, n: usize, m: usize, d: usize) -> bool {
    let work = n as u128 * m as u128 * d.max(1) as u128;
    let has_kernel = match metric {
        // Defaults not filled in yet: the kernel exists once they are (when they are usable).
        Metric::SEuclidean { v: None } | Metric::Mahalanobis { vi: None } => true,
        _ => plan(metric, d).is_ok(),
    };
    work >= AUTO_MIN_WORK && has_kernel && Device::is_available()
}

fn as_i32(v: usize, what: &str) -> Result<i32> {
    i32::try_from(v)
        .map_err(|_| Error::Cuda(format!("{what} = {v} exceeds the kernels' i32 range")))
}

/// cdist of host arrays on the GPU; `metric`'s data-derived defaults must be filled in. The
/// result is a host array of the options' output dtype.
pub(crate) fn cdist(
    xa: &NdArray,
    xb: &NdArray,
    metric: &Metric,
    opts: &CdistOptions,
) -> Result<NdArray> {
    let (n, m, d) = cdist_dims(xa, xb)?;
    let plan = strategy_plan(plan(metric, d)?, metric, opts.strategy)?;
    let device = default_device()?;
    // Counts of ones are exact in float32 only below 2^24 features.
    let t = match compute_dtype(xa, Some(xb), opts.accumulate_f64) {
        DType::F32 if row_side(plan.post) == RowSide::Count && d >= 1 << 24 => DType::F64,
        t => t,
    };
    let budget = match opts.device_memory {
        Some(bytes) => bytes,
        None => device.free_memory()? / 2,
    };
    fn go<T, O>(
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
        let d = dims.2;
        let ((a, a_sides), (b, b_sides)) = (
            prepared_rows::<T>(xa, d, plan)?,
            prepared_rows::<T>(xb, d, plan)?,
        );
        let rows = |rows, sides| streamed::HostRows { rows, sides };
        streamed::run::<T, O>(
            device,
            rows(&a, &a_sides),
            rows(&b, &b_sides),
            plan,
            dims,
            budget,
        )
    }
    let (x, dims) = ((xa, xb), (n, m, d));
    match (t, opts.out_dtype) {
        (DType::F32, DType::F32) => go::<f32, f32>(&device, x, &plan, dims, budget),
        (DType::F32, _) => go::<f32, f64>(&device, x, &plan, dims, budget),
        (_, DType::F32) => go::<f64, f32>(&device, x, &plan, dims, budget),
        _ => go::<f64, f64>(&device, x, &plan, dims, budget),
    }
}

/// Prepared rows and their row sides (see [`RowSide`]) on the device.
struct UploadedRows<T> {
    a: CudaSlice<T>,
    b: CudaSlice<T>,
    side_a: CudaSlice<f64>,
    side_b: CudaSlice<f64>,
    uses_side: bool,
}

impl<T: Element + DeviceRepr> UploadedRows<T> {
    fn new(device: &Device, xa: &NdArray, xb: &NdArray, d: usize, plan: &GpuPlan) -> Result<Self> {
        let ((a, side_a), (b, side_b)) = (
            prepared_rows::<T>(xa, d, plan)?,
            prepared_rows::<T>(xb, d, plan)?,
        );
        let stream = device.stream();
        let up = cuda_error("copying inputs to the device");
        // A zero-byte allocation is an error in CUDA: no features (d = 0) upload one zero.
        let pad = |v: Vec<T>| if v.is_empty() { vec![T::zeroed()] } else { v };
        Ok(UploadedRows {
            a: stream.clone_htod(&pad(a)).map_err(&up)?,
            b: stream.clone_htod(&pad(b)).map_err(&up)?,
            side_a: stream.clone_htod(&side_a).map_err(&up)?,
            side_b: stream.clone_htod(&side_b).map_err(&up)?,
            uses_side: row_side(plan.post) != RowSide::Unused,
        })
    }

    /// The rows of `xa` from `r0` on and their sides (the whole one-entry placeholder when
    /// the kernel reads none).
    fn a_block(&self, r0: usize, rows: usize, d: usize) -> (CudaView<'_, T>, CudaView<'_, f64>) {
        let side = if self.uses_side {
            self.side_a.slice(r0..r0 + rows)
        } else {
            self.side_a.slice(..)
        };
        (self.a.slice((r0 * d).min(self.a.len() - 1)..), side)
    }
}

/// Rows per launch of the kNN kernels (`knn_rows`' 4 × 4 register blocks × 16 threads).
const KNN_ROWS: usize = 64;

/// The `k` nearest rows of `xb` for every row of `xa` on the GPU, the distance matrix never
/// written out (kernels/cdist.cu, `knn_rows`): `(indices, distances)`, row-major `n × k`.
/// `metric`'s data-derived defaults must be filled in; `k` is checked by the caller. The
/// tiled kernels are exact, so the options' strategy does not change the result.
pub(crate) fn knn(
    xa: &NdArray,
    xb: &NdArray,
    k: usize,
    metric: &Metric,
    opts: &CdistOptions,
) -> Result<(Vec<i64>, Vec<f64>)> {
    let (n, m, d) = cdist_dims(xa, xb)?;
    let (plan, root) = knn_plan(metric, d)?;
    let device = default_device()?;
    let (mut idx, mut dist) = match compute_dtype(xa, Some(xb), opts.accumulate_f64) {
        DType::F32 if !(row_side(plan.post) == RowSide::Count && d >= 1 << 24) => {
            run_knn::<f32>(&device, xa, xb, k, &plan, (n, m, d))?
        }
        _ => run_knn::<f64>(&device, xa, xb, k, &plan, (n, m, d))?,
    };
    if root {
        dist.iter_mut().for_each(|v| *v = v.sqrt());
    }
    idx.truncate(n * k);
    dist.truncate(n * k);
    Ok((idx, dist))
}

fn run_knn<T: Element + DeviceRepr>(
    device: &Device,
    xa: &NdArray,
    xb: &NdArray,
    k: usize,
    plan: &GpuPlan,
    (n, m, d): (usize, usize, usize),
) -> Result<(Vec<i64>, Vec<f64>)> {
    if n == 0 {
        return Ok((vec![], vec![]));
    }
    let uploaded = UploadedRows::<T>::new(device, xa, xb, d, plan)?;
    let stream = device.stream();
    let func = device.function(&format!("knn_{}_{}", type_name(T::DTYPE), plan.op))?;
    // Query rows per launch: their lists (k distances and k indices each) take at most a
    // third of the free memory.
    let per = rows_per_block(n, k * 16, device.free_memory()?, KNN_ROWS);
    let alloc = cuda_error("allocating the neighbour lists");
    let mut dist_dev = stream.alloc_zeros::<f64>(per * k).map_err(&alloc)?;
    let mut idx_dev = stream.alloc_zeros::<i64>(per * k).map_err(&alloc)?;
    let (mut dist, mut idx) = (vec![0.0; n * k], vec![0i64; n * k]);
    let (m32, d32, k32) = (as_i32(m, "m")?, as_i32(d, "d")?, as_i32(k, "k")?);
    for RowBlock { r0, rows, .. } in row_blocks(n, m, per, (KNN_ROWS, KNN_ROWS)) {
        let (a_block, inv_a_block) = uploaded.a_block(r0, rows, d);
        let cfg = LaunchConfig {
            grid_dim: (rows.div_ceil(KNN_ROWS) as u32, 1, 1),
            block_dim: (THREADS, 1, 1),
            shared_mem_bytes: 0,
        };
        let rows32 = as_i32(rows, "rows")?;
        let mut launch = stream.launch_builder(&func);
        launch
            .arg(&a_block)
            .arg(&uploaded.b)
            .arg(&rows32)
            .arg(&m32)
            .arg(&d32)
            .arg(&k32)
            .arg(&plan.p)
            .arg(&plan.post)
            .arg(&inv_a_block)
            .arg(&uploaded.side_b)
            .arg(&mut dist_dev)
            .arg(&mut idx_dev);
        // SAFETY: the arguments match knn_T_OP in kernels/cdist.cu (const T* A of rows × d,
        // const T* B of m × d, rows, m, d, k, p, post, inv_a / inv_b as in `run`, double*
        // and long long* lists of rows × k each, which `per ≥ rows` covers); the grid has
        // one block per 64 rows and the kernel checks every row against `rows`.
        unsafe { launch.launch(cfg) }.map_err(cuda_error("launching the kNN kernel"))?;
        let down = cuda_error("copying neighbours from the device");
        stream
            .memcpy_dtoh(
                &dist_dev.slice(..rows * k),
                &mut dist[r0 * k..(r0 + rows) * k],
            )
            .map_err(&down)?;
        stream
            .memcpy_dtoh(
                &idx_dev.slice(..rows * k),
                &mut idx[r0 * k..(r0 + rows) * k],
            )
            .map_err(&down)?;
    }
    Ok((idx, dist))
}

#[cfg(test)]
mod emulated_tests;
