//! The CUDA back end of cdist: the metric mapped onto one of the tiled kernels of
//! `kernels/cdist.cu` (with rows prepared first where the CPU back end does the same: scaled
//! for weights and variances, multiplied by a Cholesky factor for mahalanobis, centred for
//! correlation), inputs uploaded packed in the compute precision, and the output computed in
//! row blocks that fit the device's free memory, each copied back as it is done.

use std::sync::OnceLock;

use cudarc::driver::{CudaSlice, DeviceRepr, LaunchConfig, PushKernelArg, ValidAsZeroBits};

use super::input::{cdist_dims, compute_dtype};
use super::metric::Metric;
use super::options::CdistOptions;
use super::stats;
use crate::array::NdArray;
use crate::device::{Device, DeviceArray, cuda_error};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};

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

/// `post` codes of the kernels (enum Post in kernels/cdist.cu).
const POST_IDENTITY: i32 = 0;
const POST_SQRT: i32 = 1;
const POST_ROOT_P: i32 = 2;
const POST_COSINE: i32 = 3;
const POST_MEAN: i32 = 4;

/// How the rows are prepared on the host before upload.
enum Prep {
    None,
    /// Multiplied feature by feature.
    Scale(Vec<f64>),
    /// Multiplied by a `d × d` matrix (row-major), `x · L`.
    Transform(Vec<f64>),
    /// Centred (correlation), then as cosine.
    Center,
}

/// A kernel (by op name), its last step, Minkowski's p, and the row preparation.
struct GpuPlan {
    op: &'static str,
    post: i32,
    p: f64,
    prep: Prep,
}

fn unsupported(metric: &Metric) -> Error {
    Error::Cuda(format!(
        "the {metric} metric has no CUDA kernel yet; use the cpu backend (or auto, which \
         falls back to it)"
    ))
}

/// The kernel for a metric whose data-derived defaults are already filled in.
fn plan(metric: &Metric, d: usize) -> Result<GpuPlan> {
    let plain = |op, post| GpuPlan {
        op,
        post,
        p: 1.0,
        prep: Prep::None,
    };
    Ok(match metric {
        Metric::SqEuclidean => plain("sqeuclidean", POST_IDENTITY),
        Metric::Euclidean => plain("sqeuclidean", POST_SQRT),
        Metric::Cityblock => plain("cityblock", POST_IDENTITY),
        Metric::Chebyshev => plain("chebyshev", POST_IDENTITY),
        Metric::Cosine => plain("dot", POST_COSINE),
        Metric::Correlation => GpuPlan {
            prep: Prep::Center,
            ..plain("dot", POST_COSINE)
        },
        Metric::Canberra => plain("canberra", POST_IDENTITY),
        Metric::BrayCurtis => plain("braycurtis", POST_IDENTITY),
        Metric::Hamming => plain("hamming", POST_MEAN),
        Metric::Minkowski { p, w } => {
            // Σ w·|u − v|^p = Σ |w^(1/p)·u − w^(1/p)·v|^p for w ≥ 0 (checked by validate).
            let prep = |root: f64| match w {
                Some(w) => Prep::Scale(w.iter().map(|w| w.powf(root)).collect()),
                None => Prep::None,
            };
            if *p == 1.0 {
                GpuPlan {
                    prep: prep(1.0),
                    ..plain("cityblock", POST_IDENTITY)
                }
            } else if *p == 2.0 {
                GpuPlan {
                    prep: prep(0.5),
                    ..plain("sqeuclidean", POST_SQRT)
                }
            } else if p.is_infinite() {
                if w.is_some() {
                    return Err(unsupported(metric));
                }
                plain("chebyshev", POST_IDENTITY)
            } else {
                GpuPlan {
                    op: "minkowski",
                    post: POST_ROOT_P,
                    p: *p,
                    prep: prep(1.0 / p),
                }
            }
        }
        Metric::SEuclidean { v: Some(v) } if v.iter().all(|&v| v > 0.0 && v.is_finite()) => {
            GpuPlan {
                prep: Prep::Scale(v.iter().map(|v| 1.0 / v.sqrt()).collect()),
                ..plain("sqeuclidean", POST_SQRT)
            }
        }
        Metric::Mahalanobis { vi: Some(vi) } => match stats::cholesky(vi, d) {
            Some(l) => GpuPlan {
                prep: Prep::Transform(l),
                ..plain("sqeuclidean", POST_SQRT)
            },
            None => return Err(unsupported(metric)),
        },
        _ => return Err(unsupported(metric)),
    })
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

/// The rows of `x` as prepared for `plan`, row-major, in `T`.
fn prepared_rows<T: Element>(x: &NdArray, d: usize, prep: &Prep) -> Result<Vec<T>> {
    let rows = x.to_vec_f64()?;
    let out = match prep {
        Prep::None => rows,
        Prep::Scale(s) => rows
            .chunks_exact(d.max(1))
            .flat_map(|r| r.iter().zip(s).map(|(v, s)| v * s))
            .collect(),
        Prep::Transform(l) => rows
            .chunks_exact(d.max(1))
            .flat_map(|r| (0..d).map(move |c| (0..d).map(|k| r[k] * l[k * d + c]).sum::<f64>()))
            .collect(),
        Prep::Center => rows
            .chunks_exact(d.max(1))
            .flat_map(|r| {
                let mean = r.iter().sum::<f64>() / d as f64;
                r.iter().map(move |v| v - mean)
            })
            .collect(),
    };
    Ok(out.into_iter().map(T::from_f64).collect())
}

/// `1 / ‖row‖` of prepared rows, for cosine's last step.
fn inverse_norms<T: Element>(rows: &[T], d: usize) -> Vec<f64> {
    rows.chunks_exact(d.max(1))
        .map(|r| {
            1.0 / r
                .iter()
                .map(|v| v.to_f64() * v.to_f64())
                .sum::<f64>()
                .sqrt()
        })
        .collect()
}

fn as_i32(v: usize, what: &str) -> Result<i32> {
    i32::try_from(v)
        .map_err(|_| Error::Cuda(format!("{what} = {v} exceeds the kernels' i32 range")))
}

/// The register tile of a kernel (as `DEFINE_OPS` in kernels/cdist.cu sets it).
fn tile(t: DType, op: &str) -> (usize, usize) {
    if t == DType::F32 && op != "braycurtis" {
        (128, 128)
    } else {
        (64, 64)
    }
}

fn type_name(t: DType) -> &'static str {
    if t == DType::F32 { "f32" } else { "f64" }
}

