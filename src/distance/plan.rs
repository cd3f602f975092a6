//! One plan per metric, the same for every back end: what is done to the rows first, the
//! operation over a pair of prepared rows, and the last step. SciPy's identities are applied
//! here once (weights and variances become row scales, mahalanobis a Cholesky factor,
//! minkowski with p = 1, 2 or ∞ the cityblock, euclidean or chebyshev kernels), and each back
//! end maps the plan onto its own kernels (`cpu::register_blocked`, `cuda::plan`).

use super::metric::Metric;
use super::stats::{self, Observations};
use crate::array::NdArray;
use crate::error::{Error, Result};

/// What is done to every row before the inner operation.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RowPrep {
    None,
    /// Multiplied feature by feature: `Σ w·|u−v| = Σ |w·u − w·v|`, and `Σ (u−v)²/V` is
    /// euclidean of `u/√V` and `v/√V`.
    Scale(Vec<f64>),
    /// Multiplied by the `d × d` Cholesky factor `L` of VI (row-major), `x · L`: mahalanobis
    /// is then euclidean.
    Transform(Vec<f64>),
    /// Centred on the row's mean (correlation).
    Center,
    /// Nonzero as true, zero as false (SciPy's conversion to bool).
    Boolean,
    /// Divided by the row's sum (Jensen–Shannon's probability vectors).
    Probability,
}

/// The operation summed (or maxed) over the features of a pair of prepared rows.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Inner {
    SqEuclidean,
    Cityblock,
    Chebyshev,
    Dot,
    /// `Σ w·|u − v|^p` (the largest `|u − v|` of nonzero weight for p = ∞), the weights kept
    /// here: a back end may scale the rows by `w^(1/p)` instead.
    Minkowski {
        p: f64,
        w: Option<Vec<f64>>,
    },
    Canberra,
    /// `Σ|u − v|` and `Σ|u + v|`, divided. `nonnegative`: no element of either operand is
    /// negative or NaN, so that `Σ|u + v|` is `Σu + Σv` (see [`MetricPlan::fitted_to`]).
    BrayCurtis {
        nonnegative: bool,
    },
    /// The count of `u ≠ v`.
    Hamming,
    JensenShannon,
    /// The counts of features true in both, in one only, in the other only.
    Counts,
}

