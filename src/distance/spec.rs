//! How every distance function takes its metric and options: one argument that converts into
//! a [`MetricSpec`]. A metric alone (`Metric::Euclidean` or `&metric`) means the default
//! options; a pair `(metric, opts)`, by value or by reference, gives both.

use std::borrow::Cow;

use super::metric::Metric;
use super::options::CdistOptions;

/// A metric with its options, borrowed or owned: what `cdist`, `pdist`, `knn`, `argmin_min`,
/// `radius_neighbors` and `radius_count` take.
///
/// ```
/// use ndstride::{NdArray, distance::{cdist, knn, radius_count, CdistOptions, Metric}};
/// let x = NdArray::from_vec(vec![0.0, 1.0, 3.0], &[3, 1])?;
/// let opts = CdistOptions::new().threads(1);
/// let a = cdist(&x, &x, Metric::Cityblock)?;                 // default options
/// let b = cdist(&x, &x, (&Metric::Cityblock, &opts))?;       // with options
/// assert_eq!(a, b);
/// let nn = knn(&x, &x, 2, (Metric::Cityblock, opts.clone()))?;
/// let near = radius_count(&x, &x, 1.0, &Metric::Cityblock)?;
/// assert_eq!(near.to_vec::<i64>()?, [2, 2, 1]);
/// # let _ = nn;
/// # Ok::<(), ndstride::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct MetricSpec<'a> {
    pub metric: Cow<'a, Metric>,
    pub opts: Cow<'a, CdistOptions>,
}

impl MetricSpec<'_> {
    pub fn metric(&self) -> &Metric {
        &self.metric
    }
    pub fn opts(&self) -> &CdistOptions {
        &self.opts
    }
}

impl From<Metric> for MetricSpec<'_> {
    fn from(metric: Metric) -> Self {
        MetricSpec {
            metric: Cow::Owned(metric),
            opts: Cow::Owned(CdistOptions::default()),
        }
    }
}

impl<'a> From<&'a Metric> for MetricSpec<'a> {
    fn from(metric: &'a Metric) -> Self {
        MetricSpec {
            metric: Cow::Borrowed(metric),
            opts: Cow::Owned(CdistOptions::default()),
        }
    }
}

impl From<(Metric, CdistOptions)> for MetricSpec<'_> {
    fn from((metric, opts): (Metric, CdistOptions)) -> Self {
        MetricSpec {
            metric: Cow::Owned(metric),
            opts: Cow::Owned(opts),
        }
    }
}

impl<'a> From<(&'a Metric, &'a CdistOptions)> for MetricSpec<'a> {
    fn from((metric, opts): (&'a Metric, &'a CdistOptions)) -> Self {
        MetricSpec {
            metric: Cow::Borrowed(metric),
            opts: Cow::Borrowed(opts),
        }
    }
}
