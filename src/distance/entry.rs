//! The public entry points (`cdist`, `pdist` and their options forms) and the choice of
//! computation path per metric for the `Simd` strategy.

use super::bits::{BitRows, run_bits};
use super::canberra::{self, CanberraRows};
use super::input::{Operand, cdist_dims, compute_dtype, pdist_dims};
use super::jensenshannon::{self, ProbabilityRows};
use super::kernels::{DistFloat, KernelOp};
use super::metric::Metric;
use super::options::{Backend, CdistOptions, Strategy};
use super::pairwise::{self, ByRow, run_pairs, run_rows};
use super::sink::{Post, Sink};
use super::spec::MetricSpec;
use super::stats;
use super::tiled::run_tiled;
use super::{broadcast, matmul_trick};
use crate::array::{ArrayViewMut, NdArray};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result, shape_str};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The output element types: float64 (SciPy's) and float32.
pub trait DistanceOutput: Element + sealed::Sealed {}
impl DistanceOutput for f32 {}
impl DistanceOutput for f64 {}

/// `scipy.spatial.distance.cdist(xa, xb, metric)`: the `n × m` float64 matrix of distances
/// between the rows of `xa` (`n × d`) and of `xb` (`m × d`).
///
/// ```
/// use ndstride::{NdArray, distance::{cdist, Metric}};
/// let xa = NdArray::from_vec(vec![0.0, 0.0, 3.0, 4.0], &[2, 2])?;
/// let xb = NdArray::from_vec(vec![0.0f64, 0.0], &[1, 2])?;
/// let d = cdist(&xa, &xb, Metric::Euclidean)?;
/// assert_eq!(d.to_vec::<f64>()?, vec![0.0, 5.0]);
/// # Ok::<(), ndstride::Error>(())
/// ```
///
/// `metric` is anything that converts into a [`MetricSpec`]: a metric (default options) or a
/// pair `(metric, opts)`, as for every distance function.
pub fn cdist<'a>(xa: &NdArray, xb: &NdArray, metric: impl Into<MetricSpec<'a>>) -> Result<NdArray> {
    let spec = metric.into();
    cdist_with(xa, xb, spec.metric(), spec.opts())
}

/// [`cdist`] with options (strategy, output dtype, threads, precision): the same as
/// `cdist(xa, xb, (metric, opts))`.
pub fn cdist_with(
    xa: &NdArray,
    xb: &NdArray,
    metric: &Metric,
    opts: &CdistOptions,
) -> Result<NdArray> {
    let (n, m, d) = cdist_dims(xa, xb)?;
    if let Some(out) = on_gpu(xa, Some(xb), metric, opts, (n, m, d))? {
        return Ok(out);
    }
    // Every element is written below (or the array is dropped on error), so the output is
    // not zeroed first; large buffers come from the huge-page pool.
    let mut out = NdArray::for_overwrite(&[n, m], check_out_dtype(opts.out_dtype)?)?;
    // The GPU was asked above; a declined or failed Auto does not try it again.
    let cpu = opts.clone().backend(Backend::Cpu);
    match opts.out_dtype {
        DType::F32 => cdist_into(xa, xb, metric, &cpu, &mut out.view_mut::<f32>()?)?,
        _ => cdist_into(xa, xb, metric, &cpu, &mut out.view_mut::<f64>()?)?,
    }
    Ok(out)
}

/// [`cdist`] written into `out`, an `n × m` view with any strides (the option's output dtype
/// is ignored: `out`'s element type is used).
pub fn cdist_into<O: DistanceOutput>(
    xa: &NdArray,
    xb: &NdArray,
    metric: &Metric,
    opts: &CdistOptions,
    out: &mut ArrayViewMut<'_, O>,
) -> Result<()> {
    let (n, m, d) = cdist_dims(xa, xb)?;
    if out.shape() != [n, m] {
        return Err(Error::shape(
            "cdist",
            format!(
                "out has shape {}, the distances have shape {}",
                shape_str(out.shape()),
                shape_str(&[n, m])
            ),
        ));
    }
    let (base, layout) = out.raw_parts();
    let isz = size_of::<O>() as isize;
    if layout.strides.iter().any(|s| s % isz != 0) {
        return Err(Error::invalid(format!(
            "out's strides {:?} are not multiples of its element size {isz}",
            layout.strides
        )));
    }
    if let Some(got) = on_gpu(
        xa,
        Some(xb),
        metric,
        &opts.clone().out_dtype(O::DTYPE),
        (n, m, d),
    )? {
        return out.assign(&got.view::<O>()?);
    }
    let sink = Sink::Matrix {
        // SAFETY: the view's offset is inside its buffer.
        ptr: unsafe { base.add(layout.offset) }.cast::<O>(),
        rs: layout.strides[0] / isz,
        cs: layout.strides[1] / isz,
    };
    metric.validate(d)?;
    // SAFETY: `out` is an exclusive, in-bounds, non-self-overlapping view of n × m elements
    // of O (ArrayViewMut's invariant), and, being borrowed mutably from the sole owner of its
    // buffer, shares no memory with the inputs.
    opts.run(|| unsafe { compute(xa, Some(xb), metric, opts, sink, (n, m, d)) })?
}