/// Threads per block of the distance kernels (TX · TY in kernels/cdist.cu).
const THREADS: u32 = 256;

/// Output rows per launch: the block must fit in a third of the device's free memory (and
/// 1 GiB), and span at most 65535 tiles down (the grid's y limit).
fn rows_per_block(n: usize, row_bytes: usize, free_memory: usize, bm: usize) -> usize {
    let budget = (free_memory / 3).min(1 << 30);
    (budget / row_bytes.max(1))
        .clamp(1, 65535 * bm)
        .min(n)
        .max(1)
}

/// One launch of a distance kernel: output rows `r0 .. r0 + rows`, over a grid of
/// `(column tiles, row tiles)`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct RowBlock {
    r0: usize,
    rows: usize,
    grid: (u32, u32),
}

/// The launches that cover an `n × m` output in blocks of `rows_per_block` rows with tiles of
/// `bm × bn`.
fn row_blocks(
    n: usize,
    m: usize,
    rows_per_block: usize,
    (bm, bn): (usize, usize),
) -> Vec<RowBlock> {
    (0..n)
        .step_by(rows_per_block.max(1))
        .map(|r0| {
            let rows = rows_per_block.min(n - r0);
            RowBlock {
                r0,
                rows,
                grid: (m.div_ceil(bn) as u32, rows.div_ceil(bm) as u32),
            }
        })
        .collect()
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
    let plan = plan(metric, d)?;
    let device = default_device()?;
    match (
        compute_dtype(xa, Some(xb), opts.accumulate_f64),
        opts.out_dtype,
    ) {
        (DType::F32, DType::F32) => run::<f32, f32>(&device, xa, xb, &plan, (n, m, d)),
        (DType::F32, _) => run::<f32, f64>(&device, xa, xb, &plan, (n, m, d)),
        (_, DType::F32) => run::<f64, f32>(&device, xa, xb, &plan, (n, m, d)),
        _ => run::<f64, f64>(&device, xa, xb, &plan, (n, m, d)),
    }
}

