//! The CUDA back end of cdist: the metric mapped onto one of the tiled kernels of
//! `kernels/cdist.cu` (with rows prepared first where the CPU back end does the same: scaled
//! for weights and variances, multiplied by a Cholesky factor for mahalanobis, centred for
//! correlation), inputs uploaded packed in the compute precision, and the output computed in
//! row blocks that fit the device's free memory, each copied back as it is done.

use std::sync::OnceLock;

use cudarc::driver::{
    CudaSlice, CudaView, DeviceRepr, LaunchConfig, PushKernelArg, ValidAsZeroBits,
};

use super::input::{cdist_dims, compute_dtype};
use super::metric::Metric;
use super::options::{CdistOptions, Strategy};
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
const POST_TRICK_SQ: i32 = 5;
const POST_TRICK: i32 = 6;
const POST_JENSENSHANNON: i32 = 7;
const POST_JACCARD: i32 = 10;
const POST_DICE: i32 = 11;
const POST_ROGERSTANIMOTO: i32 = 12;
const POST_RUSSELLRAO: i32 = 13;
const POST_SOKALSNEATH: i32 = 14;
const POST_YULE: i32 = 15;
const POST_KULCZYNSKI1: i32 = 16;

/// How the rows are prepared on the host before upload.
enum Prep {
    None,
    /// Multiplied feature by feature.
    Scale(Vec<f64>),
    /// Multiplied by a `d × d` matrix (row-major), `x · L`.
    Transform(Vec<f64>),
    /// Centred (correlation), then as cosine.
    Center,
    /// Nonzero as 1, zero as 0 (SciPy's conversion to bool) for the boolean metrics.
    Boolean,
    /// Divided by the row's sum (Jensen–Shannon's probability vectors).
    Probability,
}

/// What the kernel's last step reads per row (its `inv_a` / `inv_b`), by post code.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RowSide {
    /// Nothing (one unread placeholder).
    Unused,
    /// `1 / ‖row‖` of the prepared row (cosine).
    InverseNorm,
    /// `‖row‖²` of the prepared row (the matmul trick).
    SquaredNorm,
    /// The prepared 0/1 row's count of ones (the boolean metrics).
    Count,
    /// 1 where SciPy's Jensen–Shannon answers inf for any pair with the row (a negative entry
    /// or a zero sum), else 0.
    JensenShannonFlag,
}

