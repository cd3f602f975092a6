//! The metrics, with SciPy's names and definitions, and the checks on their parameters.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A distance metric, named as in `scipy.spatial.distance`. Metrics with parameters carry
/// them; `None` means SciPy's default, computed from the data (`seuclidean`: the variance of
/// the stacked inputs, `ddof = 1`; `mahalanobis`: the inverse of their covariance).
///
/// ```
/// use ndstride::distance::Metric;
/// let m: Metric = "cityblock".parse().unwrap();
/// assert_eq!(m, Metric::Cityblock);
/// assert_eq!(Metric::minkowski(3.0).name(), "minkowski");
/// assert!("manhatan".parse::<Metric>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Metric {
    /// `Σ (u − v)²`.
    SqEuclidean,
    /// `sqrt(Σ (u − v)²)`.
    Euclidean,
    /// `Σ |u − v|`.
    Cityblock,
    /// `max |u − v|` (NaN terms are skipped, as in SciPy).
    Chebyshev,
    /// `(Σ w·|u − v|^p)^(1/p)`, `p ≥ 1` (`inf` is chebyshev); `w` defaults to all ones.
    Minkowski { p: f64, w: Option<Vec<f64>> },
    /// `sqrt(Σ (u − v)² / V)`.
    SEuclidean { v: Option<Vec<f64>> },
    /// `1 − u·v / (‖u‖·‖v‖)`; NaN for a zero vector.
    Cosine,
    /// Cosine of the mean-centred vectors.
    Correlation,
    /// `Σ |u − v| / (|u| + |v|)`, terms with `0/0` count 0.
    Canberra,
    /// `Σ |u − v| / Σ |u + v|`.
    BrayCurtis,
    /// `sqrt(JS divergence)` of `u/Σu` and `v/Σv`; `inf` for negative entries or a zero sum.
    JensenShannon,
    /// `sqrt((u − v)ᵀ · VI · (u − v))`, `VI` a `d × d` row-major inverse covariance.
    Mahalanobis { vi: Option<Vec<f64>> },
    /// Fraction of unequal components (any dtype).
    Hamming,
    /// Fraction of unequal components among those where either is true (0 if none).
    Jaccard,
    /// `(ntf + nft) / (2·ntt + ntf + nft)`.
    Dice,
    /// `R / (ntt + nff + R)`, `R = 2·(ntf + nft)`.
    RogersTanimoto,
    /// `(d − ntt) / d`.
    RussellRao,
    /// `R / (ntt + nff + R)`, `R = 2·(ntf + nft)` (SciPy ≤ 1.14; removed from later SciPy).
    SokalMichener,
    /// `R / (ntt + R)`, `R = 2·(ntf + nft)`.
    SokalSneath,
    /// `2·ntf·nft / (ntt·nff + ntf·nft)`, 0 when `ntf·nft = 0`.
    Yule,
    /// `ntt / (ntf + nft)` (SciPy ≤ 1.14; removed from later SciPy).
    Kulczynski1,
}

/// The canonical metric names (SciPy's), in the order of [`Metric`]'s variants.
pub const METRIC_NAMES: [&str; 21] = [
    "sqeuclidean",
    "euclidean",
    "cityblock",
    "chebyshev",
    "minkowski",
    "seuclidean",
    "cosine",
    "correlation",
    "canberra",
    "braycurtis",
    "jensenshannon",
    "mahalanobis",
    "hamming",
    "jaccard",
    "dice",
    "rogerstanimoto",
    "russellrao",
    "sokalmichener",
    "sokalsneath",
    "yule",
    "kulczynski1",
];

impl Metric {
    /// Minkowski with exponent `p` (checked when the distances are computed: `p ≥ 1`).
    pub fn minkowski(p: f64) -> Metric {
        Metric::Minkowski { p, w: None }
    }

    /// Weighted Minkowski: `(Σ w·|u − v|^p)^(1/p)`.
    pub fn weighted_minkowski(p: f64, w: Vec<f64>) -> Metric {
        Metric::Minkowski { p, w: Some(w) }
    }

    /// Standardised Euclidean with the variance vector `v`.
    pub fn seuclidean(v: Vec<f64>) -> Metric {
        Metric::SEuclidean { v: Some(v) }
    }

    /// Mahalanobis with the `d × d` inverse covariance `vi`, row-major.
    pub fn mahalanobis(vi: Vec<f64>) -> Metric {
        Metric::Mahalanobis { vi: Some(vi) }
    }

