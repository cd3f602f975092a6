//! How a metric's plan (`distance::plan`, the CPU's too) maps onto the kernels of
//! `kernels/cdist.cu`: the inner op, the last step (`post`) and the row preparation as the
//! kernels' codes, with what the last step reads per row, the matmul trick's forms, and the
//! preparation done on the host.

use super::super::metric::Metric;
use super::super::options::Strategy;
use super::super::plan::{Finish, Inner, MetricPlan, RowPrep, plan as neutral_plan};
use crate::array::NdArray;
use crate::dtype::Element;
use crate::error::{Error, Result};

/// A C-like enum of codes that kernels/cdist.cu defines too: each variant with its code and
/// its name there (after the enum's prefix), `code()` for the launch argument, `ALL`, and
/// for the test that checks them against the kernel source, `c_name()`.
macro_rules! kernel_codes {
    ($(#[$m:meta])* enum $name:ident: $prefix:literal {
        $($(#[$vm:meta])* $v:ident = $code:literal => $c:literal,)*
    }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(super) enum $name {
            $($(#[$vm])* $v = $code,)*
        }

        impl $name {
            #[allow(dead_code)]
            pub(super) const ALL: &[$name] = &[$($name::$v,)*];

            /// The kernels' code for this variant. An op reaches the kernels through their
            /// names and the others through their codes, so each enum leaves one of `code`
            /// and `c_suffix` to the test alone.
            #[allow(dead_code)]
            pub(super) fn code(self) -> i32 {
                self as i32
            }

            /// The name in kernels/cdist.cu after the prefix.
            #[allow(dead_code)]
            pub(super) fn c_suffix(self) -> &'static str {
                match self {
                    $($name::$v => $c,)*
                }
            }

            /// The name in kernels/cdist.cu.
            #[cfg(test)]
            pub(super) fn c_name(self) -> String {
                format!("{}{}", $prefix, self.c_suffix())
            }
        }
    };
}

kernel_codes! {
    /// The kernels' inner operations (enum Op in kernels/cdist.cu; `name` is the suffix of the
    /// kernels' names, `OPCODE_name` there).
    enum GpuOp: "OP_" {
        SqEuclidean = 0 => "SQEUCLIDEAN",
        Cityblock = 1 => "CITYBLOCK",
        Chebyshev = 2 => "CHEBYSHEV",
        Dot = 3 => "DOT",
        Minkowski = 4 => "MINKOWSKI",
        Canberra = 5 => "CANBERRA",
        BrayCurtis = 6 => "BRAYCURTIS",
        Hamming = 7 => "HAMMING",
        JensenShannon = 8 => "JENSENSHANNON",
    }
}

impl GpuOp {
    /// The suffix of the kernels' names: `OPCODE_name` in kernels/cdist.cu maps `name`, the
    /// C name in lower case, to the op.
    pub(super) fn name(self) -> String {
        self.c_suffix().to_lowercase()
    }
}

impl std::fmt::Display for GpuOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

kernel_codes! {
    /// The kernels' last step per output element (enum Post in kernels/cdist.cu).
    enum Epilogue: "POST_" {
        Identity = 0 => "IDENTITY",
        Sqrt = 1 => "SQRT",
        /// `x^(1/p)`.
        RootP = 2 => "ROOT_P",
        /// `1 − clip(x · inv_a[i] · inv_b[j], −1, 1)`.
        Cosine = 3 => "COSINE",
        /// `x / d`.
        Mean = 4 => "MEAN",
        /// The matmul trick: `max(‖a‖² + ‖b‖² − 2·a·b, 0)`, the sides holding squared norms.
        TrickSq = 5 => "TRICK_SQ",
        /// Its square root.
        Trick = 6 => "TRICK",
        JensenShannon = 7 => "JENSENSHANNON",
        /// The boolean metrics from `ntt` and the rows' counts of true.
        Jaccard = 10 => "JACCARD",
        Dice = 11 => "DICE",
        /// Also sokalmichener.
        RogersTanimoto = 12 => "ROGERSTANIMOTO",
        RussellRao = 13 => "RUSSELLRAO",
        SokalSneath = 14 => "SOKALSNEATH",
        Yule = 15 => "YULE",
        Kulczynski1 = 16 => "KULCZYNSKI1",
    }
}

impl Epilogue {
    fn is_boolean(self) -> bool {
        self.code() >= Epilogue::Jaccard.code()
    }
}

/// The device's form of a row preparation (the plan's [`RowPrep`]): done on the host before
/// upload (`prepared_rows`), or on the device for device arrays (the `prep_S_T` kernel, the
/// same arithmetic).
impl RowPrep {
    /// Its code in enum Prep of kernels/cdist.cu, and its vector (the scales, or L
    /// row-major; empty when none).
    pub(super) fn kernel_code(&self) -> (i32, &[f64]) {
        match self {
            RowPrep::None => (0, &[]),
            RowPrep::Scale(s) => (1, s),
            RowPrep::Transform(l) => (2, l),
            RowPrep::Center => (3, &[]),
            RowPrep::Boolean => (4, &[]),
            RowPrep::Probability => (5, &[]),
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

pub(super) fn row_side(post: Epilogue) -> RowSide {
    match post {
        Epilogue::Cosine => RowSide::InverseNorm,
        Epilogue::Trick | Epilogue::TrickSq => RowSide::SquaredNorm,
        Epilogue::JensenShannon => RowSide::JensenShannonFlag,
        p if p.is_boolean() => RowSide::Count,
        _ => RowSide::Unused,
    }
}

/// A kernel (by its inner operation), its last step, Minkowski's p, and the row preparation.
pub(super) struct GpuPlan {
    pub(super) op: GpuOp,
    pub(super) post: Epilogue,
    pub(super) p: f64,
    pub(super) prep: RowPrep,
}

pub(super) fn unsupported(metric: &Metric) -> Error {
    Error::Cuda(format!(
        "the {metric} metric has no CUDA kernel yet; use the cpu backend (or auto, which \
         falls back to it)"
    ))
}

/// The kernel for a metric whose data-derived defaults are already filled in: the metric's
/// plan (`distance::plan`, shared with the CPU) mapped onto the kernels' codes.
pub(super) fn plan(metric: &Metric, d: usize) -> Result<GpuPlan> {
    match neutral_plan(metric, d) {
        Ok(planned) => from_plan(metric, &planned),
        // No defaults yet: no kernel.
        Err(_) => Err(unsupported(metric)),
    }
}

/// A job's plan (computed once for the job, Cholesky factor included) mapped onto the
/// kernels' codes; `metric` names it in errors.
pub(super) fn from_plan(metric: &Metric, planned: &MetricPlan) -> Result<GpuPlan> {
    let MetricPlan::Tiled {
        prep,
        inner,
        finish,
    } = planned
    else {
        // SciPy's exact pair-by-pair arithmetic (a zero variance, a VI without a Cholesky
        // factor): no kernel.
        return Err(unsupported(metric));
    };
    let (prep, inner, finish) = (prep.clone(), inner.clone(), finish.clone());
    let mut p = 1.0;
    let (op, prep) = match inner {
        Inner::SqEuclidean => (GpuOp::SqEuclidean, prep),
        Inner::Cityblock => (GpuOp::Cityblock, prep),
        Inner::Chebyshev => (GpuOp::Chebyshev, prep),
        // ntt = a · b of the 0/1 rows; the other counts follow from the rows' counts.
        Inner::Dot | Inner::Counts => (GpuOp::Dot, prep),
        Inner::Canberra => (GpuOp::Canberra, prep),
        Inner::BrayCurtis { .. } => (GpuOp::BrayCurtis, prep),
        Inner::Hamming => (GpuOp::Hamming, prep),
        Inner::JensenShannon => (GpuOp::JensenShannon, prep),
        Inner::Minkowski { p: q, .. } if q.is_infinite() => return Err(unsupported(metric)),
        Inner::Minkowski { p: q, w } => {
            p = q;
            // Σ w·|u − v|^p = Σ |w^(1/p)·u − w^(1/p)·v|^p for w ≥ 0 (checked by validate).
            let prep = match w {
                Some(w) => RowPrep::Scale(w.iter().map(|w| w.powf(1.0 / q)).collect()),
                None => prep,
            };
            (GpuOp::Minkowski, prep)
        }
    };
    let post = match finish {
        Finish::Identity => Epilogue::Identity,
        Finish::Sqrt => Epilogue::Sqrt,
        Finish::RootP(_) => Epilogue::RootP,
        Finish::Cosine => Epilogue::Cosine,
        Finish::Mean => Epilogue::Mean,
        Finish::JensenShannon => Epilogue::JensenShannon,
        Finish::FromCounts(m) => match m {
            Metric::Jaccard => Epilogue::Jaccard,
            Metric::Dice => Epilogue::Dice,
            Metric::RogersTanimoto | Metric::SokalMichener => Epilogue::RogersTanimoto,
            Metric::RussellRao => Epilogue::RussellRao,
            Metric::SokalSneath => Epilogue::SokalSneath,
            Metric::Yule => Epilogue::Yule,
            Metric::Kulczynski1 => Epilogue::Kulczynski1,
            _ => return Err(unsupported(metric)),
        },
    };
    Ok(GpuPlan { op, post, p, prep })
}

/// The matmul-trick form of a euclidean-family plan (`‖a‖² + ‖b‖² − 2·a·b`, as CuPy
/// code writes it): the same prepared rows through the `dot` kernel. `None` for other metrics.
pub(super) fn trick_plan(plan: GpuPlan) -> Option<GpuPlan> {
    let post = match (plan.op, plan.post) {
        (GpuOp::SqEuclidean, Epilogue::Identity) => Epilogue::TrickSq,
        (GpuOp::SqEuclidean, Epilogue::Sqrt) => Epilogue::Trick,
        _ => return None,
    };
    Some(GpuPlan {
        op: GpuOp::Dot,
        post,
        ..plan
    })
}

/// The plan for the options' strategy: `MatmulTrick` takes the trick form of the euclidean
/// family, and cosine and correlation as they are (already a product of normalised rows);
/// other metrics are an error under it, as on the CPU. The other strategies name CPU loop
/// shapes and all mean the tiled kernels here.
pub(super) fn strategy_plan(plan: GpuPlan, metric: &Metric, strategy: Strategy) -> Result<GpuPlan> {
    if strategy != Strategy::MatmulTrick || plan.post == Epilogue::Cosine {
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
        RowPrep::None => raw.clone(),
        RowPrep::Scale(s) => rows(&|r| r.iter().zip(s).map(|(v, s)| v * s).collect()),
        RowPrep::Transform(l) => rows(&|r| {
            (0..d)
                .map(|c| (0..d).map(|k| r[k] * l[k * d + c]).sum())
                .collect()
        }),
        RowPrep::Center => rows(&|r| {
            let mean = r.iter().sum::<f64>() / d as f64;
            r.iter().map(|v| v - mean).collect()
        }),
        RowPrep::Boolean => raw
            .iter()
            .map(|&v| if v != 0.0 { 1.0 } else { 0.0 })
            .collect(),
        // Summed in order, as SciPy and the CPU back end do.
        RowPrep::Probability => rows(&|r| {
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

/// The fused kNN kernel's form of the plan `p`, and whether the host takes the square root
/// of the survivors: euclidean ranks by squared distances, as the CPU back end does, so that
/// both see the same ties.
pub(super) fn knn_form(p: GpuPlan) -> (GpuPlan, bool) {
    if p.op == GpuOp::SqEuclidean && p.post == Epilogue::Sqrt {
        (
            GpuPlan {
                post: Epilogue::Identity,
                ..p
            },
            true,
        )
    } else {
        (p, false)
    }
}

#[cfg(test)]
mod tests {
    //! The Rust enums against the C enums of kernels/cdist.cu that the launches pass codes of.
    use super::*;

    /// `NAME = code` entries of `enum name { … };` in the kernel source.
    fn c_enum(name: &str) -> Vec<(String, i32)> {
        let src = super::super::source::CDIST_CU.text;
        let start = src
            .find(&format!("enum {name} {{"))
            .unwrap_or_else(|| panic!("enum {name} is not in kernels/cdist.cu"));
        let body = &src[start..start + src[start..].find("};").unwrap()];
        body.lines()
            .skip(1)
            .filter_map(|l| {
                let l = l.split("//").next().unwrap().trim().trim_end_matches(',');
                let (k, v) = l.split_once('=')?;
                Some((k.trim().to_string(), v.trim().parse().unwrap()))
            })
            .collect()
    }

    fn sorted(mut v: Vec<(String, i32)>) -> Vec<(String, i32)> {
        v.sort_by_key(|e| e.1);
        v
    }

    #[test]
    fn codes_match_the_kernel_source() {
        let codes = |all: &[(String, i32)]| sorted(all.to_vec());
        let ops: Vec<_> = GpuOp::ALL.iter().map(|o| (o.c_name(), o.code())).collect();
        assert_eq!(codes(&ops), sorted(c_enum("Op")));
        let posts: Vec<_> = Epilogue::ALL
            .iter()
            .map(|e| (e.c_name(), e.code()))
            .collect();
        assert_eq!(codes(&posts), sorted(c_enum("Post")));

        let preps = [
            (RowPrep::None, "NONE"),
            (RowPrep::Scale(vec![]), "SCALE"),
            (RowPrep::Transform(vec![]), "TRANSFORM"),
            (RowPrep::Center, "CENTER"),
            (RowPrep::Boolean, "BOOLEAN"),
            (RowPrep::Probability, "PROBABILITY"),
        ]
        .map(|(p, n)| (format!("PREP_{n}"), p.kernel_code().0));
        assert_eq!(sorted(preps.to_vec()), sorted(c_enum("Prep")));

        let sides = [
            (RowSide::Unused, "UNUSED"),
            (RowSide::InverseNorm, "INVERSE_NORM"),
            (RowSide::SquaredNorm, "SQUARED_NORM"),
            (RowSide::Count, "COUNT"),
            (RowSide::JensenShannonFlag, "JS_FLAG"),
        ]
        .map(|(s, n)| (format!("SIDE_{n}"), s.kernel_code()));
        assert_eq!(sorted(sides.to_vec()), sorted(c_enum("Side")));
    }
}
