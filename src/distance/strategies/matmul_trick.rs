//! The `MatmulTrick` strategy: `‖x‖² + ‖y‖² − 2·x·yᵀ` with the product through our GEMM.
//!
//! Its weakness is cancellation: for points far from the origin the three terms are large and
//! nearly cancel, so the absolute error is about `ε·(‖x‖² + ‖y‖²)` — a point's distance to
//! itself is not 0, and close points in float32 can come out wildly off (on N(0,1) + 100 data
//! with d = 64 the float32 trick errs by about 1% and gives ~0.5 for a point to itself).
//! Negative results are clamped to 0 (as scikit-learn does).

use rayon::prelude::*;

use crate::array::NdArray;
use crate::distance::cpu::kernels::DistFloat;
use crate::distance::input::compute_dtype;
use crate::distance::job::Job;
use crate::distance::metric::Metric;
use crate::distance::output::{OutputRows, Post};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::linalg::matmul;

/// `Ok` for the metrics this strategy computes.
pub(crate) fn supports(metric: &Metric) -> Result<()> {
    form(metric).map(|_| ())
}

/// Every distance of `job` into `out`.
pub(crate) fn run<O: Element>(job: &Job<'_>, out: OutputRows<'_, O>) -> Result<()> {
    let (xa, xb) = (&job.xa, job.xb.as_ref());
    match compute_dtype(xa, xb, job.opts.accumulate_f64) {
        DType::F32 => run_t::<f32, O>(xa, xb, &job.metric, out, job.dims()),
        _ => run_t::<f64, O>(xa, xb, &job.metric, out, job.dims()),
    }
}

/// The form of the result for `metric`, and whether the rows are centred first.
fn form(metric: &Metric) -> Result<(Form, bool)> {
    Ok(match metric {
        Metric::SqEuclidean => (Form::Squared, false),
        Metric::Euclidean => (Form::Root, false),
        Metric::Minkowski { p, w: None } if *p == 2.0 => (Form::Root, false),
        Metric::Cosine => (Form::Cosine, false),
        Metric::Correlation => (Form::Cosine, true),
        _ => {
            return Err(Error::invalid(format!(
                "the matmul strategy computes sqeuclidean, euclidean, cosine and correlation, \
                 not {metric}; use the simd strategy"
            )));
        }
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Form {
    Squared,
    Root,
    Cosine,
}

fn run_t<T: DistFloat, O: Element>(
    xa: &NdArray,
    xb: Option<&NdArray>,
    metric: &Metric,
    out: OutputRows<'_, O>,
    (n, m, d): (usize, usize, usize),
) -> Result<()> {
    let (form, center) = form(metric)?;
    let prep = |x: &NdArray| -> Result<NdArray> {
        let x = x.astype(T::DTYPE)?;
        if !center || d == 0 {
            return Ok(x);
        }
        let mean = x
            .mean_axis(1)?
            .astype(T::DTYPE)?
            .reshape(&[x.shape()[0], 1])?;
        x.sub(&mean)
    };
    let a = prep(xa)?;
    let b = xb.map(prep).transpose()?;
    let b = b.as_ref().unwrap_or(&a);
    let gram = matmul(&a, &b.t())?;
    let sq_norms = |x: &NdArray| -> Result<Vec<f64>> {
        Ok(x.to_vec_f64()?
            .chunks_exact(d.max(1))
            .take(if d == 0 { 0 } else { x.shape()[0] })
            .map(|r| r.iter().map(|v| v * v).sum())
            .collect())
    };
    let (na, nb) = (sq_norms(&a)?, sq_norms(b)?);
    let (na, nb) = if d == 0 {
        (vec![0.0; n], vec![0.0; m])
    } else {
        (na, nb)
    };
    if m == 0 {
        return Ok(());
    }
    let view = gram.view::<T>()?;
    let g = view
        .as_slice()
        .ok_or_else(|| Error::invalid("matmul returned a non-contiguous product"))?;
    let (na_t, nb_t): (Vec<T>, Vec<T>) = (
        na.iter().map(|&v| T::from_f64(v)).collect(),
        nb.iter().map(|&v| T::from_f64(v)).collect(),
    );
    let inv = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| 1.0 / x.sqrt()).collect() };
    let (inv_a, inv_b) = if form == Form::Cosine {
        (inv(&na), inv(&nb))
    } else {
        (vec![], vec![])
    };
    let post = match form {
        Form::Squared => Post::Identity,
        Form::Root => Post::Sqrt,
        Form::Cosine => Post::Cosine {
            inv_a: &inv_a,
            inv_b: &inv_b,
        },
    };
    let body = |(mut rows_out, g): (OutputRows<'_, O>, &[T])| {
        let mut vals = vec![T::zero(); m];
        for (i, row) in rows_out.rows().zip(g.chunks_exact(m)) {
            if form == Form::Cosine {
                vals.copy_from_slice(row);
            } else {
                combine_row(na_t[i], &nb_t, row, &mut vals);
            }
            rows_out.put_row(i, 0, &vals, &post);
        }
    };
    // Sixteen rows a task; small work stays on this thread (rayon's pool is not worth waking,
    // and Miri cannot run it).
    const TASK_ROWS: usize = 16;
    let blocks = out.into_blocks(TASK_ROWS);
    if n * m < 1 << 14 {
        blocks
            .into_iter()
            .zip(g.chunks(TASK_ROWS * m))
            .for_each(body);
    } else {
        blocks
            .into_par_iter()
            .zip(g.par_chunks(TASK_ROWS * m))
            .for_each(body);
    }
    Ok(())
}

/// `out[j] = max(xi + nb[j] − 2·g[j], 0)` in the working precision, as NumPy computes the
/// trick (NaN kept), compiled for the running CPU's vector width.
fn combine_row<T: DistFloat>(xi: T, nb: &[T], g: &[T], out: &mut [T]) {
    #[inline(always)]
    fn body<T: DistFloat>(xi: T, nb: &[T], g: &[T], out: &mut [T]) {
        let two = T::one() + T::one();
        for ((o, &nj), &gij) in out.iter_mut().zip(nb).zip(g) {
            let v = xi + nj - two * gij;
            *o = if v < T::zero() { T::zero() } else { v };
        }
    }
    crate::cpu::dispatched! {
        fn run<T: DistFloat>(xi: T, nb: &[T], g: &[T], out: &mut [T]) => body
    }
    run(xi, nb, g, out)
}