fn row_side(post: i32) -> RowSide {
    match post {
        POST_COSINE => RowSide::InverseNorm,
        POST_TRICK | POST_TRICK_SQ => RowSide::SquaredNorm,
        POST_JENSENSHANNON => RowSide::JensenShannonFlag,
        p if p >= POST_JACCARD => RowSide::Count,
        _ => RowSide::Unused,
    }
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
        Metric::JensenShannon => GpuPlan {
            prep: Prep::Probability,
            ..plain("jensenshannon", POST_JENSENSHANNON)
        },
        Metric::Jaccard
        | Metric::Dice
        | Metric::RogersTanimoto
        | Metric::SokalMichener
        | Metric::RussellRao
        | Metric::SokalSneath
        | Metric::Yule
        | Metric::Kulczynski1 => {
            let post = match metric {
                Metric::Jaccard => POST_JACCARD,
                Metric::Dice => POST_DICE,
                Metric::RogersTanimoto | Metric::SokalMichener => POST_ROGERSTANIMOTO,
                Metric::RussellRao => POST_RUSSELLRAO,
                Metric::SokalSneath => POST_SOKALSNEATH,
                Metric::Yule => POST_YULE,
                _ => POST_KULCZYNSKI1,
            };
            // ntt = a · b of the 0/1 rows; the other counts follow from the rows' counts.
            GpuPlan {
                prep: Prep::Boolean,
                ..plain("dot", post)
            }
        }
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

/// The matmul-trick form of a euclidean-family plan (`‖a‖² + ‖b‖² − 2·a·b`, the seed's
/// CuPy lab): the same prepared rows through the `dot` kernel. `None` for other metrics.
fn trick_plan(plan: GpuPlan) -> Option<GpuPlan> {
    let post = match (plan.op, plan.post) {
        ("sqeuclidean", POST_IDENTITY) => POST_TRICK_SQ,
        ("sqeuclidean", POST_SQRT) => POST_TRICK,
        _ => return None,
    };
    Some(GpuPlan {
        op: "dot",
        post,
        ..plan
    })
}

/// The plan for the options' strategy: `MatmulTrick` takes the trick form of the euclidean
/// family, and cosine and correlation as they are (already a product of normalised rows);
/// other metrics are an error under it, as on the CPU. The other strategies name CPU loop
/// shapes and all mean the tiled kernels here.
fn strategy_plan(plan: GpuPlan, metric: &Metric, strategy: Strategy) -> Result<GpuPlan> {
    if strategy != Strategy::MatmulTrick || plan.post == POST_COSINE {
        return Ok(plan);
    }
    trick_plan(plan).ok_or_else(|| {
        Error::invalid(format!(
            "the matmul strategy computes the euclidean family, cosine and correlation, not \
             {metric}; use the simd strategy"
        ))
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

/// The rows of `x` as prepared for `plan`, row-major, in `T`, and what the kernel's last step
/// reads per row ([`RowSide`]; one placeholder when nothing).
fn prepared_rows<T: Element>(x: &NdArray, d: usize, plan: &GpuPlan) -> Result<(Vec<T>, Vec<f64>)> {
    let raw = x.to_vec_f64()?;
    let rows = |f: &dyn Fn(&[f64]) -> Vec<f64>| -> Vec<f64> {
        raw.chunks_exact(d.max(1)).flat_map(f).collect()
    };
    let prepared = match &plan.prep {
        Prep::None => raw.clone(),
        Prep::Scale(s) => rows(&|r| r.iter().zip(s).map(|(v, s)| v * s).collect()),
        Prep::Transform(l) => rows(&|r| {
            (0..d)
                .map(|c| (0..d).map(|k| r[k] * l[k * d + c]).sum())
                .collect()
        }),
        Prep::Center => rows(&|r| {
            let mean = r.iter().sum::<f64>() / d as f64;
            r.iter().map(|v| v - mean).collect()
        }),
        Prep::Boolean => raw
            .iter()
            .map(|&v| if v != 0.0 { 1.0 } else { 0.0 })
            .collect(),
        // Summed in order, as SciPy and the CPU back end do.
        Prep::Probability => rows(&|r| {
            let sum = r.iter().fold(0.0, |a, v| a + v);
            r.iter().map(|v| v / sum).collect()
        }),
    };
    let prepared: Vec<T> = prepared.into_iter().map(T::from_f64).collect();
    let per_row = |f: &dyn Fn(&[T], &[f64]) -> f64| -> Vec<f64> {
        prepared
            .chunks_exact(d.max(1))
            .zip(raw.chunks_exact(d.max(1)))
            .map(|(p, r)| f(p, r))
            .collect()
    };
    let norm2 = |p: &[T]| p.iter().map(|v| v.to_f64() * v.to_f64()).sum::<f64>();
    let side = match row_side(plan.post) {
        RowSide::Unused => vec![],
        RowSide::InverseNorm => per_row(&|p, _| 1.0 / norm2(p).sqrt()),
        RowSide::SquaredNorm => per_row(&|p, _| norm2(p)),
        RowSide::Count => per_row(&|p, _| p.iter().map(|v| v.to_f64()).sum()),
        RowSide::JensenShannonFlag => per_row(&|_, r| {
            let bad = r.iter().any(|&v| v < 0.0) || r.iter().fold(0.0, |a, v| a + v) == 0.0;
            if bad { 1.0 } else { 0.0 }
        }),
    };
    let side = if side.is_empty() { vec![0.0] } else { side };
    Ok((prepared, side))
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
    let plan = strategy_plan(plan(metric, d)?, metric, opts.strategy)?;
    let device = default_device()?;
    // Counts of ones are exact in float32 only below 2^24 features.
    let t = match compute_dtype(xa, Some(xb), opts.accumulate_f64) {
        DType::F32 if row_side(plan.post) == RowSide::Count && d >= 1 << 24 => DType::F64,
        t => t,
    };
    match (t, opts.out_dtype) {
        (DType::F32, DType::F32) => run::<f32, f32>(&device, xa, xb, &plan, (n, m, d)),
        (DType::F32, _) => run::<f32, f64>(&device, xa, xb, &plan, (n, m, d)),
        (_, DType::F32) => run::<f64, f32>(&device, xa, xb, &plan, (n, m, d)),
        _ => run::<f64, f64>(&device, xa, xb, &plan, (n, m, d)),
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
    let uploaded = UploadedRows::<T>::new(device, xa, xb, d, plan)?;
    let stream = device.stream();
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
        let (a_block, inv_a_block) = uploaded.a_block(r0, rows, d);
        let cfg = LaunchConfig {
            grid_dim: (grid.0, grid.1, 1),
            block_dim: (THREADS, 1, 1),
            shared_mem_bytes: 0,
        };
        let (rows32, ldo) = (as_i32(rows, "rows")?, m as i64);
        let mut launch = stream.launch_builder(&func);
        launch
            .arg(&a_block)
            .arg(&uploaded.b)
            .arg(&mut out_dev)
            .arg(&rows32)
            .arg(&m32)
            .arg(&d32)
            .arg(&ldo)
            .arg(&plan.p)
            .arg(&plan.post)
            .arg(&inv_a_block)
            .arg(&uploaded.side_b);
        // SAFETY: the arguments match the kernel's signature in kernels/cdist.cu (const T*
        // A of rows × d, const T* B of m × d, O* out of rows × m with row stride m, the three
        // sizes, ldo, p, post, and inv_a / inv_b of at least rows / m entries when the post
        // code reads them (row_side), one entry otherwise, unread); the grid covers rows × m in tiles of bm × bn
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

/// Rows per launch of the kNN kernels (`knn_rows`' 4 × 4 register blocks × 16 threads).
const KNN_ROWS: usize = 64;

/// The fused kNN kernel's plan for a metric whose data-derived defaults are filled in, and
/// whether the host takes the square root of the survivors: euclidean ranks by squared
/// distances, as the CPU back end does, so that both see the same ties.
fn knn_plan(metric: &Metric, d: usize) -> Result<(GpuPlan, bool)> {
    let p = plan(metric, d)?;
    Ok(if p.op == "sqeuclidean" && p.post == POST_SQRT {
        (
            GpuPlan {
                post: POST_IDENTITY,
                ..p
            },
            true,
        )
    } else {
        (p, false)
    })
}

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

#[cfg(test)]
#[path = "cuda_emulated_tests.rs"]
mod emulated_tests;
