//! cdist of arrays already on a GPU: strided inputs packed, and their rows prepared, on the
//! device (never through the host), the distance matrix left there as a device array.

use cudarc::driver::{
    CudaSlice, DeviceRepr, LaunchArgs, LaunchConfig, PushKernelArg, ValidAsZeroBits,
};

use super::super::metric::Metric;
use super::super::options::CdistOptions;
use super::blocks::{THREADS, cdist_kernel, tile, type_name};
use super::plan::{GpuPlan, RowSide, plan, row_side, strategy_plan};
use super::source::CDIST_CU;
use super::{as_i32, kernel_dtype};
use crate::device::{Device, DeviceArray, cuda_error};
use crate::distance::plan::RowPrep;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};

/// cdist of two arrays already on a GPU (`n × d` and `m × d`, float32 or float64, any
/// strides: strided ones are packed on the device, never copied through the host). The
/// result is a C-contiguous `n × m` device array of the options' output dtype. Rows that the
/// metric prepares (weights, variances, mahalanobis' factor, centring, 0/1, probabilities)
/// are prepared on the device too; seuclidean and mahalanobis need their `V` / `VI` given.
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
    if matches!(
        metric,
        Metric::SEuclidean { v: None } | Metric::Mahalanobis { vi: None }
    ) {
        return Err(Error::invalid(format!(
            "{metric}'s default (the variances or the inverse covariance of the data) is not \
             computed on the device; pass it explicitly (Metric::seuclidean(v), \
             Metric::mahalanobis(vi)) or use host arrays"
        )));
    }
    let plan = strategy_plan(plan(metric, d)?, metric, opts.strategy)?;
    let inputs_f32 = xa.dtype() == DType::F32 && xb.dtype() == DType::F32;
    let t = if inputs_f32 && !opts.accumulate_f64 {
        kernel_dtype(DType::F32, &plan, d)
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

/// The rows of a 2-d device array as the plan's kernel reads them: packed row-major as `T`,
/// prepared on the device where the plan says so (the `prep` kernel, the host's arithmetic),
/// with their row sides (a one-entry placeholder when the kernel reads none).
fn prepare<T: Element + DeviceRepr + ValidAsZeroBits>(
    device: &Device,
    x: &DeviceArray,
    plan: &GpuPlan,
) -> Result<(CudaSlice<T>, CudaSlice<f64>)> {
    let (prep, vec) = plan.prep.kernel_code();
    let side = row_side(plan.post);
    let stream = device.stream();
    let rows = x.shape()[0];
    let alloc = cuda_error("allocating prepared rows");
    if matches!(plan.prep, RowPrep::None) && side == RowSide::Unused {
        let sides = stream.alloc_zeros::<f64>(1).map_err(&alloc)?;
        return Ok((pack::<T>(device, x)?, sides));
    }
    let d = x.shape()[1];
    let mut dst = stream.alloc_zeros::<T>((rows * d).max(1)).map_err(&alloc)?;
    let mut sides = stream.alloc_zeros::<f64>(rows.max(1)).map_err(&alloc)?;
    if rows == 0 {
        return Ok((dst, sides));
    }
    // The kernel reads `vec` only for scales (d entries) and L (d × d); one zero otherwise.
    let vec = stream
        .clone_htod(if vec.is_empty() { &[0.0][..] } else { vec })
        .map_err(cuda_error("copying the row preparation to the device"))?;
    let func = device.function(
        &CDIST_CU,
        &format!("prep_{}_{}", type_name(x.dtype()), type_name(T::DTYPE)),
    )?;
    let source = StridedSource::of(x)?;
    let side_code = side.kernel_code();
    let cfg = LaunchConfig {
        grid_dim: (rows.min(65535) as u32, 1, 1),
        block_dim: (PREP_THREADS, 1, 1),
        shared_mem_bytes: 0,
    };
    let mut launch = stream.launch_builder(&func);
    source.push(x, &mut launch);
    launch
        .arg(&prep)
        .arg(&vec)
        .arg(&side_code)
        .arg(&mut dst)
        .arg(&mut sides);
    // SAFETY: matches prep_S_T(const char* src, long long offset, long long s0, long long s1,
    // int n, int d, int prep, const double* vec, int side, T* dst, double* sides): every
    // element it reads is at offset + i·s0 + k·s1 inside the buffer (DeviceArray's layout
    // invariant); vec holds d scales or d × d entries of L for the codes that read it (the
    // plan built them for this d); dst holds rows × d elements and sides rows entries.
    unsafe { launch.launch(cfg) }.map_err(cuda_error("launching the row preparation"))?;
    Ok((dst, sides))
}

/// Threads per block of the prep kernel (one block per row).
const PREP_THREADS: u32 = 128;

/// The leading arguments of the pack and prep kernels: a strided 2-d source (`const char*
/// src, long long offset, long long s0, long long s1, int n, int d`).
struct StridedSource {
    offset: i64,
    s0: i64,
    s1: i64,
    rows: i32,
    d: i32,
}

impl StridedSource {
    fn of(x: &DeviceArray) -> Result<Self> {
        Ok(StridedSource {
            offset: x.offset() as i64,
            s0: x.strides()[0] as i64,
            s1: x.strides()[1] as i64,
            rows: as_i32(x.shape()[0], "rows")?,
            d: as_i32(x.shape()[1], "d")?,
        })
    }

    fn push<'a>(&'a self, x: &'a DeviceArray, launch: &mut LaunchArgs<'a>) {
        launch
            .arg(x.buffer())
            .arg(&self.offset)
            .arg(&self.s0)
            .arg(&self.s1)
            .arg(&self.rows)
            .arg(&self.d);
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
    let func = device.function(
        &CDIST_CU,
        &format!("pack_{}_{}", type_name(x.dtype()), type_name(T::DTYPE)),
    )?;
    let source = StridedSource::of(x)?;
    let cfg = LaunchConfig {
        grid_dim: (((rows * d).div_ceil(256)).min(65535) as u32, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    };
    let mut launch = stream.launch_builder(&func);
    source.push(x, &mut launch);
    launch.arg(&mut dst);
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
    // Bytes, as a DeviceArray's buffer is; the kernel writes O through its pointer.
    let mut out: CudaSlice<u8> = stream
        .alloc_zeros::<u8>(out_bytes.max(1))
        .map_err(cuda_error("allocating the distance matrix"))?;
    if n > 0 && m > 0 {
        let (a, a_sides) = prepare::<T>(device, xa, plan)?;
        let (b, b_sides) = prepare::<T>(device, xb, plan)?;
        let uses_side = row_side(plan.post) != RowSide::Unused;
        let func = device.function(&CDIST_CU, &cdist_kernel(T::DTYPE, O::DTYPE, plan.op))?;
        let (bm, bn) = tile(T::DTYPE, plan.op);
        let (m32, d32, ldo) = (as_i32(m, "m")?, as_i32(d, "d")?, m as i64);
        // A grid spans at most 65535 row tiles: taller outputs take several launches.
        let per_launch = 65535 * bm;
        for r0 in (0..n).step_by(per_launch) {
            let rows = per_launch.min(n - r0);
            let cfg = LaunchConfig {
                grid_dim: (m.div_ceil(bn) as u32, rows.div_ceil(bm) as u32, 1),
                block_dim: (THREADS, 1, 1),
                shared_mem_bytes: 0,
            };
            let a_rows = a.slice((r0 * d).min(a.len() - 1)..);
            let a_side = if uses_side {
                a_sides.slice(r0..r0 + rows)
            } else {
                a_sides.slice(..)
            };
            let mut out_rows = out.slice_mut(r0 * m * size_of::<O>()..);
            let rows32 = as_i32(rows, "rows")?;
            let post_code = plan.post.code();
            let mut launch = stream.launch_builder(&func);
            launch
                .arg(&a_rows)
                .arg(&b)
                .arg(&mut out_rows)
                .arg(&rows32)
                .arg(&m32)
                .arg(&d32)
                .arg(&ldo)
                .arg(&plan.p)
                .arg(&post_code)
                .arg(&a_side)
                .arg(&b_sides);
            // SAFETY: as in streamed::run: A's rows from r0 (rows × d packed T), B (m × d),
            // `out` from row r0 (rows × m elements of O, row stride m; the buffer holds n · m
            // of them, 256-byte aligned by the driver, r0 · m · size_of::<O>() keeps O's
            // alignment), the sizes, and the row
            // sides of these rows and of B (rows and m entries, `prepare` computed them) when
            // the post code reads them, one-entry placeholders otherwise; the grid covers
            // rows × m in whole tiles and the kernel checks every index.
            unsafe { launch.launch(cfg) }.map_err(cuda_error("launching a distance kernel"))?;
        }
    }
    DeviceArray::from_device_buffer(out, &[n, m], O::DTYPE, device)
}