/// `scipy.spatial.distance.pdist(x, metric)`: the condensed distance vector of the rows of
/// `x` (`n × d`), length `n·(n−1)/2`, pairs `(0,1), (0,2), …, (1,2), …`. Each pair is
/// computed once.
///
/// ```
/// use ndstride::{NdArray, distance::{pdist, squareform, Metric}};
/// let x = NdArray::from_vec(vec![0.0, 1.0, 3.0], &[3, 1])?;
/// let v = pdist(&x, Metric::Cityblock)?;
/// assert_eq!(v.to_vec::<f64>()?, vec![1.0, 3.0, 2.0]);
/// assert_eq!(squareform(&v)?.shape(), &[3, 3]);
/// # Ok::<(), ndstride::Error>(())
/// ```
pub fn pdist<'a>(x: &NdArray, metric: impl Into<MetricSpec<'a>>) -> Result<NdArray> {
    let spec = metric.into();
    pdist_with(x, spec.metric(), spec.opts())
}

/// [`pdist`] with options: the same as `pdist(x, (metric, opts))`.
pub fn pdist_with(x: &NdArray, metric: &Metric, opts: &CdistOptions) -> Result<NdArray> {
    let (n, d) = pdist_dims(x)?;
    let len = n
        .checked_mul(n.saturating_sub(1))
        .map(|p| p / 2)
        .ok_or_else(|| Error::overflow(format!("pdist of {n} rows")))?;
    let dtype = check_out_dtype(opts.out_dtype)?;
    if let Some(full) = on_gpu(x, None, metric, opts, (n, n, d))? {
        return condensed(&full, n, len);
    }
    let mut out = NdArray::for_overwrite(&[len], dtype)?; // every element is written below
    metric.validate(d)?;
    fn go<O: DistanceOutput>(
        x: &NdArray,
        metric: &Metric,
        opts: &CdistOptions,
        out: &mut NdArray,
        n: usize,
        d: usize,
    ) -> Result<()> {
        let mut view = out.view_mut::<O>()?;
        let (base, layout) = view.raw_parts();
        let sink = Sink::Condensed {
            // SAFETY: a fresh contiguous array; its offset is inside the buffer.
            ptr: unsafe { base.add(layout.offset) }.cast::<O>(),
            n,
        };
        // SAFETY: the fresh output holds n(n−1)/2 elements and is ours alone.
        opts.run(|| unsafe { compute(x, None, metric, opts, sink, (n, n, d)) })?
    }
    match dtype {
        DType::F32 => go::<f32>(x, metric, opts, &mut out, n, d)?,
        _ => go::<f64>(x, metric, opts, &mut out, n, d)?,
    }
    Ok(out)
}

/// The matrix computed on the GPU where the options' backend says so (`xb = None`: pdist's
/// `x` against itself, with pdist's data-derived defaults); `None`: compute on the CPU.
fn on_gpu(
    xa: &NdArray,
    xb: Option<&NdArray>,
    metric: &Metric,
    opts: &CdistOptions,
    (n, m, d): (usize, usize, usize),
) -> Result<Option<NdArray>> {
    if opts.backend == Backend::Cpu {
        return Ok(None);
    }
    metric.validate(d)?;
    check_out_dtype(opts.out_dtype)?;
    #[cfg(feature = "cuda")]
    {
        use super::cuda;
        let go = || -> Result<NdArray> {
            let resolved = stats::with_defaults(metric, xa, xb, d)?;
            cuda::cdist(xa, xb.unwrap_or(xa), &resolved, opts)
        };
        match opts.backend {
            Backend::Cuda => go().map(Some),
            // Any GPU failure under Auto (a kernel missing for these defaults, memory)
            // falls back to the CPU.
            _ if cuda::auto_picks_gpu(metric, n, m, d) => Ok(go().ok()),
            _ => Ok(None),
        }
    }
    #[cfg(not(feature = "cuda"))]
    {
        let _ = (xa, xb, n, m);
        match opts.backend {
            Backend::Cuda => Err(Error::Cuda(
                "this build of ndstride has no CUDA support (cargo feature `cuda`)".into(),
            )),
            _ => Ok(None),
        }
    }
}

