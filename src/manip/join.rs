//! `concatenate` and `stack`: one output allocated at the promoted dtype, each input copied
//! into its part of it.

use super::{along_layout, axis_of};
use crate::array::NdArray;
use crate::error::{Error, Result};
use crate::iter::copy_strided;
use crate::ufunc::result_type;

/// NumPy's `concatenate(arrays, axis)`: the arrays joined along an existing axis (negative
/// counts from the end), at the dtype NumPy's promotion gives them all. Every other axis must
/// match.
///
/// ```
/// use ndstride::{DType, NdArray, concatenate};
/// let a = NdArray::arange(6, DType::I32)?.reshape(&[2, 3])?;
/// let b = NdArray::full::<f32>(&[1, 3], 0.5)?;
/// let c = concatenate(&[&a, &b], 0)?;
/// assert_eq!((c.shape(), c.dtype()), (&[3usize, 3][..], DType::F64)); // int32 with float32
/// assert_eq!(c.to_vec::<f64>()?[6..], [0.5, 0.5, 0.5]);
/// # Ok::<(), ndstride::Error>(())
/// ```
pub fn concatenate(arrays: &[&NdArray], axis: isize) -> Result<NdArray> {
    let first = arrays
        .first()
        .ok_or_else(|| Error::invalid("need at least one array to concatenate"))?;
    let ndim = first.ndim();
    if ndim == 0 {
        return Err(Error::invalid(
            "zero-dimensional arrays cannot be concatenated",
        ));
    }
    let axis = axis_of(axis, ndim)?;
    let mut dtype = first.dtype();
    let mut total = 0usize;
    for (i, a) in arrays.iter().enumerate() {
        if a.ndim() != ndim {
            return Err(Error::shape(
                "concatenate",
                format!(
                    "all the input arrays must have same number of dimensions, but the array at \
                     index 0 has {ndim} dimension(s) and the array at index {i} has {} dimension(s)",
                    a.ndim()
                ),
            ));
        }
        for d in (0..ndim).filter(|&d| d != axis) {
            if a.shape()[d] != first.shape()[d] {
                return Err(Error::shape(
                    "concatenate",
                    format!(
                        "all the input array dimensions except for the concatenation axis must \
                         match exactly, but along dimension {d}, the array at index 0 has size {} \
                         and the array at index {i} has size {}",
                        first.shape()[d],
                        a.shape()[d]
                    ),
                ));
            }
        }
        dtype = result_type(dtype, a.dtype());
        total = total
            .checked_add(a.shape()[axis])
            .ok_or_else(|| Error::overflow("concatenated axis length"))?;
    }
    let mut shape = first.shape().to_vec();
    shape[axis] = total;
    let mut out = NdArray::for_overwrite(&shape, dtype)?;
    let itemsize = dtype.itemsize();
    let mut start = 0;
    for a in arrays {
        let n = a.shape()[axis];
        let converted;
        let src = if a.dtype() == dtype {
            *a
        } else {
            converted = a.astype(dtype)?;
            &converted
        };
        let dst = along_layout(out.layout(), axis, start, n)?;
        let ptr = out.buffer_mut_ptr()?;
        // SAFETY: `dst` is a part of `out`'s fresh, packed, solely owned buffer with the
        // source's shape (every axis but `axis` matches, checked above; `n` along it), free of
        // self-overlap as a slice of a packed layout; `src`'s layout is in bounds of its own
        // buffer, which is not `out`'s. The parts tile `out` along `axis`, so every byte of
        // the `for_overwrite` buffer is written before it is returned.
        unsafe { copy_strided(ptr, &dst, src.buffer_ptr(), src.layout(), itemsize) };
        start += n;
    }
    Ok(out)
}

/// NumPy's `stack(arrays, axis)`: arrays of one shape joined along a new axis (`axis` in
/// `-(ndim+1)..=ndim`).
///
/// ```
/// use ndstride::{DType, NdArray, stack};
/// let a = NdArray::arange(3, DType::I64)?;
/// let s = stack(&[&a, &a], -1)?;
/// assert_eq!((s.shape(), s.to_vec::<i64>()?), (&[3usize, 2][..], vec![0, 0, 1, 1, 2, 2]));
/// # Ok::<(), ndstride::Error>(())
/// ```
pub fn stack(arrays: &[&NdArray], axis: isize) -> Result<NdArray> {
    let first = arrays
        .first()
        .ok_or_else(|| Error::invalid("need at least one array to stack"))?;
    if arrays.iter().any(|a| a.shape() != first.shape()) {
        return Err(Error::shape(
            "stack",
            "all input arrays must have the same shape",
        ));
    }
    let axis = axis_of(axis, first.ndim() + 1)?;
    let expanded = arrays
        .iter()
        .map(|a| a.expand_dims(axis as isize))
        .collect::<Result<Vec<_>>>()?;
    let refs: Vec<&NdArray> = expanded.iter().collect();
    concatenate(&refs, axis as isize)
}
