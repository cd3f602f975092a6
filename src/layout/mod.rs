//! Shape, stride and offset arithmetic with no data attached: pure functions over
//! [`Layout`], property-tested on their own.
//!
//! Strides and offsets are in **bytes**, as in NumPy. A layout is valid for a buffer when every
//! element it can reach lies inside the buffer ([`Layout::extent`]); the array layer checks that
//! once per new view, so these functions only promise not to panic or overflow.

mod broadcast;
mod flags;
mod overlap;
mod reshape;
mod shape;
mod slice;
mod slice_parse;
mod transform;

pub use broadcast::{broadcast_dims, broadcast_shapes, broadcast_strides};
pub use overlap::{Overlap, solve_overlap};
pub use shape::{
    Dims, Strides, c_strides, checked_nbytes, checked_size, f_strides, normalize_axis,
};
pub(crate) use shape::{inline_copy, packed_strides, same_shape};
pub use slice::{Ellipsis, IntoSliceItem, NewAxis, SliceInfo, SliceItem};
pub use slice_parse::parse_slice_str;

use crate::error::{Error, Result};

/// Most axes an array may have, as in NumPy 2 (`NPY_MAXDIMS`).
pub const MAX_NDIM: usize = 64;

/// Memory order of a contiguous array.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Order {
    /// Row-major: the last axis varies fastest.
    #[default]
    C,
    /// Column-major: the first axis varies fastest.
    F,
}

/// Where an array's elements live relative to the start of its buffer.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    pub shape: Dims,
    /// Byte step per axis; negative and zero allowed.
    pub strides: Strides,
    /// Byte position of element `[0, 0, ...]`.
    pub offset: usize,
}

// By hand: SmallVec's derived `Clone` copies element by element through `extend`, and
// `from_slice` calls libc's `memmove`; `inline_copy` moves the few numbers with neither.
impl Clone for Layout {
    #[inline]
    fn clone(&self) -> Layout {
        Layout {
            shape: inline_copy(&self.shape),
            strides: inline_copy(&self.strides),
            offset: self.offset,
        }
    }
}

/// The accessors of a type that holds its metadata in a field `layout: Layout` (arrays,
/// their views, device arrays): `shape`, `strides`, `layout`, `ndim`, `size`, and with
/// `offset` also `offset`.
macro_rules! layout_accessors {
    () => {
        pub fn shape(&self) -> &[usize] {
            &self.layout.shape
        }
        /// Byte strides.
        pub fn strides(&self) -> &[isize] {
            &self.layout.strides
        }
        pub fn layout(&self) -> &$crate::layout::Layout {
            &self.layout
        }
        pub fn ndim(&self) -> usize {
            self.layout.ndim()
        }
        /// Number of elements.
        pub fn size(&self) -> usize {
            self.layout.size()
        }
    };
    (offset) => {
        $crate::layout::layout_accessors!();
        /// Byte offset of element `[0, ...]` from the start of the buffer.
        pub fn offset(&self) -> usize {
            self.layout.offset
        }
    };
}
pub(crate) use layout_accessors;

/// A layout of these parts as they are (unchecked), for tests.
#[cfg(test)]
pub(crate) fn layout_of(shape: &[usize], strides: &[isize], offset: usize) -> Layout {
    Layout {
        shape: shape.into(),
        strides: strides.into(),
        offset,
    }
}

/// [`layout_of`] at offset 0.
#[cfg(test)]
pub(crate) fn layout_at_zero(shape: &[usize], strides: &[isize]) -> Layout {
    layout_of(shape, strides, 0)
}

impl Layout {
    /// A contiguous layout of `shape` at offset 0.
    #[inline]
    pub fn contiguous(shape: &[usize], itemsize: usize, order: Order) -> Result<Layout> {
        check_ndim(shape.len())?;
        checked_nbytes(shape, itemsize)?;
        Ok(Layout {
            shape: inline_copy(shape),
            strides: packed_strides(shape, itemsize, order),
            offset: 0,
        })
    }