/// The pairs `i < j` of a full `n × n` matrix, in SciPy's condensed order.
fn condensed(full: &NdArray, n: usize, len: usize) -> Result<NdArray> {
    fn go<O: DistanceOutput>(full: &NdArray, n: usize, len: usize) -> Result<NdArray> {
        let view = full.view::<O>()?;
        let all = view
            .as_slice()
            .ok_or_else(|| Error::invalid("the GPU's matrix is not contiguous"))?;
        let mut out = Vec::with_capacity(len);
        for i in 0..n {
            out.extend_from_slice(&all[i * n + i + 1..(i + 1) * n]);
        }
        NdArray::from_vec(out, &[len])
    }
    match full.dtype() {
        DType::F32 => go::<f32>(full, n, len),
        _ => go::<f64>(full, n, len),
    }
}

pub(crate) fn check_out_dtype(d: DType) -> Result<DType> {
    match d {
        DType::F32 | DType::F64 => Ok(d),
        _ => Err(Error::invalid(format!(
            "distances are written as float64 or float32, not {d}"
        ))),
    }
}

/// Dispatches on the strategy. `xb = None` is pdist (condensed sink).
///
/// # Safety
/// `sink` is `n × m` (or condensed over n), exclusively the caller's, disjoint from inputs.
unsafe fn compute<O: Element>(
    xa: &NdArray,
    xb: Option<&NdArray>,
    metric: &Metric,
    opts: &CdistOptions,
    sink: Sink<O>,
    dims: (usize, usize, usize),
) -> Result<()> {
    // SAFETY (all three): forwarded.
    match opts.strategy {
        Strategy::Simd => unsafe { simd(xa, xb, metric, opts, sink, dims) },
        Strategy::MatmulTrick => unsafe { matmul_trick::run(xa, xb, metric, opts, sink, dims) },
        Strategy::Broadcast => unsafe { broadcast::run(xa, xb, metric, opts, sink, dims) },
    }
}