/// The last step for each value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Finish {
    Identity,
    Sqrt,
    /// `x^(1/p)`.
    RootP(f64),
    /// `1 − x / (‖u‖·‖v‖)`, clipped as SciPy does.
    Cosine,
    /// `x / d`.
    Mean,
    /// `√(x / 2)`, or ∞ for rows SciPy answers ∞ for.
    JensenShannon,
    /// The boolean metric's formula from the counts.
    FromCounts(Metric),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum MetricPlan {
    /// Prepared rows, an inner operation, a last step.
    Tiled {
        prep: RowPrep,
        inner: Inner,
        finish: Finish,
    },
    /// SciPy's arithmetic pair by pair, where no prepared-row form gives its answers: a zero
    /// or infinite variance (seuclidean's `d²/V`), a VI without a Cholesky factor.
    ExactPairs(ExactPairs),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ExactPairs {
    SEuclidean { v: Vec<f64> },
    Mahalanobis { vi: Vec<f64> },
}

impl MetricPlan {
    /// This plan with the choices that depend on the data made from all of `xa` and `xb`
    /// (`None`: pdist). A job makes them once and its blocks borrow the result: the kernels
    /// they choose between round differently, so a block choosing for itself would not
    /// reproduce the whole matrix bit for bit.
    pub(crate) fn fitted_to(self, xa: &NdArray, xb: Option<&NdArray>) -> Result<MetricPlan> {
        Ok(match self {
            MetricPlan::Tiled {
                prep,
                inner: Inner::BrayCurtis { .. },
                finish,
            } => MetricPlan::Tiled {
                prep,
                inner: Inner::BrayCurtis {
                    nonnegative: stats::all_nonnegative(&Observations::new(xa, xb))?,
                },
                finish,
            },
            other => other,
        })
    }
}

/// The plan of `metric` over `d` features; its data-derived defaults must be filled in.
pub(crate) fn plan(metric: &Metric, d: usize) -> Result<MetricPlan> {
    let tiled = |prep, inner, finish| MetricPlan::Tiled {
        prep,
        inner,
        finish,
    };
    let missing = || {
        Error::invalid(format!(
            "internal: the {metric} metric was planned without its data-derived defaults"
        ))
    };
    Ok(match metric {
        Metric::SqEuclidean => tiled(RowPrep::None, Inner::SqEuclidean, Finish::Identity),
        Metric::Euclidean => tiled(RowPrep::None, Inner::SqEuclidean, Finish::Sqrt),
        Metric::Cityblock => tiled(RowPrep::None, Inner::Cityblock, Finish::Identity),
        Metric::Chebyshev => tiled(RowPrep::None, Inner::Chebyshev, Finish::Identity),
        Metric::Minkowski { p, w } => {
            let prep = |scale: fn(f64) -> f64| match w {
                Some(w) => RowPrep::Scale(w.iter().map(|&w| scale(w)).collect()),
                None => RowPrep::None,
            };
            if *p == 1.0 {
                tiled(prep(|w| w), Inner::Cityblock, Finish::Identity)
            } else if *p == 2.0 {
                // Σ w·(u−v)² = Σ (√w·u − √w·v)², for w ≥ 0 (checked by validate).
                tiled(prep(f64::sqrt), Inner::SqEuclidean, Finish::Sqrt)
            } else if p.is_infinite() && w.is_none() {
                tiled(RowPrep::None, Inner::Chebyshev, Finish::Identity)
            } else {
                let finish = if p.is_infinite() {
                    Finish::Identity
                } else {
                    Finish::RootP(*p)
                };
                let inner = Inner::Minkowski {
                    p: *p,
                    w: w.clone(),
                };
                tiled(RowPrep::None, inner, finish)
            }
        }
        Metric::SEuclidean { v } => {
            let v = v.as_ref().ok_or_else(missing)?;
            if v.iter().all(|&v| v > 0.0 && v.is_finite()) {
                let scale = v.iter().map(|v| 1.0 / v.sqrt()).collect();
                tiled(RowPrep::Scale(scale), Inner::SqEuclidean, Finish::Sqrt)
            } else {
                MetricPlan::ExactPairs(ExactPairs::SEuclidean { v: v.clone() })
            }
        }
        Metric::Mahalanobis { vi } => {
            let vi = vi.as_ref().ok_or_else(missing)?;
            match stats::cholesky(vi, d) {
                Some(l) => tiled(RowPrep::Transform(l), Inner::SqEuclidean, Finish::Sqrt),
                None => MetricPlan::ExactPairs(ExactPairs::Mahalanobis { vi: vi.clone() }),
            }
        }
        Metric::Cosine => tiled(RowPrep::None, Inner::Dot, Finish::Cosine),
        Metric::Correlation => tiled(RowPrep::Center, Inner::Dot, Finish::Cosine),
        Metric::Canberra => tiled(RowPrep::None, Inner::Canberra, Finish::Identity),
        Metric::BrayCurtis => tiled(
            RowPrep::None,
            Inner::BrayCurtis { nonnegative: false },
            Finish::Identity,
        ),
        Metric::JensenShannon => tiled(
            RowPrep::Probability,
            Inner::JensenShannon,
            Finish::JensenShannon,
        ),
        Metric::Hamming => tiled(RowPrep::None, Inner::Hamming, Finish::Mean),
        Metric::Jaccard
        | Metric::Dice
        | Metric::RogersTanimoto
        | Metric::SokalMichener
        | Metric::RussellRao
        | Metric::SokalSneath
        | Metric::Yule
        | Metric::Kulczynski1 => tiled(
            RowPrep::Boolean,
            Inner::Counts,
            Finish::FromCounts(metric.clone()),
        ),
    })
}
