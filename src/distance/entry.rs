//! The public entry points (`cdist`, `pdist` and their options forms): the inputs checked,
//! a [`Job`] built, its output made ready.

use super::input::{cdist_dims, pdist_dims};
use super::job::Job;
use super::metric::Metric;
use super::options::CdistOptions;
use super::output::OutputRows;
use super::spec::MetricSpec;
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
    cdist_dims(xa, xb)?;
    let dtype = check_out_dtype(opts.out_dtype)?;
    let job = Job::cdist(xa, xb, metric, opts)?;
    match dtype {
        DType::F32 => job.matrix::<f32>(),
        _ => job.matrix::<f64>(),
    }
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
    let (n, m, _) = cdist_dims(xa, xb)?;
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
    let rows = OutputRows::matrix(out)?.streamed_if_large();
    let job = Job::cdist(xa, xb, metric, opts)?;
    opts.run(|| job.run(rows))?
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
    let n = pdist_dims(x)?.0;
    let len = n
        .checked_mul(n.saturating_sub(1))
        .map(|p| p / 2)
        .ok_or_else(|| Error::overflow(format!("pdist of {n} rows")))?;
    let dtype = check_out_dtype(opts.out_dtype)?;
    let job = Job::pdist(x, metric, opts)?;
    let mut out = NdArray::for_overwrite(&[len], dtype)?; // every element is written below
    fn condensed<O: DistanceOutput>(job: &Job<'_>, out: &mut NdArray, n: usize) -> Result<()> {
        let mut view = out.view_mut::<O>()?;
        let values = view
            .as_slice_mut()
            .ok_or_else(|| Error::invalid("pdist's fresh output is not contiguous"))?;
        let rows = OutputRows::condensed(values, n).streamed_if_large();
        job.opts.run(|| job.run(rows))?
    }
    match dtype {
        DType::F32 => condensed::<f32>(&job, &mut out, n)?,
        _ => condensed::<f64>(&job, &mut out, n)?,
    }
    Ok(out)
}

pub(crate) fn check_out_dtype(d: DType) -> Result<DType> {
    match d {
        DType::F32 | DType::F64 => Ok(d),
        _ => Err(Error::invalid(format!(
            "distances are written as float64 or float32, not {d}"
        ))),
    }
}