/// The `Simd` strategy: a register-blocked kernel where the metric has one (possibly after
/// transforming the rows: weights, variances, Cholesky factor, centring), bit-packed counts
/// for boolean metrics, vectorised pair loops for the rest.
///
/// # Safety
/// As for [`compute`].
unsafe fn simd<O: Element>(
    xa: &NdArray,
    xb: Option<&NdArray>,
    metric: &Metric,
    opts: &CdistOptions,
    sink: Sink<O>,
    (n, m, d): (usize, usize, usize),
) -> Result<()> {
    type PairsFn<'a> = &'a dyn Fn(&[f64], &[f64]) -> Result<()>;
    let pairs = |pm: PairsFn<'_>| -> Result<()> {
        let a = xa.to_vec_f64()?;
        match xb {
            Some(xb) => pm(&a, &xb.to_vec_f64()?),
            None => pm(&a, &a),
        }
    };
    // SAFETY (every `run_*` below): the sink is the caller's, n × m or condensed over n.
    macro_rules! pairwise {
        ($pm:expr) => {
            pairs(&|a, b| {
                unsafe { run_pairs(&$pm, a, b, d, n, m, sink) };
                Ok(())
            })
        };
    }
    if metric.is_boolean() {
        let numeric = std::iter::once(xa)
            .chain(xb)
            .any(|x| x.dtype() != DType::Bool);
        return match metric {
            Metric::Hamming if numeric => pairwise!(pairwise::Hamming),
            _ => {
                let a = BitRows::new(xa)?;
                let b = xb.map(BitRows::new).transpose()?;
                // SAFETY: the sink is the caller's, n × m or condensed over n (see `compute`).
                unsafe { run_bits(metric, &a, b.as_ref().unwrap_or(&a), d, sink) };
                Ok(())
            }
        };
    }
    let plan = match metric {
        Metric::SqEuclidean => Plan::Kernel(KernelOp::SqEuclidean, false),
        Metric::Euclidean => Plan::Kernel(KernelOp::SqEuclidean, true),
        Metric::Cityblock => Plan::Kernel(KernelOp::Cityblock, false),
        Metric::Chebyshev => Plan::Kernel(KernelOp::Chebyshev, false),
        Metric::Minkowski { p, w: None } if *p == 1.0 => Plan::Kernel(KernelOp::Cityblock, false),
        Metric::Minkowski { p, w: None } if *p == 2.0 => Plan::Kernel(KernelOp::SqEuclidean, true),
        Metric::Minkowski { p, w: None } if p.is_infinite() => {
            Plan::Kernel(KernelOp::Chebyshev, false)
        }
        // Σ w·|u−v| = Σ |w·u − w·v| and Σ w·(u−v)² = Σ (√w·u − √w·v)², for w ≥ 0.
        Metric::Minkowski { p, w: Some(w) } if *p == 1.0 => {
            Plan::ScaledKernel(w.clone(), KernelOp::Cityblock, false)
        }
        Metric::Minkowski { p, w: Some(w) } if *p == 2.0 => Plan::ScaledKernel(
            w.iter().map(|w| w.sqrt()).collect(),
            KernelOp::SqEuclidean,
            true,
        ),
        Metric::Minkowski { p, w } => {
            return pairwise!(pairwise::Minkowski {
                p: *p,
                w: w.as_deref()
            });
        }
        Metric::SEuclidean { v } => {
            let v = match v {
                Some(v) => v.clone(),
                None => stats::variance(&stats::Observations::new(xa, xb), d)?,
            };
            if v.iter().all(|&v| v > 0.0 && v.is_finite()) {
                // Σ (u−v)²/V = Σ (u/√V − v/√V)².
                Plan::ScaledKernel(
                    v.iter().map(|v| 1.0 / v.sqrt()).collect(),
                    KernelOp::SqEuclidean,
                    true,
                )
            } else {
                // Zero or infinite variances: SciPy's d²/V (inf or NaN) exactly, pair by pair.
                return pairwise!(pairwise::SEuclidean { v: &v });
            }
        }
        Metric::Mahalanobis { vi } => {
            let vi = match vi {
                Some(vi) => vi.clone(),
                None => stats::inverse_covariance(&stats::Observations::new(xa, xb), d)?,
            };
            match stats::cholesky(&vi, d) {
                Some(l) => Plan::Transformed(l),
                None => return pairwise!(pairwise::Mahalanobis { vi: &vi }),
            }
        }
        Metric::Cosine => Plan::Cosine { center: false },
        Metric::Correlation => Plan::Cosine { center: true },
        Metric::Canberra => {
            return pairs(&|a, b| {
                let ra = CanberraRows::new(a, n, d);
                let rb = xb.map(|_| CanberraRows::new(b, m, d));
                let rb = rb.as_ref().unwrap_or(&ra);
                let kernel = canberra::Pairs { a: &ra, b: rb };
                // SAFETY: the sink is the caller's, n × m or condensed over n.
                unsafe { run_rows(n, m, d, 16 * d, sink, &kernel) };
                Ok(())
            });
        }
        // Σ|u − v| / Σ|u + v| = cityblock(u, v) / cityblock(u, −v): two passes of the
        // register-blocked kernel instead of a pair-at-a-time loop.
        // SAFETY: the sink is the caller's (see `compute`).
        Metric::BrayCurtis => return unsafe { bray_curtis(xa, xb, opts, sink, (n, m, d)) },
        Metric::JensenShannon => {
            return pairs(&|a, b| {
                let ra = ProbabilityRows::new(a, n, d);
                let rb = xb.map(|_| ProbabilityRows::new(b, m, d));
                let rb = rb.as_ref().unwrap_or(&ra);
                let row = |i, j0, out: &mut [f64]| jensenshannon::rows(&ra, i, rb, j0, out);
                // SAFETY: the sink is the caller's, n × m or condensed over n.
                unsafe { run_rows(n, m, d, 16 * d, sink, &ByRow(row)) };
                Ok(())
            });
        }
        _ => unreachable!("boolean metrics are handled above"),
    };
    // SAFETY (both): the sink is the caller's (see `compute`).
    match compute_dtype(xa, xb, opts.accumulate_f64) {
        DType::F32 => unsafe { run_plan::<f32, O>(&plan, xa, xb, sink, (n, m, d)) },
        _ => unsafe { run_plan::<f64, O>(&plan, xa, xb, sink, (n, m, d)) },
    }
}

/// How a kernel metric is computed.
enum Plan {
    /// `op` on the rows as they are; `true`: square root after.
    Kernel(KernelOp, bool),
    /// Rows multiplied by a per-feature scale first.
    ScaledKernel(Vec<f64>, KernelOp, bool),
    /// Rows multiplied by the `d × d` Cholesky factor of VI, then euclidean.
    Transformed(Vec<f64>),
    /// Dot products normalised by the rows' norms (of the centred rows for correlation).
    Cosine { center: bool },
}

