//! Basic indexing: ranges with steps, integer indices that drop an axis, new axes and the
//! ellipsis. Both the [`s!`](crate::s) macro and [`parse_slice_str`](super::parse_slice_str)
//! produce a [`SliceInfo`]; [`Layout::sliced`] applies it.

use super::{Layout, shift_offset};
use crate::error::{Error, Result};

/// One entry of an index expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SliceItem {
    /// NumPy's `start:stop:step`: a negative step starts at `start` (default: the last element)
    /// and walks down to just above `stop`.
    Slice {
        start: Option<isize>,
        stop: Option<isize>,
        step: isize,
    },
    /// ndarray's `start..end;step`: the elements of `start..end`, walked from the end of the
    /// range when the step is negative (`s![1..4;-2]` gives elements 3, 1).
    Range {
        start: Option<isize>,
        end: Option<isize>,
        step: isize,
    },
    /// An integer index; the axis disappears.
    Index(isize),
    /// A new axis of length 1 (`None` / `np.newaxis`).
    NewAxis,
    /// `...`: as many full slices as the other items leave axes for.
    Ellipsis,
}

/// Marker for a new axis in [`s!`](crate::s): `s![.., NewAxis]`.
#[derive(Clone, Copy, Debug)]
pub struct NewAxis;

/// Marker for `...` in [`s!`](crate::s): `s![Ellipsis, 0]`.
#[derive(Clone, Copy, Debug)]
pub struct Ellipsis;

/// A whole index expression, e.g. the result of `s![1..;2, ..;-1, NewAxis, 3]`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SliceInfo {
    pub items: Vec<SliceItem>,
}

impl SliceInfo {
    pub fn new(items: Vec<SliceItem>) -> Self {
        SliceInfo { items }
    }
}

impl From<Vec<SliceItem>> for SliceInfo {
    fn from(items: Vec<SliceItem>) -> Self {
        SliceInfo { items }
    }
}

/// Anything that can stand alone in [`s!`](crate::s): an integer, a range, a marker.
pub trait IntoSliceItem {
    fn into_slice_item(self) -> SliceItem;
}

/// A Rust range reduced to optional `(start, end)` bounds, for `s![range;step]`.
pub trait IntoRangeBounds {
    fn bounds(self) -> (Option<isize>, Option<isize>);
}

impl SliceItem {
    /// `range;step` in the macro.
    pub fn stepped<R: IntoRangeBounds>(range: R, step: isize) -> SliceItem {
        let (start, end) = range.bounds();
        SliceItem::Range { start, end, step }
    }
}

impl IntoSliceItem for SliceItem {
    fn into_slice_item(self) -> SliceItem {
        self
    }
}
impl IntoSliceItem for NewAxis {
    fn into_slice_item(self) -> SliceItem {
        SliceItem::NewAxis
    }
}
impl IntoSliceItem for Ellipsis {
    fn into_slice_item(self) -> SliceItem {
        SliceItem::Ellipsis
    }
}
impl IntoRangeBounds for std::ops::RangeFull {
    fn bounds(self) -> (Option<isize>, Option<isize>) {
        (None, None)
    }
}
impl IntoSliceItem for std::ops::RangeFull {
    fn into_slice_item(self) -> SliceItem {
        SliceItem::stepped(self, 1)
    }
}

// Indices beyond isize::MAX cannot address anything; saturating keeps them out of bounds.
fn sat<T: TryInto<isize>>(v: T) -> isize {
    v.try_into().unwrap_or(isize::MAX)
}

macro_rules! impl_index_types {
    ($($t:ty),*) => {$(
        impl IntoSliceItem for $t {
            fn into_slice_item(self) -> SliceItem { SliceItem::Index(sat(self)) }
        }
        impl IntoRangeBounds for std::ops::Range<$t> {
            fn bounds(self) -> (Option<isize>, Option<isize>) { (Some(sat(self.start)), Some(sat(self.end))) }
        }
        impl IntoRangeBounds for std::ops::RangeFrom<$t> {
            fn bounds(self) -> (Option<isize>, Option<isize>) { (Some(sat(self.start)), None) }
        }
        impl IntoRangeBounds for std::ops::RangeTo<$t> {
            fn bounds(self) -> (Option<isize>, Option<isize>) { (None, Some(sat(self.end))) }
        }
        impl IntoRangeBounds for std::ops::RangeInclusive<$t> {
            fn bounds(self) -> (Option<isize>, Option<isize>) {
                let end = sat(*self.end());
                // `..=-1` means "through the last element": no upper bound.
                (Some(sat(*self.start())), if end == -1 { None } else { Some(end.saturating_add(1)) })
            }
        }
        impl IntoRangeBounds for std::ops::RangeToInclusive<$t> {
            fn bounds(self) -> (Option<isize>, Option<isize>) {
                let end = sat(self.end);
                (None, if end == -1 { None } else { Some(end.saturating_add(1)) })
            }
        }
        impl IntoSliceItem for std::ops::Range<$t> {
            fn into_slice_item(self) -> SliceItem { SliceItem::stepped(self, 1) }
        }
        impl IntoSliceItem for std::ops::RangeFrom<$t> {
            fn into_slice_item(self) -> SliceItem { SliceItem::stepped(self, 1) }
        }
        impl IntoSliceItem for std::ops::RangeTo<$t> {
            fn into_slice_item(self) -> SliceItem { SliceItem::stepped(self, 1) }
        }
        impl IntoSliceItem for std::ops::RangeInclusive<$t> {
            fn into_slice_item(self) -> SliceItem { SliceItem::stepped(self, 1) }
        }
        impl IntoSliceItem for std::ops::RangeToInclusive<$t> {
            fn into_slice_item(self) -> SliceItem { SliceItem::stepped(self, 1) }
        }
    )*};
}
impl_index_types!(i32, i64, isize, usize, u32);

