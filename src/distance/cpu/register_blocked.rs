//! The `Simd` strategy's back end: a register-blocked kernel where the metric has one
//! (possibly after transforming the rows: weights, variances, Cholesky factor, centring),
//! bit-packed counts for boolean metrics, vectorised pair loops for the rest.

use super::bits::{BitRows, run_bits};
use super::canberra::{self, CanberraRows};
use super::jensenshannon::{self, ProbabilityRows};
use super::kernels::{DistFloat, KernelOp};
use super::pairwise::{self, ByRow, run_pairs, run_rows};
use super::tiled::run_tiled;
use crate::array::NdArray;
use crate::distance::input::{Operand, compute_dtype};
use crate::distance::job::Job;
use crate::distance::metric::Metric;
use crate::distance::output::{OutputRows, Post};
use crate::distance::stats;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};

/// Every distance of `job` into `out`.
pub(crate) fn run<O: Element>(job: &Job<'_>, out: OutputRows<'_, O>) -> Result<()> {
    let (xa, xb, metric) = (&job.xa, job.xb.as_ref(), &*job.metric);
    let (n, m, d) = job.dims();
    // The float64 rows of XA, and of XB unless it is XA (pdist), for the pair-at-a-time
    // metrics.
    let rows_f64 = || -> Result<(Vec<f64>, Option<Vec<f64>>)> {
        Ok((xa.to_vec_f64()?, xb.map(|x| x.to_vec_f64()).transpose()?))
    };
    macro_rules! pairwise {
        ($pm:expr) => {{
            let (a, b) = rows_f64()?;
            run_pairs(&$pm, &a, b.as_deref().unwrap_or(&a), d, out);
            Ok(())
        }};
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
                run_bits(metric, &a, b.as_ref().unwrap_or(&a), d, out);
                Ok(())
            }
        };
    }
    let plan = match metric {
        Metric::SqEuclidean => KernelPlan::Kernel(KernelOp::SqEuclidean, false),
        Metric::Euclidean => KernelPlan::Kernel(KernelOp::SqEuclidean, true),
        Metric::Cityblock => KernelPlan::Kernel(KernelOp::Cityblock, false),
        Metric::Chebyshev => KernelPlan::Kernel(KernelOp::Chebyshev, false),
        Metric::Minkowski { p, w: None } if *p == 1.0 => {
            KernelPlan::Kernel(KernelOp::Cityblock, false)
        }
        Metric::Minkowski { p, w: None } if *p == 2.0 => {
            KernelPlan::Kernel(KernelOp::SqEuclidean, true)
        }
        Metric::Minkowski { p, w: None } if p.is_infinite() => {
            KernelPlan::Kernel(KernelOp::Chebyshev, false)
        }
        // Σ w·|u−v| = Σ |w·u − w·v| and Σ w·(u−v)² = Σ (√w·u − √w·v)², for w ≥ 0.
        Metric::Minkowski { p, w: Some(w) } if *p == 1.0 => {
            KernelPlan::ScaledKernel(w.clone(), KernelOp::Cityblock, false)
        }
        Metric::Minkowski { p, w: Some(w) } if *p == 2.0 => KernelPlan::ScaledKernel(
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
            let v = v.as_ref().ok_or_else(defaults_missing)?;
            if v.iter().all(|&v| v > 0.0 && v.is_finite()) {
                // Σ (u−v)²/V = Σ (u/√V − v/√V)².
                KernelPlan::ScaledKernel(
                    v.iter().map(|v| 1.0 / v.sqrt()).collect(),
                    KernelOp::SqEuclidean,
                    true,
                )
            } else {
                // Zero or infinite variances: SciPy's d²/V (inf or NaN) exactly, pair by pair.
                return pairwise!(pairwise::SEuclidean { v });
            }
        }
        Metric::Mahalanobis { vi } => {
            let vi = vi.as_ref().ok_or_else(defaults_missing)?;
            match stats::cholesky(vi, d) {
                Some(l) => KernelPlan::Transformed(l),
                None => return pairwise!(pairwise::Mahalanobis { vi }),
            }
        }
        Metric::Cosine => KernelPlan::Cosine { center: false },
        Metric::Correlation => KernelPlan::Cosine { center: true },
        Metric::Canberra => {
            let (a, b) = rows_f64()?;
            let ra = CanberraRows::new(&a, n, d);
            let rb = b.as_deref().map(|b| CanberraRows::new(b, m, d));
            let kernel = canberra::Pairs {
                a: &ra,
                b: rb.as_ref().unwrap_or(&ra),
            };
            run_rows(d, 16 * d, out, &kernel);
            return Ok(());
        }
        // Σ|u − v| / Σ|u + v| = cityblock(u, v) / cityblock(u, −v): two passes of the
        // register-blocked kernel instead of a pair-at-a-time loop.
        Metric::BrayCurtis => return bray_curtis(job, out),
        Metric::JensenShannon => {
            let (a, b) = rows_f64()?;
            let ra = ProbabilityRows::new(&a, n, d);
            let rb = b.as_deref().map(|b| ProbabilityRows::new(b, m, d));
            let rb = rb.as_ref().unwrap_or(&ra);
            let row = |i, j0, out: &mut [f64]| jensenshannon::rows(&ra, i, rb, j0, out);
            run_rows(d, 16 * d, out, &ByRow(row));
            return Ok(());
        }
        _ => unreachable!("boolean metrics are handled above"),
    };
    match compute_dtype(xa, xb, job.opts.accumulate_f64) {
        DType::F32 => run_plan::<f32, O>(&plan, xa, xb, out, d),
        _ => run_plan::<f64, O>(&plan, xa, xb, out, d),
    }
}

