//! The `Simd` strategy's back end, the job's plan on this CPU: the register-blocked kernels
//! for the inner operations they have (over the plan's prepared rows), bit-packed counts for
//! the boolean metrics, vectorised pair loops for the rest.

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
use crate::distance::plan::{ExactPairs, Finish, Inner, MetricPlan, RowPrep};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::ufunc::pairwise_sum;

/// Every distance of `job` into `out`.
pub(crate) fn run<O: Element>(job: &Job<'_>, out: OutputRows<'_, O>) -> Result<()> {
    let (xa, xb) = (&job.xa, job.xb.as_ref());
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
    let (prep, inner, finish) = match &*job.plan {
        MetricPlan::Tiled {
            prep,
            inner,
            finish,
        } => (prep, inner, finish),
        MetricPlan::ExactPairs(ExactPairs::SEuclidean { v }) => {
            return pairwise!(pairwise::SEuclidean { v });
        }
        MetricPlan::ExactPairs(ExactPairs::Mahalanobis { vi }) => {
            return pairwise!(pairwise::Mahalanobis { vi });
        }
    };
    let bits = |metric: &Metric, out: OutputRows<'_, O>| -> Result<()> {
        let a = BitRows::new(xa)?;
        let b = xb.map(BitRows::new).transpose()?;
        run_bits(metric, &a, b.as_ref().unwrap_or(&a), d, out);
        Ok(())
    };
    let op = match inner {
        Inner::SqEuclidean => KernelOp::SqEuclidean,
        Inner::Cityblock => KernelOp::Cityblock,
        Inner::Chebyshev => KernelOp::Chebyshev,
        Inner::Dot => KernelOp::Dot,
        Inner::Minkowski { p, w } => return minkowski(*p, w.as_deref(), xa, xb, out),
        Inner::Hamming => {
            let numeric = std::iter::once(xa)
                .chain(xb)
                .any(|x| x.dtype() != DType::Bool);
            return if numeric {
                pairwise!(pairwise::Hamming)
            } else {
                bits(&Metric::Hamming, out)
            };
        }
        Inner::Counts => {
            let Finish::FromCounts(metric) = finish else {
                return Err(Error::invalid("internal: counts without a boolean metric"));
            };
            return bits(metric, out);
        }
        Inner::Canberra => {
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
        // Σ|u − v| / Σ|u + v| in one pass: cityblock over row sums when no element is
        // negative (Bray–Curtis' usual data, counts and abundances), else a kernel with
        // both sums. The job chose once for all its blocks.
        Inner::BrayCurtis { nonnegative } => {
            let row_sums = |x: &NdArray| -> Result<Vec<f64>> {
                let rows = x.to_vec_f64()?;
                Ok(if d == 0 {
                    vec![0.0; x.shape()[0]]
                } else {
                    rows.chunks_exact(d).map(pairwise_sum).collect()
                })
            };
            let sums = match nonnegative {
                true => Some((row_sums(xa)?, xb.map(row_sums).transpose()?)),
                false => None,
            };
            let (op, post) = match &sums {
                Some((sum_a, sum_b)) => (
                    KernelOp::Cityblock,
                    Post::BrayCurtis {
                        sum_a,
                        sum_b: sum_b.as_deref().unwrap_or(sum_a),
                    },
                ),
                None => (KernelOp::BrayCurtis, Post::Identity),
            };
            return match compute_dtype(xa, xb, job.opts.accumulate_f64) {
                DType::F32 => run_as_is::<f32, O>(op, xa, xb, out, &post),
                _ => run_as_is::<f64, O>(op, xa, xb, out, &post),
            };
        }
        Inner::JensenShannon => {
            let (a, b) = rows_f64()?;
            let ra = ProbabilityRows::new(&a, n, d);
            let rb = b.as_deref().map(|b| ProbabilityRows::new(b, m, d));
            let rb = rb.as_ref().unwrap_or(&ra);
            let row = |i, j0, out: &mut [f64]| jensenshannon::rows(&ra, i, rb, j0, out);
            run_rows(d, 16 * d, out, &ByRow(row));
            return Ok(());
        }
    };
    match compute_dtype(xa, xb, job.opts.accumulate_f64) {
        DType::F32 => run_plan::<f32, O>((prep, op, finish), xa, xb, out, d),
        _ => run_plan::<f64, O>((prep, op, finish), xa, xb, out, d),
    }
}