/// Builds a [`SliceInfo`] with ndarray's syntax: `s![1..;2, ..;-1, NewAxis, 3]`.
///
/// A range with a negative step walks the range from its end (ndarray's rule), so `..;-1`
/// reverses an axis. Integer indices may be negative (counted from the end).
#[macro_export]
macro_rules! s {
    (@acc [$($acc:expr,)*]) => {
        $crate::SliceInfo::new(vec![$($acc,)*])
    };
    (@acc [$($acc:expr,)*] $r:expr ; $step:expr , $($rest:tt)*) => {
        $crate::s!(@acc [$($acc,)* $crate::SliceItem::stepped($r, $step),] $($rest)*)
    };
    (@acc [$($acc:expr,)*] $r:expr ; $step:expr) => {
        $crate::s!(@acc [$($acc,)* $crate::SliceItem::stepped($r, $step),])
    };
    (@acc [$($acc:expr,)*] $e:expr , $($rest:tt)*) => {
        $crate::s!(@acc [$($acc,)* $crate::IntoSliceItem::into_slice_item($e),] $($rest)*)
    };
    (@acc [$($acc:expr,)*] $e:expr) => {
        $crate::s!(@acc [$($acc,)* $crate::IntoSliceItem::into_slice_item($e),])
    };
    ($($t:tt)*) => {
        $crate::s!(@acc [] $($t)*)
    };
}

/// First index, length and step of a resolved slice on an axis of length `len`.
fn resolve(item: &SliceItem, len: usize) -> Result<(usize, usize, isize)> {
    let n = len as i128;
    match *item {
        SliceItem::Slice { start, stop, step } => {
            if step == 0 {
                return Err(Error::invalid("slice step cannot be zero"));
            }
            let st = step as i128;
            let adjust = |v: isize, lo: i128, hi: i128| {
                let v = v as i128;
                let v = if v < 0 { v + n } else { v };
                v.clamp(lo, hi)
            };
            let (first, count) = if st > 0 {
                let a = start.map_or(0, |v| adjust(v, 0, n));
                let b = stop.map_or(n, |v| adjust(v, 0, n));
                (a, if b > a { (b - a - 1) / st + 1 } else { 0 })
            } else {
                let a = start.map_or(n - 1, |v| adjust(v, -1, n - 1));
                let b = stop.map_or(-1, |v| adjust(v, -1, n - 1));
                (a, if a > b { (a - b - 1) / -st + 1 } else { 0 })
            };
            Ok((
                if count > 0 { first as usize } else { 0 },
                count as usize,
                step,
            ))
        }
        SliceItem::Range { start, end, step } => {
            if step == 0 {
                return Err(Error::invalid("slice step cannot be zero"));
            }
            let clampi = |v: isize| {
                let v = v as i128;
                (if v < 0 { v + n } else { v }).clamp(0, n)
            };
            let a = start.map_or(0, clampi);
            let b = end.map_or(n, clampi);
            let span = (b - a).max(0);
            let st = (step as i128).abs();
            let count = (span + st - 1) / st;
            let first = if count == 0 {
                0
            } else if step > 0 {
                a
            } else {
                b - 1
            };
            Ok((first as usize, count as usize, step))
        }
        _ => unreachable!("resolve is only called on slices"),
    }
}