/// # Safety
/// As for [`compute`].
unsafe fn run_plan<T: DistFloat, O: Element>(
    plan: &Plan,
    xa: &NdArray,
    xb: Option<&NdArray>,
    sink: Sink<O>,
    (n, m, d): (usize, usize, usize),
) -> Result<()> {
    let prep = |x: &NdArray| -> Result<NdArray> {
        Ok(match plan {
            Plan::ScaledKernel(s, ..) => {
                let s = NdArray::from_vec(s.clone(), &[d])?.astype(T::DTYPE)?;
                x.astype(T::DTYPE)?.mul(&s)?
            }
            Plan::Transformed(l) => {
                let l = NdArray::from_vec(l.clone(), &[d, d])?;
                x.astype(DType::F64)?.matmul(&l)?.astype(T::DTYPE)?
            }
            Plan::Cosine { center: true } => {
                let rows = x.to_vec_f64()?;
                let centred: Vec<T> = rows
                    .chunks_exact(d.max(1))
                    .flat_map(|r| {
                        let mean = r.iter().sum::<f64>() / d as f64;
                        r.iter().map(move |&v| T::from_f64(v - mean))
                    })
                    .collect();
                NdArray::from_vec(centred, x.shape())?
            }
            _ => x.clone(),
        })
    };
    let a_arr = prep(xa)?;
    let b_arr = xb.map(prep).transpose()?;
    let a = Operand::<T>::new(&a_arr)?;
    let b = b_arr.as_ref().map(Operand::<T>::new).transpose()?;
    let bm = b.as_ref().unwrap_or(&a).mat;
    let (op, post_sqrt) = match plan {
        Plan::Kernel(op, s) | Plan::ScaledKernel(_, op, s) => (*op, *s),
        Plan::Transformed(_) => (KernelOp::SqEuclidean, true),
        Plan::Cosine { .. } => (KernelOp::Dot, false),
    };
    let inv_norms = |x: &Operand<T>, rows: usize| -> Vec<f64> {
        let mut buf = vec![T::zero(); d];
        (0..rows)
            .map(|i| {
                x.row_into(i, &mut buf);
                1.0 / buf
                    .iter()
                    .map(|v| Element::to_f64(*v) * Element::to_f64(*v))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect()
    };
    let (inv_a, inv_b);
    let post = match plan {
        Plan::Cosine { .. } => {
            inv_a = inv_norms(&a, n);
            inv_b = b.as_ref().map(|b| inv_norms(b, m));
            Post::Cosine {
                inv_a: &inv_a,
                inv_b: inv_b.as_deref().unwrap_or(&inv_a),
            }
        }
        _ if post_sqrt => Post::Sqrt,
        _ => Post::Identity,
    };
    // SAFETY: the operands are n × d and m × d (XB is XA for pdist) and alive until the end
    // of this function; the sink is the caller's (see `compute`).
    unsafe { run_tiled(op, a.mat, n, bm, m, d, sink, &post) };
    Ok(())
}

/// Bray-Curtis as the ratio of two cityblock matrices (see [`simd`]).
///
/// # Safety
/// As for [`compute`].
unsafe fn bray_curtis<O: Element>(
    xa: &NdArray,
    xb: Option<&NdArray>,
    opts: &CdistOptions,
    sink: Sink<O>,
    (n, m, _d): (usize, usize, usize),
) -> Result<()> {
    let dtype = compute_dtype(xa, xb, opts.accumulate_f64);
    let inner = opts.clone().strategy(Strategy::Simd).out_dtype(DType::F64);
    let xb = xb.unwrap_or(xa);
    // Negate in the working precision (negating an unsigned input would wrap).
    let neg_b = xb.astype(dtype)?.neg()?;
    let num = cdist_with(xa, xb, &Metric::Cityblock, &inner)?;
    let den = cdist_with(xa, &neg_b, &Metric::Cityblock, &inner)?;
    let (num, den) = (num.view::<f64>()?, den.view::<f64>()?);
    let (Some(num), Some(den)) = (num.as_slice(), den.as_slice()) else {
        return Err(Error::invalid("cdist returned a non-contiguous matrix"));
    };
    let body = |i: usize| {
        let row: Vec<f64> = (0..m).map(|j| num[i * m + j] / den[i * m + j]).collect();
        // SAFETY: row i of the sink, columns 0 .. m (condensed sinks skip j <= i); one task
        // per row.
        unsafe { sink.put_row_fast(i, 0, &row, &Post::Identity) };
    };
    if n * m < 1 << 14 {
        (0..n).for_each(body);
    } else {
        use rayon::prelude::*;
        (0..n).into_par_iter().with_min_len(16).for_each(body);
    }
    Ok(())
}