/// The register-blocked kernel `op` over the rows of `xa` and `xb` (`None`: `xa` against
/// itself, condensed) prepared by `prep`, in `T`, then `finish` (identity, square root or
/// cosine).
fn run_plan<T: DistFloat, O: Element>(
    (prep, op, finish): (&RowPrep, KernelOp, &Finish),
    xa: &NdArray,
    xb: Option<&NdArray>,
    out: OutputRows<'_, O>,
    d: usize,
) -> Result<()> {
    let prepare = |x: &NdArray| -> Result<NdArray> {
        Ok(match prep {
            RowPrep::Scale(s) => {
                let s = NdArray::from_vec(s.clone(), &[d])?.astype(T::DTYPE)?;
                x.astype(T::DTYPE)?.mul(&s)?
            }
            RowPrep::Transform(l) => {
                let l = NdArray::from_vec(l.clone(), &[d, d])?;
                x.astype(DType::F64)?.matmul(&l)?.astype(T::DTYPE)?
            }
            RowPrep::Center => {
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
    let a_arr = prepare(xa)?;
    let b_arr = xb.map(prepare).transpose()?;
    let a = Operand::<T>::new(&a_arr)?;
    let b = b_arr.as_ref().map(Operand::<T>::new).transpose()?;
    let bo = b.as_ref().unwrap_or(&a);
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
    let post = match finish {
        Finish::Cosine => {
            inv_a = inv_norms(&a, a.rows);
            inv_b = b.as_ref().map(|b| inv_norms(b, b.rows));
            Post::Cosine {
                inv_a: &inv_a,
                inv_b: inv_b.as_deref().unwrap_or(&inv_a),
            }
        }
        Finish::Sqrt => Post::Sqrt,
        _ => Post::Identity,
    };
    run_tiled(op, &a, bo, out, &post);
    Ok(())
}

/// The register-blocked kernel `op` over the rows of `xa` and `xb` as they are, in `T`, then
/// `post`.
fn run_as_is<T: DistFloat, O: Element>(
    op: KernelOp,
    xa: &NdArray,
    xb: Option<&NdArray>,
    out: OutputRows<'_, O>,
    post: &Post<'_>,
) -> Result<()> {
    let a = Operand::<T>::new(xa)?;
    let b = xb.map(Operand::<T>::new).transpose()?;
    run_tiled(op, &a, b.as_ref().unwrap_or(&a), out, post);
    Ok(())
}

/// Minkowski with a `p` other than 1, 2 (and unweighted ∞), which the plan sends to the
/// cityblock, euclidean and chebyshev kernels. Weights scale the rows, `Σ w·|u − v|^p =
/// Σ |w^(1/p)·u − w^(1/p)·v|^p` (`w ≥ 0`, checked by validation), as for p = 1 and 2. The
/// integer exponents of [`POWERS`](super::kernels::POWERS) run a power-sum kernel, the
/// others a pair loop with a vectorised power; both in float64 whatever the input, as SciPy
/// computes (a float32 sum of `|t|^8` would overflow from `|t| ≈ 6.5·10⁴`).
fn minkowski<O: Element>(
    p: f64,
    w: Option<&[f64]>,
    xa: &NdArray,
    xb: Option<&NdArray>,
    out: OutputRows<'_, O>,
) -> Result<()> {
    let (n, d) = (xa.shape()[0], xa.shape()[1]);
    if p.is_infinite() {
        let w = w.ok_or_else(|| Error::invalid("internal: unweighted chebyshev as minkowski"))?;
        let (a, b) = (xa.to_vec_f64()?, xb.map(|x| x.to_vec_f64()).transpose()?);
        run_pairs(
            &pairwise::WeightedChebyshev { w },
            &a,
            b.as_deref().unwrap_or(&a),
            d,
            out,
        );
        return Ok(());
    }
    let scale: Option<Vec<f64>> = w.map(|w| w.iter().map(|&w| w.powf(1.0 / p)).collect());
    let rows = |x: &NdArray| -> Result<Vec<f64>> {
        let mut v = x.to_vec_f64()?;
        if let Some(scale) = &scale {
            for row in v.chunks_exact_mut(d.max(1)) {
                row.iter_mut().zip(scale).for_each(|(v, s)| *v *= s);
            }
        }
        Ok(v)
    };
    let a = rows(xa)?;
    let b = xb.map(rows).transpose()?;
    let Some(op) = KernelOp::power_sum(p) else {
        let b = b.as_deref().unwrap_or(&a);
        run_pairs(&pairwise::Minkowski { p }, &a, b, d, out);
        return Ok(());
    };
    let a = NdArray::from_vec(a, &[n, d])?;
    let b = match (b, xb) {
        (Some(b), Some(xb)) => Some(NdArray::from_vec(b, &[xb.shape()[0], d])?),
        _ => None,
    };
    run_as_is::<f64, O>(op, &a, b.as_ref(), out, &Post::RootP(p))
}