impl Layout {
    /// Applies an index expression, NumPy's basic indexing.
    pub fn sliced(&self, info: &SliceInfo) -> Result<Layout> {
        let ndim = self.ndim();
        let consumed = info
            .items
            .iter()
            .filter(|i| !matches!(i, SliceItem::NewAxis | SliceItem::Ellipsis))
            .count();
        let ellipses = info
            .items
            .iter()
            .filter(|i| matches!(i, SliceItem::Ellipsis))
            .count();
        if ellipses > 1 {
            return Err(Error::invalid(
                "an index can only have a single ellipsis ('...')",
            ));
        }
        if consumed > ndim {
            return Err(Error::invalid(format!(
                "too many indices for array: array is {ndim}-dimensional, but {consumed} were indexed"
            )));
        }
        let full = SliceItem::Slice {
            start: None,
            stop: None,
            step: 1,
        };
        let mut out = Layout {
            shape: Default::default(),
            strides: Default::default(),
            offset: self.offset,
        };
        let mut delta: i128 = 0;
        let mut axis = 0usize;
        let mut apply = |item: &SliceItem, out: &mut Layout, axis: &mut usize| -> Result<()> {
            match *item {
                SliceItem::NewAxis => {
                    out.shape.push(1);
                    out.strides.push(0);
                }
                SliceItem::Ellipsis => unreachable!("expanded by the caller"),
                SliceItem::Index(i) => {
                    let len = self.shape[*axis];
                    let idx = if i < 0 {
                        i as i128 + len as i128
                    } else {
                        i as i128
                    };
                    if idx < 0 || idx >= len as i128 {
                        return Err(Error::IndexOutOfBounds {
                            index: i,
                            axis: *axis,
                            size: len,
                        });
                    }
                    delta += idx * self.strides[*axis] as i128;
                    *axis += 1;
                }
                SliceItem::Slice { .. } | SliceItem::Range { .. } => {
                    let (first, count, step) = resolve(item, self.shape[*axis])?;
                    let stride = self.strides[*axis] as i128;
                    delta += first as i128 * stride;
                    let new_stride = stride * step as i128;
                    out.shape.push(count);
                    out.strides.push(
                        isize::try_from(new_stride).map_err(|_| Error::overflow("slice stride"))?,
                    );
                    *axis += 1;
                }
            }
            Ok(())
        };
        for item in &info.items {
            if matches!(item, SliceItem::Ellipsis) {
                for _ in 0..ndim - consumed {
                    apply(&full, &mut out, &mut axis)?;
                }
            } else {
                apply(item, &mut out, &mut axis)?;
            }
        }
        while axis < ndim {
            apply(&full, &mut out, &mut axis)?;
        }
        // An empty result reaches no byte; keeping the source's offset keeps it inside the
        // buffer even when the source itself was empty along another axis.
        if !out.shape.contains(&0) {
            let delta = isize::try_from(delta).map_err(|_| Error::overflow("slice offset"))?;
            out.offset = shift_offset(self.offset, delta)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::layout::layout_at_zero as lay;

    #[test]
    fn macro_forms() {
        let a = lay(&[3, 3], &[3, 1]);
        // a[::2]
        let v = a.sliced(&crate::s![..;2]).unwrap();
        assert_eq!(
            (v.shape, v.strides, v.offset),
            (smallvec::smallvec![2, 3], smallvec::smallvec![6, 1], 0)
        );
        // a[:, ::-1]
        let v = a.sliced(&crate::s![.., ..;-1]).unwrap();
        assert_eq!(
            (v.shape, v.strides, v.offset),
            (smallvec::smallvec![3, 3], smallvec::smallvec![3, -1], 2)
        );
        // a[1:, ::2]
        let v = a.sliced(&crate::s![1.., ..;2]).unwrap();
        assert_eq!(
            (v.shape, v.strides, v.offset),
            (smallvec::smallvec![2, 2], smallvec::smallvec![3, 2], 3)
        );
        // a[None, 1]
        let v = a.sliced(&crate::s![NewAxis, 1]).unwrap();
        assert_eq!(
            (v.shape, v.strides, v.offset),
            (smallvec::smallvec![1, 3], smallvec::smallvec![0, 1], 3)
        );
        // ndarray's negative step on a range: 1..3;-1 gives elements 2, 1
        let v = lay(&[5], &[8]).sliced(&crate::s![1..3;-1]).unwrap();
        assert_eq!(
            (v.shape, v.strides, v.offset),
            (smallvec::smallvec![2], smallvec::smallvec![-8], 16)
        );
        // index out of bounds, too many indices
        assert!(a.sliced(&crate::s![3]).is_err());
        assert!(a.sliced(&crate::s![-4]).is_err());
        assert!(a.sliced(&crate::s![0, 0, 0]).is_err());
        assert_eq!(a.sliced(&crate::s![-1, Ellipsis]).unwrap().offset, 6);
    }

    #[test]
    fn numpy_slice_semantics() {
        let s = |start, stop, step| SliceItem::Slice { start, stop, step };
        // [0,1,2,3,4][::-2] -> 4,2,0
        assert_eq!(resolve(&s(None, None, -2), 5).unwrap(), (4, 3, -2));
        // [0..5][3:0:-1] -> 3,2,1
        assert_eq!(resolve(&s(Some(3), Some(0), -1), 5).unwrap(), (3, 3, -1));
        // [0..5][-100:100] -> all
        assert_eq!(resolve(&s(Some(-100), Some(100), 1), 5).unwrap(), (0, 5, 1));
        // [0..5][10::-1] -> 4..0
        assert_eq!(resolve(&s(Some(10), None, -1), 5).unwrap(), (4, 5, -1));
        assert_eq!(resolve(&s(Some(4), Some(2), 1), 5).unwrap().1, 0);
        assert!(resolve(&s(None, None, 0), 5).is_err());
    }
}
