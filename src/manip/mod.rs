//! NumPy's array manipulation routines on [`NdArray`]: joining and splitting
//! ([`concatenate`], [`stack`], `split`), gathering (`take`, `take_along_axis`, `compress`,
//! `nonzero`) and comparing ([`allclose`], [`array_equal`]). Copies go through the crate's one
//! strided copy (`iter::copy_strided`); splits are views.

mod compare;
mod gather;
mod join;
mod split;

pub use compare::{allclose, array_equal, isclose};
pub use join::{concatenate, stack};

use crate::array::NdArray;
use crate::error::Result;
use crate::layout::{Layout, normalize_axis};

/// The view of `a` holding `len` positions of `axis` from `start` (in bounds: callers check).
pub(crate) fn along(a: &NdArray, axis: usize, start: usize, len: usize) -> Result<NdArray> {
    a.derive(along_layout(a.layout(), axis, start, len)?, a.dtype())
}

/// The layout of [`along`]'s view.
pub(crate) fn along_layout(
    layout: &Layout,
    axis: usize,
    start: usize,
    len: usize,
) -> Result<Layout> {
    let mut layout = layout.clone();
    layout.shape[axis] = len;
    // An empty view reaches no bytes: its offset stays where the array's is.
    if start > 0 && layout.size() > 0 {
        layout.offset =
            crate::layout::shift_offset(layout.offset, start as isize * layout.strides[axis])?;
    }
    Ok(layout)
}

/// `axis` counted from the end when negative, for an array of `ndim` axes.
pub(crate) fn axis_of(axis: isize, ndim: usize) -> Result<usize> {
    normalize_axis(axis, ndim)
}
