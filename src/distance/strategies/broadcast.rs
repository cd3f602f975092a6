//! The `Broadcast` strategy, NumPy's first lesson: `x[:, None, :] − y[None, :, :]` as a real
//! `n × m × d` temporary through the ufunc engine, then a reduction over the feature axis.
//! Kept to show what it costs; it refuses when the temporaries would exceed the memory limit.
//! Its chebyshev is `np.max`, which propagates NaN (SciPy's loop skips it).

use crate::array::NdArray;
use crate::distance::input::compute_dtype;
use crate::distance::job::Job;
use crate::distance::metric::Metric;
use crate::distance::output::{OutputRows, Post};
use crate::dtype::Element;
use crate::error::{Error, Result, shape_str};

enum Reduce {
    Sum,
    Max,
}

/// `Ok` for the metrics this strategy computes.
pub(crate) fn supports(metric: &Metric) -> Result<()> {
    terms(metric).map(|_| ())
}

/// The power of `|x − y|` summed (or maxed), and whether the `p`-th root is taken after.
fn terms(metric: &Metric) -> Result<(f64, Reduce, bool)> {
    Ok(match metric {
        Metric::SqEuclidean => (2.0, Reduce::Sum, false),
        Metric::Euclidean => (2.0, Reduce::Sum, true),
        Metric::Cityblock => (1.0, Reduce::Sum, false),
        Metric::Chebyshev => (1.0, Reduce::Max, false),
        Metric::Minkowski { p, w: None } if p.is_infinite() => (1.0, Reduce::Max, false),
        Metric::Minkowski { p, w: None } => (*p, Reduce::Sum, *p != 1.0),
        _ => {
            return Err(Error::invalid(format!(
                "the broadcast strategy computes sqeuclidean, euclidean, cityblock, chebyshev \
                 and unweighted minkowski, not {metric}; use the simd strategy"
            )));
        }
    })
}

/// Every distance of `job` into `out`.
pub(crate) fn run<O: Element>(job: &Job<'_>, mut out: OutputRows<'_, O>) -> Result<()> {
    let (xa, xb, opts) = (&job.xa, job.xb.as_ref(), job.opts);
    let (n, m, d) = job.dims();
    let (p, reduce, root) = terms(&job.metric)?;
    let dtype = compute_dtype(xa, xb, opts.accumulate_f64);
    // The difference and its transformed copy are alive together.
    let bytes = (n as u128) * (m as u128) * (d as u128) * dtype.itemsize() as u128 * 2;
    if bytes > opts.memory_limit as u128 {
        return Err(Error::invalid(format!(
            "the broadcast strategy needs two {} temporaries of {dtype} ({bytes} bytes), over \
             the memory limit of {} bytes; use the simd strategy or raise \
             CdistOptions::memory_limit",
            shape_str(&[n, m, d]),
            opts.memory_limit
        )));
    }
    let a = xa.astype(dtype)?;
    let b = match xb {
        Some(xb) => xb.astype(dtype)?,
        None => a.clone(),
    };
    let dist = if d == 0 {
        NdArray::zeros(&[n, m], dtype)?
    } else {
        let diff = a.expand_dims(1)?.sub(&b.expand_dims(0)?)?; // (n, m, d)
        let terms = match p {
            1.0 => diff.abs()?,
            2.0 => diff.square()?,
            _ => diff.abs()?.pow(&NdArray::full_f64(&[], p, dtype)?)?,
        };
        let r = match reduce {
            Reduce::Sum => terms.sum_axis(2)?,
            Reduce::Max => terms.max_axis(2)?,
        };
        match (root, p) {
            (false, _) => r,
            (true, 2.0) => r.sqrt()?,
            (true, _) => r.pow(&NdArray::full_f64(&[], 1.0 / p, dtype)?)?,
        }
    };
    let vals = dist.to_vec_f64()?;
    for (i, row) in vals
        .chunks_exact(m.max(1))
        .take(if m == 0 { 0 } else { n })
        .enumerate()
    {
        out.put_row(i, 0, row, &Post::Identity);
    }
    Ok(())
}
