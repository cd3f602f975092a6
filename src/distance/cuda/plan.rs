//! How a metric maps onto the kernels of `kernels/cdist.cu`: which inner op, which last step
//! (`post`), and how the rows are prepared first (scaled for weights and variances, multiplied
//! by a Cholesky factor for mahalanobis, centred for correlation, made 0/1 for the boolean
//! metrics, normalised for Jensen–Shannon), with what the last step reads per row.

use super::super::metric::Metric;
use super::super::options::Strategy;
use super::super::stats;
use crate::array::NdArray;
use crate::dtype::Element;
use crate::error::{Error, Result};

/// `post` codes of the kernels (enum Post in kernels/cdist.cu).
pub(super) const POST_IDENTITY: i32 = 0;
pub(super) const POST_SQRT: i32 = 1;
pub(super) const POST_ROOT_P: i32 = 2;
pub(super) const POST_COSINE: i32 = 3;
pub(super) const POST_MEAN: i32 = 4;
pub(super) const POST_TRICK_SQ: i32 = 5;
pub(super) const POST_TRICK: i32 = 6;
pub(super) const POST_JENSENSHANNON: i32 = 7;
pub(super) const POST_JACCARD: i32 = 10;
pub(super) const POST_DICE: i32 = 11;
pub(super) const POST_ROGERSTANIMOTO: i32 = 12;
pub(super) const POST_RUSSELLRAO: i32 = 13;
pub(super) const POST_SOKALSNEATH: i32 = 14;
pub(super) const POST_YULE: i32 = 15;
pub(super) const POST_KULCZYNSKI1: i32 = 16;

/// How the rows are prepared: on the host before upload (`prepared_rows`), or on the device
/// for device arrays (the `prep_S_T` kernel, the same arithmetic).
pub(super) enum Prep {
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

impl Prep {
    /// The device's form of this preparation (enum Prep in kernels/cdist.cu, `prep_S_T`): its
    /// code and vector (the scales, or L row-major; empty when none).
    pub(super) fn kernel_code(&self) -> (i32, &[f64]) {
        match self {
            Prep::None => (0, &[]),
            Prep::Scale(s) => (1, s),
            Prep::Transform(l) => (2, l),
            Prep::Center => (3, &[]),
            Prep::Boolean => (4, &[]),
            Prep::Probability => (5, &[]),
        }
    }
}

/// What the kernel's last step reads per row (its `inv_a` / `inv_b`), by post code.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum RowSide {
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

impl RowSide {
    /// The prep kernel's code for computing this side (enum Side in kernels/cdist.cu).
    pub(super) fn kernel_code(self) -> i32 {
        match self {
            RowSide::Unused => 0,
            RowSide::InverseNorm => 1,
            RowSide::SquaredNorm => 2,
            RowSide::Count => 3,
            RowSide::JensenShannonFlag => 4,
        }
    }
}

pub(super) fn row_side(post: i32) -> RowSide {
    match post {
        POST_COSINE => RowSide::InverseNorm,
        POST_TRICK | POST_TRICK_SQ => RowSide::SquaredNorm,
        POST_JENSENSHANNON => RowSide::JensenShannonFlag,
        p if p >= POST_JACCARD => RowSide::Count,
        _ => RowSide::Unused,
    }
}

/// A kernel (by op name), its last step, Minkowski's p, and the row preparation.
pub(super) struct GpuPlan {
    pub(super) op: &'static str,
    pub(super) post: i32,
    pub(super) p: f64,
    pub(super) prep: Prep,
}

pub(super) fn unsupported(metric: &Metric) -> Error {
    Error::Cuda(format!(
        "the {metric} metric has no CUDA kernel yet; use the cpu backend (or auto, which \
         falls back to it)"
    ))
}

/// The kernel for a metric whose data-derived defaults are already filled in.
pub(super) fn plan(metric: &Metric, d: usize) -> Result<GpuPlan> {
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
pub(super) fn trick_plan(plan: GpuPlan) -> Option<GpuPlan> {
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
pub(super) fn strategy_plan(plan: GpuPlan, metric: &Metric, strategy: Strategy) -> Result<GpuPlan> {
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

/// The rows of `x` as prepared for `plan`, row-major, in `T`, and what the kernel's last step
/// reads per row ([`RowSide`]; one placeholder when nothing).
pub(super) fn prepared_rows<T: Element>(
    x: &NdArray,
    d: usize,
    plan: &GpuPlan,
) -> Result<(Vec<T>, Vec<f64>)> {
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

/// The fused kNN kernel's plan for a metric whose data-derived defaults are filled in, and
/// whether the host takes the square root of the survivors: euclidean ranks by squared
/// distances, as the CPU back end does, so that both see the same ties.
pub(super) fn knn_plan(metric: &Metric, d: usize) -> Result<(GpuPlan, bool)> {
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