    /// SciPy's name for the metric.
    pub fn name(&self) -> &'static str {
        use Metric::*;
        match self {
            SqEuclidean => "sqeuclidean",
            Euclidean => "euclidean",
            Cityblock => "cityblock",
            Chebyshev => "chebyshev",
            Minkowski { .. } => "minkowski",
            SEuclidean { .. } => "seuclidean",
            Cosine => "cosine",
            Correlation => "correlation",
            Canberra => "canberra",
            BrayCurtis => "braycurtis",
            JensenShannon => "jensenshannon",
            Mahalanobis { .. } => "mahalanobis",
            Hamming => "hamming",
            Jaccard => "jaccard",
            Dice => "dice",
            RogersTanimoto => "rogerstanimoto",
            RussellRao => "russellrao",
            SokalMichener => "sokalmichener",
            SokalSneath => "sokalsneath",
            Yule => "yule",
            Kulczynski1 => "kulczynski1",
        }
    }

    /// Metrics defined on boolean vectors: their inputs are converted to bool (nonzero is
    /// true), as SciPy converts them. Hamming also accepts numbers as they are (the fraction
    /// of unequal components).
    pub fn is_boolean(&self) -> bool {
        use Metric::*;
        matches!(
            self,
            Hamming
                | Jaccard
                | Dice
                | RogersTanimoto
                | RussellRao
                | SokalMichener
                | SokalSneath
                | Yule
                | Kulczynski1
        )
    }

    /// Checks the parameters against the feature dimension `d`.
    pub(crate) fn validate(&self, d: usize) -> Result<()> {
        match self {
            Metric::Minkowski { p, w } => {
                if p.is_nan() || *p < 1.0 {
                    return Err(Error::invalid(format!(
                        "minkowski: p must be at least 1 (got {p})"
                    )));
                }
                if let Some(w) = w {
                    check_vector("minkowski", "w", w, d)?;
                    if let Some(k) = w.iter().position(|&x| x < 0.0 || x.is_nan()) {
                        return Err(Error::invalid(format!(
                            "minkowski: weights must be non-negative (w[{k}] = {})",
                            w[k]
                        )));
                    }
                }
            }
            Metric::SEuclidean { v: Some(v) } => check_vector("seuclidean", "V", v, d)?,
            Metric::Mahalanobis { vi: Some(vi) } => {
                if vi.len() != d * d {
                    return Err(Error::invalid(format!(
                        "mahalanobis: VI must be {d} × {d} ({} elements) for {d} features, \
                         got {} elements",
                        d * d,
                        vi.len()
                    )));
                }
                if let Some(k) = vi.iter().position(|x| !x.is_finite()) {
                    return Err(Error::invalid(format!(
                        "mahalanobis: VI[{}, {}] is {}",
                        k / d,
                        k % d,
                        vi[k]
                    )));
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn check_vector(metric: &str, what: &str, v: &[f64], d: usize) -> Result<()> {
    if v.len() != d {
        return Err(Error::invalid(format!(
            "{metric}: {what} must have one entry per feature ({d}), got {}",
            v.len()
        )));
    }
    if let Some(k) = v.iter().position(|x| x.is_nan()) {
        return Err(Error::invalid(format!("{metric}: {what}[{k}] is NaN")));
    }
    Ok(())
}

impl FromStr for Metric {
    type Err = Error;

    /// SciPy's metric names and its common aliases (`"euclid"`, `"l2"`, `"manhattan"`, …).
    /// Parameterised metrics get SciPy's defaults (`minkowski`: `p = 2`).
    fn from_str(s: &str) -> Result<Metric> {
        use Metric::*;
        let m = match s.to_ascii_lowercase().as_str() {
            "sqeuclidean" | "sqe" | "sqeuclid" => SqEuclidean,
            "euclidean" | "euclid" | "eu" | "e" | "l2" => Euclidean,
            "cityblock" | "cblock" | "cb" | "c" | "manhattan" | "l1" | "taxicab" => Cityblock,
            "chebyshev" | "chebychev" | "cheby" | "cheb" | "ch" | "linf" => Chebyshev,
            "minkowski" | "mi" | "m" | "pnorm" => Metric::minkowski(2.0),
            "seuclidean" | "se" | "s" => SEuclidean { v: None },
            "cosine" | "cos" => Cosine,
            "correlation" | "co" => Correlation,
            "canberra" => Canberra,
            "braycurtis" => BrayCurtis,
            "jensenshannon" | "js" => JensenShannon,
            "mahalanobis" | "mahal" | "mah" => Mahalanobis { vi: None },
            "hamming" | "hamm" | "ha" | "h" | "matching" => Hamming,
            "jaccard" | "jacc" | "ja" | "j" => Jaccard,
            "dice" => Dice,
            "rogerstanimoto" => RogersTanimoto,
            "russellrao" => RussellRao,
            "sokalmichener" => SokalMichener,
            "sokalsneath" => SokalSneath,
            "yule" => Yule,
            "kulczynski1" => Kulczynski1,
            _ => {
                return Err(Error::invalid(format!(
                    "Unknown Distance Metric: {s} (known: {})",
                    METRIC_NAMES.join(", ")
                )));
            }
        };
        Ok(m)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::Minkowski { p, w } => write!(
                f,
                "minkowski(p={p}{})",
                if w.is_some() { ", weighted" } else { "" }
            ),
            m => f.write_str(m.name()),
        }
    }
}
