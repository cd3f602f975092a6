//! Comparisons of whole arrays: `isclose`, `allclose`, `array_equal`, and `PartialEq`.
//! Built from the elementwise ufuncs, so broadcasting and promotion are theirs.

use crate::array::NdArray;
use crate::error::Result;
use crate::ufunc::result_type;

/// NumPy's `isclose(a, b, rtol, atol, equal_nan)`: elementwise
/// `|a - b| <= atol + rtol * |b|` (not symmetric, as in NumPy), exact equality for infinities,
/// and NaN close to NaN only with `equal_nan`. Compares in the floating dtype both operands
/// promote to (float64 for integers); broadcasts; bool output.
pub fn isclose(a: &NdArray, b: &NdArray, rtol: f64, atol: f64, equal_nan: bool) -> Result<NdArray> {
    // NumPy compares at `result_type(y, 1.0)`: a float dtype stays, integers go to float64.
    let float = |d: crate::DType| if d.is_float() { d } else { crate::DType::F64 };
    let ft = result_type(float(a.dtype()), float(b.dtype()));
    let (x, y) = (a.astype_shared(ft)?, b.astype_shared(ft)?);
    let tol = NdArray::full_f64(&[], atol, ft)?
        .add(&NdArray::full_f64(&[], rtol, ft)?.mul(&y.abs()?)?)?;
    let within = x
        .sub(&y)?
        .abs()?
        .less_equal(&tol)?
        .logical_and(&y.isfinite()?)?;
    let close = within.logical_or(&x.equal(&y)?)?;
    if equal_nan {
        close.logical_or(&x.isnan()?.logical_and(&y.isnan()?)?)
    } else {
        Ok(close)
    }
}

/// NumPy's `allclose(a, b, rtol, atol)`: every element [`isclose`] (NaN never equals NaN).
/// NumPy's defaults are `rtol = 1e-5`, `atol = 1e-8`.
///
/// ```
/// use ndstride::{NdArray, allclose};
/// let a = NdArray::from_vec(vec![1.0, 2.0], &[2])?;
/// let b = NdArray::from_vec(vec![1.0 + 1e-9, 2.0], &[2])?;
/// assert!(allclose(&a, &b, 1e-5, 1e-8)?);
/// assert!(!allclose(&a, &NdArray::from_vec(vec![1.1, 2.0], &[2])?, 1e-5, 1e-8)?);
/// # Ok::<(), ndstride::Error>(())
/// ```
pub fn allclose(a: &NdArray, b: &NdArray, rtol: f64, atol: f64) -> Result<bool> {
    all_true(&isclose(a, b, rtol, atol, false)?)
}

/// NumPy's `array_equal(a, b)`: the same shape and equal values (compared after promotion,
/// so int64 `[1]` equals float64 `[1.0]`; NaN is never equal). Shapes that differ give
/// `false`, not an error.
pub fn array_equal(a: &NdArray, b: &NdArray) -> Result<bool> {
    if a.shape() != b.shape() {
        return Ok(false);
    }
    all_true(&a.equal(b)?)
}

fn all_true(t: &NdArray) -> Result<bool> {
    Ok(t.all(None, false)?.to_vec::<u8>()?[0] != 0)
}

/// Values, as [`array_equal`]: equal shapes and equal elements after promotion (NaN is not
/// equal to itself, so an array holding NaN is not equal to itself either). Memory that
/// cannot be found for the comparison counts as not equal.
impl PartialEq for NdArray {
    fn eq(&self, other: &NdArray) -> bool {
        array_equal(self, other).unwrap_or(false)
    }
}

impl NdArray {
    /// This array at `dtype`: a handle to it when it already is, else a converted copy.
    fn astype_shared(&self, dtype: crate::DType) -> Result<NdArray> {
        if self.dtype() == dtype {
            Ok(self.clone())
        } else {
            self.astype(dtype)
        }
    }
}
