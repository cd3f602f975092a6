//! `scipy.spatial.distance.squareform`: condensed vector ↔ square distance matrix.

use super::output::condensed_index;
use crate::array::NdArray;
use crate::error::{Error, Result, shape_str};

/// A condensed vector (length `n·(n−1)/2`) becomes the symmetric `n × n` matrix with a zero
/// diagonal; a square, symmetric, zero-diagonal matrix becomes its condensed vector. The dtype
/// is kept. Other shapes, and matrices that are not symmetric or have a nonzero diagonal, are
/// errors (SciPy's checks, with the offending element named).
///
/// ```
/// use ndstride::{NdArray, distance::squareform};
/// let v = NdArray::from_vec(vec![1.0, 2.0, 3.0], &[3])?;
/// let sq = squareform(&v)?;
/// assert_eq!(sq.to_vec::<f64>()?, vec![0.0, 1.0, 2.0, 1.0, 0.0, 3.0, 2.0, 3.0, 0.0]);
/// assert_eq!(squareform(&sq)?.to_vec::<f64>()?, vec![1.0, 2.0, 3.0]);
/// # Ok::<(), ndstride::Error>(())
/// ```
pub fn squareform(x: &NdArray) -> Result<NdArray> {
    match x.ndim() {
        1 => to_square(x),
        2 => to_condensed(x),
        _ => Err(Error::shape(
            "squareform",
            format!(
                "the first argument must be one or two dimensional, got shape {}",
                shape_str(x.shape())
            ),
        )),
    }
}

fn to_square(x: &NdArray) -> Result<NdArray> {
    let k = x.shape()[0];
    // n = (1 + sqrt(1 + 8k)) / 2, checked exactly in integers.
    let n = ((1.0 + (1.0 + 8.0 * k as f64).sqrt()) / 2.0).round() as usize;
    if n.checked_mul(n.wrapping_sub(1)).map(|p| p / 2) != Some(k) {
        return Err(Error::shape(
            "squareform",
            format!(
                "incompatible vector size {k}: it must be a binomial coefficient n choose 2 \
                 for some integer n >= 2"
            ),
        ));
    }
    let v = x.to_vec_f64()?;
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let d = v[condensed_index(n, i, j)];
            out[i * n + j] = d;
            out[j * n + i] = d;
        }
    }
    NdArray::from_vec(out, &[n, n])?.astype(x.dtype())
}

fn to_condensed(x: &NdArray) -> Result<NdArray> {
    let (n, c) = (x.shape()[0], x.shape()[1]);
    if n != c {
        return Err(Error::shape(
            "squareform",
            format!(
                "the matrix argument must be square, got shape {}",
                shape_str(x.shape())
            ),
        ));
    }
    let v = x.to_vec_f64()?;
    let mut out = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        if v[i * n + i] != 0.0 {
            return Err(Error::invalid(format!(
                "squareform: the distance matrix's diagonal must be zero, element ({i}, {i}) is {}",
                v[i * n + i]
            )));
        }
        for j in i + 1..n {
            let (a, b) = (v[i * n + j], v[j * n + i]);
            if a != b && !(a.is_nan() && b.is_nan()) {
                return Err(Error::invalid(format!(
                    "squareform: the distance matrix must be symmetric, ({i}, {j}) is {a} but \
                     ({j}, {i}) is {b}"
                )));
            }
            out.push(a);
        }
    }
    let len = out.len();
    NdArray::from_vec(out, &[len])?.astype(x.dtype())
}