fn defaults_missing() -> Error {
    Error::invalid(
        "internal: a distance job reached its back end without its data-derived defaults",
    )
}

/// How a kernel metric is computed.
pub(crate) enum KernelPlan {
    /// `op` on the rows as they are; `true`: square root after.
    Kernel(KernelOp, bool),
    /// Rows multiplied by a per-feature scale first.
    ScaledKernel(Vec<f64>, KernelOp, bool),
    /// Rows multiplied by the `d × d` Cholesky factor of VI, then euclidean.
    Transformed(Vec<f64>),
    /// Dot products normalised by the rows' norms (of the centred rows for correlation).
    Cosine { center: bool },
}

/// `plan` over the rows of `xa` and `xb` (`None`: `xa` against itself, condensed) in `T`.
fn run_plan<T: DistFloat, O: Element>(
    plan: &KernelPlan,
    xa: &NdArray,
    xb: Option<&NdArray>,
    out: OutputRows<'_, O>,
    d: usize,
) -> Result<()> {
    let prep = |x: &NdArray| -> Result<NdArray> {
        Ok(match plan {
            KernelPlan::ScaledKernel(s, ..) => {
                let s = NdArray::from_vec(s.clone(), &[d])?.astype(T::DTYPE)?;
                x.astype(T::DTYPE)?.mul(&s)?
            }
            KernelPlan::Transformed(l) => {
                let l = NdArray::from_vec(l.clone(), &[d, d])?;
                x.astype(DType::F64)?.matmul(&l)?.astype(T::DTYPE)?
            }
            KernelPlan::Cosine { center: true } => {
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
    let bo = b.as_ref().unwrap_or(&a);
    let (op, post_sqrt) = match plan {
        KernelPlan::Kernel(op, s) | KernelPlan::ScaledKernel(_, op, s) => (*op, *s),
        KernelPlan::Transformed(_) => (KernelOp::SqEuclidean, true),
        KernelPlan::Cosine { .. } => (KernelOp::Dot, false),
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
        KernelPlan::Cosine { .. } => {
            inv_a = inv_norms(&a, a.rows);
            inv_b = b.as_ref().map(|b| inv_norms(b, b.rows));
            Post::Cosine {
                inv_a: &inv_a,
                inv_b: inv_b.as_deref().unwrap_or(&inv_a),
            }
        }
        _ if post_sqrt => Post::Sqrt,
        _ => Post::Identity,
    };
    run_tiled(op, &a, bo, out, &post);
    Ok(())
}

/// Bray-Curtis as the ratio of two cityblock matrices (see [`run`]), both computed by the
/// register-blocked kernel into float64 temporaries.
fn bray_curtis<O: Element>(job: &Job<'_>, out: OutputRows<'_, O>) -> Result<()> {
    let (n, m, d) = job.dims();
    let (xa, xb) = (&job.xa, job.xb());
    let accumulate_f64 = job.opts.accumulate_f64;
    let dtype = compute_dtype(xa, job.xb.as_ref(), accumulate_f64);
    // Negate in the working precision (negating an unsigned input would wrap).
    let neg_b = xb.astype(dtype)?.neg()?;
    let cityblock = |b: &NdArray| -> Result<NdArray> {
        let mut full = NdArray::for_overwrite(&[n, m], DType::F64)?;
        let mut view = full.view_mut::<f64>()?;
        let rows = OutputRows::matrix(&mut view)?;
        let plan = KernelPlan::Kernel(KernelOp::Cityblock, false);
        match compute_dtype(xa, Some(b), accumulate_f64) {
            DType::F32 => run_plan::<f32, f64>(&plan, xa, Some(b), rows, d)?,
            _ => run_plan::<f64, f64>(&plan, xa, Some(b), rows, d)?,
        }
        Ok(full)
    };
    let (num, den) = (cityblock(xb)?, cityblock(&neg_b)?);
    let (num, den) = (num.view::<f64>()?, den.view::<f64>()?);
    let (Some(num), Some(den)) = (num.as_slice(), den.as_slice()) else {
        return Err(Error::invalid("a fresh matrix is not contiguous"));
    };
    let body = |mut rows_out: OutputRows<'_, O>| {
        for i in rows_out.rows() {
            let row: Vec<f64> = (0..m).map(|j| num[i * m + j] / den[i * m + j]).collect();
            // Condensed outputs skip j <= i.
            rows_out.put_row(i, 0, &row, &Post::Identity);
        }
    };
    let blocks = out.into_blocks(16);
    if n * m < 1 << 14 {
        blocks.into_iter().for_each(body);
    } else {
        use rayon::prelude::*;
        blocks.into_par_iter().for_each(body);
    }
    Ok(())
}
