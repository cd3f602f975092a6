//! Element counts and contiguous strides, with overflow checks.

use smallvec::SmallVec;

use crate::error::{Error, Result, shape_str};

/// Axis lengths. Up to four axes live inline, so making an array of the usual ranks costs no
/// allocation beyond its data (small-array ufuncs were dominated by such allocations).
pub type Dims = SmallVec<[usize; 4]>;
/// Byte strides, one per axis; inline like [`Dims`].
pub type Strides = SmallVec<[isize; 4]>;

/// `a == b` for shapes, as an inline loop: slice `==` calls `memcmp`, whose call and length
/// dispatch cost more than comparing the few axes an array has (perf on small ufunc calls).
#[inline]
pub(crate) fn same_shape(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Product of the shape, or an error naming the shape when it overflows.
pub fn checked_size(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or_else(|| Error::overflow(format!("shape {} has too many elements", shape_str(shape))))
}

/// Bytes needed for `shape` with `itemsize`-byte elements, checked against `isize::MAX`
/// (the most any allocation or pointer offset may span).
pub fn checked_nbytes(shape: &[usize], itemsize: usize) -> Result<usize> {
    checked_size(shape)?
        .checked_mul(itemsize)
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or_else(|| {
            Error::overflow(format!(
                "shape {} with {itemsize}-byte elements needs more than isize::MAX bytes",
                shape_str(shape)
            ))
        })
}

/// Row-major byte strides. Axes after a zero-length axis get the stride they would have with
/// length one, as NumPy does.
pub fn c_strides(shape: &[usize], itemsize: usize) -> Result<Strides> {
    checked_nbytes(shape, itemsize)?;
    let mut strides: Strides = smallvec::smallvec![0isize; shape.len()];
    let mut step = itemsize;
    for (s, &d) in strides.iter_mut().zip(shape).rev() {
        *s = step as isize;
        step = step.saturating_mul(d.max(1));
    }
    Ok(strides)
}

/// Column-major byte strides.
pub fn f_strides(shape: &[usize], itemsize: usize) -> Result<Strides> {
    checked_nbytes(shape, itemsize)?;
    let mut strides: Strides = smallvec::smallvec![0isize; shape.len()];
    let mut step = itemsize;
    for (s, &d) in strides.iter_mut().zip(shape) {
        *s = step as isize;
        step = step.saturating_mul(d.max(1));
    }
    Ok(strides)
}

/// Maps a possibly negative axis to `0..ndim`.
pub fn normalize_axis(axis: isize, ndim: usize) -> Result<usize> {
    let n = ndim as isize;
    let a = if axis < 0 { axis + n } else { axis };
    if a < 0 || a >= n {
        return Err(Error::AxisOutOfBounds { axis, ndim });
    }
    Ok(a as usize)
}
