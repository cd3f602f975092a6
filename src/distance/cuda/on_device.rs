//! cdist of arrays already on a GPU: strided inputs packed on the device, the distance
//! matrix left there as a device array.

use cudarc::driver::{CudaSlice, DeviceRepr, LaunchConfig, PushKernelArg, ValidAsZeroBits};

use super::super::metric::Metric;
use super::super::options::CdistOptions;
use super::as_i32;
use super::blocks::{THREADS, tile, type_name};
use super::plan::GpuPlan;
use super::plan::{Prep, RowSide, plan, row_side, strategy_plan};
use crate::device::{Device, DeviceArray, cuda_error};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};

/// cdist of two arrays already on a GPU (`n × d` and `m × d`, float32 or float64, any
/// strides: strided ones are packed on the device, never copied through the host). The
/// result is a C-contiguous `n × m` device array of the options' output dtype. Metrics whose
/// rows need preparing (weights, seuclidean, mahalanobis, correlation, cosine) are not on
/// this path yet: use host arrays with [`Backend::Cuda`](super::Backend::Cuda).
pub fn cdist_device(
    xa: &DeviceArray,
    xb: &DeviceArray,
    metric: &Metric,
    opts: &CdistOptions,
) -> Result<DeviceArray> {
    let device = xa.device();
    if device.ordinal() != xb.device().ordinal() {
        return Err(Error::Cuda("the inputs are on different devices".into()));
    }
    for (name, x) in [("xa", xa), ("xb", xb)] {
        if x.ndim() != 2 {
            return Err(Error::shape(
                "cdist",
                format!("{name} must be 2-d, got shape {:?}", x.shape()),
            ));
        }
        if !matches!(x.dtype(), DType::F32 | DType::F64) {
            return Err(Error::invalid(format!(
                "device cdist takes float32 or float64 arrays, {name} is {}",
                x.dtype()
            )));
        }
    }
    let (n, m, d) = (xa.shape()[0], xb.shape()[0], xa.shape()[1]);
    if xb.shape()[1] != d {
        return Err(Error::shape(
            "cdist",
            format!("xa has {d} columns, xb has {}", xb.shape()[1]),
        ));
    }
    metric.validate(d)?;
    let plan = strategy_plan(plan(metric, d)?, metric, opts.strategy)?;
    if !matches!(plan.prep, Prep::None) || row_side(plan.post) != RowSide::Unused {
        return Err(Error::Cuda(format!(
            "the {metric} metric needs prepared rows, not yet done on the device: pass host \
             arrays with the cuda backend"
        )));
    }
    let t = if xa.dtype() == DType::F32 && xb.dtype() == DType::F32 && !opts.accumulate_f64 {
        DType::F32
    } else {
        DType::F64
    };
    match (t, opts.out_dtype) {
        (DType::F32, DType::F32) => run_device::<f32, f32>(device, xa, xb, &plan, (n, m, d)),
        (DType::F32, _) => run_device::<f32, f64>(device, xa, xb, &plan, (n, m, d)),
        (_, DType::F32) => run_device::<f64, f32>(device, xa, xb, &plan, (n, m, d)),
        _ => run_device::<f64, f64>(device, xa, xb, &plan, (n, m, d)),
    }
}

/// A strided 2-d device array packed row-major as `T` by the pack kernel.
fn pack<T: Element + DeviceRepr + ValidAsZeroBits>(
    device: &Device,
    x: &DeviceArray,
) -> Result<CudaSlice<T>> {
    let (rows, d) = (x.shape()[0], x.shape()[1]);
    let stream = device.stream();
    let mut dst = stream
        .alloc_zeros::<T>((rows * d).max(1))
        .map_err(cuda_error("allocating a packed copy"))?;
    if rows * d == 0 {
        return Ok(dst);
    }
    let func = device.function(&format!(
        "pack_{}_{}",
        type_name(x.dtype()),
        type_name(T::DTYPE)
    ))?;
    let (offset, s0, s1) = (
        x.offset() as i64,
        x.strides()[0] as i64,
        x.strides()[1] as i64,
    );
    let (rows32, d32) = (as_i32(rows, "rows")?, as_i32(d, "d")?);
    let cfg = LaunchConfig {
        grid_dim: (((rows * d).div_ceil(256)).min(65535) as u32, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    };
    let mut launch = stream.launch_builder(&func);
    launch
        .arg(x.buffer())
        .arg(&offset)
        .arg(&s0)
        .arg(&s1)
        .arg(&rows32)
        .arg(&d32)
        .arg(&mut dst);
    // SAFETY: matches pack_S_T(const char* src, long long offset, long long s0, long long s1,
    // int n, int d, T* dst); every element (i, k) it reads is at offset + i·s0 + k·s1, inside
    // the buffer (DeviceArray's layout invariant), and dst holds rows × d elements.
    unsafe { launch.launch(cfg) }.map_err(cuda_error("launching the pack kernel"))?;
    Ok(dst)
}

fn run_device<T: Element + DeviceRepr + ValidAsZeroBits, O: Element + DeviceRepr>(
    device: &Device,
    xa: &DeviceArray,
    xb: &DeviceArray,
    plan: &GpuPlan,
    (n, m, d): (usize, usize, usize),
) -> Result<DeviceArray> {
    let out_bytes = n * m * size_of::<O>();
    let stream = device.stream();
    let mut out: CudaSlice<u8> = stream
        .alloc_zeros::<u8>(out_bytes.max(1))
        .map_err(cuda_error("allocating the distance matrix"))?;
    if n > 0 && m > 0 {
        let a = pack::<T>(device, xa)?;
        let b = pack::<T>(device, xb)?;
        let unused = stream
            .alloc_zeros::<f64>(1)
            .map_err(cuda_error("allocating a placeholder"))?;
        let func = device.function(&format!(
            "cdist_{}_{}_{}",
            type_name(T::DTYPE),
            type_name(O::DTYPE),
            plan.op
        ))?;
        let (bm, bn) = tile(T::DTYPE, plan.op);
        if n.div_ceil(bm) > 65535 {
            return Err(Error::Cuda(format!(
                "{n} rows are more than one launch covers; use host arrays (row blocks)"
            )));
        }
        let cfg = LaunchConfig {
            grid_dim: (m.div_ceil(bn) as u32, n.div_ceil(bm) as u32, 1),
            block_dim: (THREADS, 1, 1),
            shared_mem_bytes: 0,
        };
        let (n32, m32, d32, ldo) = (as_i32(n, "n")?, as_i32(m, "m")?, as_i32(d, "d")?, m as i64);
        let mut launch = stream.launch_builder(&func);
        launch
            .arg(&a)
            .arg(&b)
            .arg(&mut out)
            .arg(&n32)
            .arg(&m32)
            .arg(&d32)
            .arg(&ldo)
            .arg(&plan.p)
            .arg(&plan.post)
            .arg(&unused)
            .arg(&unused);
        // SAFETY: as in `run`: A is n × d and B m × d packed T, `out` holds n × m elements
        // of O (allocated as n·m·size_of::<O>() bytes, 256-byte aligned by the driver), and
        // the post code never reads the placeholders.
        unsafe { launch.launch(cfg) }.map_err(cuda_error("launching a distance kernel"))?;
    }
    DeviceArray::from_device_buffer(out, &[n, m], O::DTYPE, device)
}
