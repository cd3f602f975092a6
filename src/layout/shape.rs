//! Element counts and contiguous strides, with overflow checks.

use smallvec::SmallVec;

use super::Order;
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
#[inline]
pub fn checked_size(shape: &[usize]) -> Result<usize> {
    let mut n = 1usize;
    for &d in shape {
        match n.checked_mul(d) {
            Some(m) => n = m,
            None => return Err(too_many_elements(shape)),
        }
    }
    if n > isize::MAX as usize {
        return Err(too_many_elements(shape));
    }
    Ok(n)
}

#[cold]
fn too_many_elements(shape: &[usize]) -> Error {
    Error::overflow(format!("shape {} has too many elements", shape_str(shape)))
}

/// Bytes needed for `shape` with `itemsize`-byte elements, checked against `isize::MAX`
/// (the most any allocation or pointer offset may span).
#[inline]
pub fn checked_nbytes(shape: &[usize], itemsize: usize) -> Result<usize> {
    match checked_size(shape)?.checked_mul(itemsize) {
        Some(n) if n <= isize::MAX as usize => Ok(n),
        _ => Err(too_many_bytes(shape, itemsize)),
    }
}

#[cold]
fn too_many_bytes(shape: &[usize], itemsize: usize) -> Error {
    Error::overflow(format!(
        "shape {} with {itemsize}-byte elements needs more than isize::MAX bytes",
        shape_str(shape)
    ))
}

/// `items` in an inline vector without a `memcpy` call: `SmallVec::from_slice` copies a
/// run-time length through libc's `memmove`, whose call costs more than moving the three or
/// four numbers of a small array's shape.
#[inline]
pub(crate) fn inline_copy<T: Copy + Default>(items: &[T]) -> SmallVec<[T; 4]> {
    let n = items.len();
    if n > 4 {
        return SmallVec::from_slice(items);
    }
    let mut buf = [T::default(); 4];
    for (i, slot) in buf.iter_mut().enumerate() {
        if i < n {
            *slot = items[i];
        }
    }
    SmallVec::from_buf_and_len(buf, n)
}

/// Byte strides of a packed array of `shape` in `order`. Axes after (C) or before (F) a
/// zero-length axis get the stride they would have with length one, as NumPy does. No
/// overflow check: callers check the size with [`checked_nbytes`] first.
#[inline]
pub(crate) fn packed_strides(shape: &[usize], itemsize: usize, order: Order) -> Strides {
    let fill = |out: &mut [isize]| {
        let mut step = itemsize;
        let mut put = |s: &mut isize, d: usize| {
            *s = step as isize;
            step = step.saturating_mul(d.max(1));
        };
        match order {
            Order::C => out
                .iter_mut()
                .zip(shape)
                .rev()
                .for_each(|(s, &d)| put(s, d)),
            Order::F => out.iter_mut().zip(shape).for_each(|(s, &d)| put(s, d)),
        }
    };
    let n = shape.len();
    if n <= 4 {
        let mut buf = [0isize; 4];
        fill(&mut buf[..n]);
        Strides::from_buf_and_len(buf, n)
    } else {
        let mut strides: Strides = smallvec::smallvec![0isize; n];
        fill(&mut strides);
        strides
    }
}

/// Row-major byte strides. Axes after a zero-length axis get the stride they would have with
/// length one, as NumPy does.
pub fn c_strides(shape: &[usize], itemsize: usize) -> Result<Strides> {
    checked_nbytes(shape, itemsize)?;
    Ok(packed_strides(shape, itemsize, Order::C))
}

/// Column-major byte strides.
pub fn f_strides(shape: &[usize], itemsize: usize) -> Result<Strides> {
    checked_nbytes(shape, itemsize)?;
    Ok(packed_strides(shape, itemsize, Order::F))
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