fn run<T: Element + DeviceRepr, O: Element + DeviceRepr + ValidAsZeroBits>(
    device: &Device,
    xa: &NdArray,
    xb: &NdArray,
    plan: &GpuPlan,
    (n, m, d): (usize, usize, usize),
) -> Result<NdArray> {
    if n == 0 || m == 0 {
        return NdArray::zeros(&[n, m], O::DTYPE);
    }
    let (a, b) = (
        prepared_rows::<T>(xa, d, &plan.prep)?,
        prepared_rows::<T>(xb, d, &plan.prep)?,
    );
    let stream = device.stream();
    // A zero-byte allocation is an error in CUDA: no features (d = 0) upload one spare zero.
    let upload = |v: &[T]| {
        let v = if v.is_empty() { &[T::zeroed()][..] } else { v };
        stream
            .clone_htod(v)
            .map_err(cuda_error("copying inputs to the device"))
    };
    let up = cuda_error("copying inputs to the device");
    let (a_dev, b_dev) = (upload(&a)?, upload(&b)?);
    let (inv_a, inv_b) = if plan.post == POST_COSINE {
        (inverse_norms(&a, d), inverse_norms(&b, d))
    } else {
        (vec![0.0], vec![0.0])
    };
    let inv_a_dev = stream.clone_htod(&inv_a).map_err(&up)?;
    let inv_b_dev = stream.clone_htod(&inv_b).map_err(&up)?;
    let name = format!(
        "cdist_{}_{}_{}",
        type_name(T::DTYPE),
        type_name(O::DTYPE),
        plan.op
    );
    let func = device.function(&name)?;
    let (bm, bn) = tile(T::DTYPE, plan.op);
    let rows_per_block = rows_per_block(n, m * size_of::<O>(), device.free_memory()?, bm);
    let mut out_dev: CudaSlice<O> = stream
        .alloc_zeros::<O>(rows_per_block * m)
        .map_err(cuda_error("allocating the output block"))?;
    let mut host: Vec<O> = vec![O::zeroed(); n * m];
    let (m32, d32) = (as_i32(m, "m")?, as_i32(d, "d")?);
    for RowBlock { r0, rows, grid } in row_blocks(n, m, rows_per_block, (bm, bn)) {
        let a_block = a_dev.slice((r0 * d).min(a_dev.len() - 1)..);
        let inv_a_block = if plan.post == POST_COSINE {
            inv_a_dev.slice(r0..r0 + rows)
        } else {
            inv_a_dev.slice(..)
        };
        let cfg = LaunchConfig {
            grid_dim: (grid.0, grid.1, 1),
            block_dim: (THREADS, 1, 1),
            shared_mem_bytes: 0,
        };
        let (rows32, ldo) = (as_i32(rows, "rows")?, m as i64);
        let mut launch = stream.launch_builder(&func);
        launch
            .arg(&a_block)
            .arg(&b_dev)
            .arg(&mut out_dev)
            .arg(&rows32)
            .arg(&m32)
            .arg(&d32)
            .arg(&ldo)
            .arg(&plan.p)
            .arg(&plan.post)
            .arg(&inv_a_block)
            .arg(&inv_b_dev);
        // SAFETY: the arguments match the kernel's signature in kernels/cdist.cu (const T*
        // A of rows × d, const T* B of m × d, O* out of rows × m with row stride m, the three
        // sizes, ldo, p, post, and inv_a / inv_b of at least rows / m entries when post is
        // cosine, one entry otherwise, unread); the grid covers rows × m in tiles of bm × bn
        // and the kernel checks every index against rows and m.
        unsafe { launch.launch(cfg) }.map_err(cuda_error("launching a distance kernel"))?;
        stream
            .memcpy_dtoh(
                &out_dev.slice(..rows * m),
                &mut host[r0 * m..(r0 + rows) * m],
            )
            .map_err(cuda_error("copying distances from the device"))?;
    }
    NdArray::from_vec(host, &[n, m])
}

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
    let plan = plan(metric, d)?;
    if !matches!(plan.prep, Prep::None) || plan.post == POST_COSINE {
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

#[cfg(test)]
#[path = "cuda_emulated_tests.rs"]
mod emulated_tests;