    /// Bytes of a layout from [`Layout::contiguous`]: its construction checked that this
    /// product fits in `isize`, so it is not checked again here.
    pub(crate) fn packed_nbytes(&self, itemsize: usize) -> usize {
        self.shape.iter().product::<usize>() * itemsize
    }

    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements (saturating: valid layouts never get near the limit).
    pub fn size(&self) -> usize {
        self.shape.iter().fold(1usize, |a, &d| a.saturating_mul(d))
    }

    /// Byte range `[lo, hi)` that the elements touch, or `None` when the array is empty.
    /// Computed in i128 so that no stride/shape combination can overflow.
    pub fn extent(&self, itemsize: usize) -> Option<(i128, i128)> {
        if self.shape.contains(&0) {
            return None;
        }
        let mut lo = self.offset as i128;
        let mut hi = self.offset as i128;
        for (&d, &s) in self.shape.iter().zip(&self.strides) {
            let span = (d as i128 - 1) * s as i128;
            if span < 0 {
                lo += span;
            } else {
                hi += span;
            }
        }
        Some((lo, hi + itemsize as i128))
    }

    /// Checks that every reachable byte lies in `[0, buffer_len)`, and that the offset itself is
    /// inside the buffer (so that pointer arithmetic on it stays in bounds even for empty views).
    pub fn check_in_buffer(&self, itemsize: usize, buffer_len: usize) -> Result<()> {
        check_ndim(self.shape.len())?;
        if self.shape.len() != self.strides.len() {
            return Err(Error::invalid(format!(
                "shape has {} axes but strides have {}",
                self.shape.len(),
                self.strides.len()
            )));
        }
        if self.offset > buffer_len {
            return Err(Error::OutOfBuffer {
                lo: self.offset as i128,
                hi: self.offset as i128,
                len: buffer_len,
            });
        }
        checked_size(&self.shape)?;
        match self.extent(itemsize) {
            Some((lo, hi)) if lo < 0 || hi > buffer_len as i128 => Err(Error::OutOfBuffer {
                lo,
                hi,
                len: buffer_len,
            }),
            _ => Ok(()),
        }
    }

    /// Byte position of the element at `index` (no bounds check on the index values).
    pub fn offset_of(&self, index: &[usize]) -> isize {
        let mut pos = self.offset as isize;
        for (&i, &s) in index.iter().zip(&self.strides) {
            pos += i as isize * s;
        }
        pos
    }

    /// NumPy's C-contiguity for bare shape/strides, without building a `Layout`: lets hot paths
    /// treat an array as one flat run.
    pub fn is_packed_c(shape: &[usize], strides: &[isize], itemsize: usize) -> bool {
        flags::is_contiguous(shape, strides, itemsize, Order::C)
    }

    pub fn is_c_contiguous(&self, itemsize: usize) -> bool {
        flags::is_contiguous(&self.shape, &self.strides, itemsize, Order::C)
    }

    pub fn is_f_contiguous(&self, itemsize: usize) -> bool {
        flags::is_contiguous(&self.shape, &self.strides, itemsize, Order::F)
    }

    /// NumPy's `aligned` flag: offset and every stride that is used are multiples of `align`.
    pub fn is_aligned(&self, align: usize) -> bool {
        flags::is_aligned(self, align)
    }

    /// True when no two distinct indices can reach overlapping bytes (a sufficient test; exact
    /// for every layout that slicing, transposing and reshaping can produce).
    pub fn is_free_of_self_overlap(&self, itemsize: usize) -> bool {
        flags::no_self_overlap(&self.shape, &self.strides, itemsize)
    }
}

/// NumPy's limit on the number of axes, with NumPy's message.
#[inline]
fn check_ndim(ndim: usize) -> Result<()> {
    if ndim > MAX_NDIM {
        return Err(too_many_axes(ndim));
    }
    Ok(())
}

#[cold]
fn too_many_axes(ndim: usize) -> Error {
    Error::invalid(format!(
        "maximum supported dimension for an ndarray is currently {MAX_NDIM}, found {ndim}"
    ))
}

/// `offset + delta`, or an error if the result would leave `0..=isize::MAX`.
pub(crate) fn shift_offset(offset: usize, delta: isize) -> Result<usize> {
    let r = offset as i128 + delta as i128;
    if r < 0 || r > isize::MAX as i128 {
        return Err(Error::overflow(format!("byte offset {offset} + {delta}")));
    }
    Ok(r as usize)
}
