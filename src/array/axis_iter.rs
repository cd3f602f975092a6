//! Walking an array by subviews, as ndarray users do: `axis_iter`/`outer_iter` (one view per
//! index along an axis, that axis removed), `lanes` (the 1-d views along an axis), and
//! `indexed_iter` (multi-index and value in C order). Every item is a view: no data moves.

use super::NdArray;
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::iter::{IndexIter, OffsetIter};
use crate::layout::{Dims, Layout, Strides, normalize_axis};

/// Views of an array along one axis; see [`NdArray::axis_iter`].
#[derive(Clone, Debug)]
pub struct AxisIter {
    base: NdArray,
    /// The sub-layout at index 0 (the axis removed).
    sub: Layout,
    stride: isize,
    next: usize,
    len: usize,
}

impl Iterator for AxisIter {
    type Item = NdArray;
    fn next(&mut self) -> Option<NdArray> {
        if self.next == self.len {
            return None;
        }
        let i = self.next;
        self.next += 1;
        Some(self.base.view_at(&self.sub, i as isize * self.stride))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len - self.next, Some(self.len - self.next))
    }
}
impl ExactSizeIterator for AxisIter {}

impl DoubleEndedIterator for AxisIter {
    fn next_back(&mut self) -> Option<NdArray> {
        if self.next == self.len {
            return None;
        }
        self.len -= 1;
        Some(
            self.base
                .view_at(&self.sub, self.len as isize * self.stride),
        )
    }
}

/// The 1-d views along one axis, one per index of the other axes in C order; see
/// [`NdArray::lanes`].
#[derive(Clone, Debug)]
pub struct Lanes {
    base: NdArray,
    lane: Layout,
    starts: OffsetIter,
}

impl Iterator for Lanes {
    type Item = NdArray;
    fn next(&mut self) -> Option<NdArray> {
        let shift = self.starts.next()?;
        Some(self.base.view_at(&self.lane, shift))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.starts.size_hint()
    }
}
impl ExactSizeIterator for Lanes {}

impl NdArray {
    /// The view `self[.., index, ..]` with `axis` removed (ndarray's `index_axis`, NumPy's
    /// `np.take(a, index, axis)` without the copy). Negative axes count from the end.
    pub fn index_axis(&self, axis: isize, index: usize) -> Result<NdArray> {
        let ax = normalize_axis(axis, self.ndim())?;
        let len = self.shape()[ax];
        if index >= len {
            return Err(Error::invalid(format!(
                "index {index} is out of bounds for axis {ax} with size {len}"
            )));
        }
        let (sub, stride) = self.without_axis(ax);
        Ok(self.view_at(&sub, index as isize * stride))
    }

    /// One view per index along `axis`, that axis removed, front to back (ndarray's
    /// `axis_iter`; iterating a NumPy array over `np.moveaxis(a, axis, 0)`).
    ///
    /// ```
    /// use ndstride::{DType, NdArray};
    /// let a = NdArray::arange(6, DType::I64)?.reshape(&[2, 3])?;
    /// let cols: Vec<Vec<i64>> = a.axis_iter(1)?.map(|c| c.to_vec::<i64>()).collect::<Result<_, _>>()?;
    /// assert_eq!(cols, [[0, 3], [1, 4], [2, 5]]);
    /// # Ok::<(), ndstride::Error>(())
    /// ```
    pub fn axis_iter(&self, axis: isize) -> Result<AxisIter> {
        let ax = normalize_axis(axis, self.ndim())?;
        let (sub, stride) = self.without_axis(ax);
        Ok(AxisIter {
            base: self.clone(),
            sub,
            stride,
            next: 0,
            len: self.shape()[ax],
        })
    }

    /// [`axis_iter`](Self::axis_iter) along axis 0: what `for row in a` walks in NumPy. An
    /// error for a 0-d array ("iteration over a 0-d array", as NumPy says).
    pub fn outer_iter(&self) -> Result<AxisIter> {
        if self.ndim() == 0 {
            return Err(Error::invalid("iteration over a 0-d array"));
        }
        self.axis_iter(0)
    }

    /// The 1-d views along `axis` (ndarray's `lanes`): for a 2-d array, `lanes(1)` gives the
    /// rows and `lanes(0)` the columns; the other axes are walked in C order.
    pub fn lanes(&self, axis: isize) -> Result<Lanes> {
        let ax = normalize_axis(axis, self.ndim())?;
        let (others, _) = self.without_axis(ax);
        let lane = Layout {
            shape: Dims::from_slice(&[self.shape()[ax]]),
            strides: Strides::from_slice(&[self.strides()[ax]]),
            offset: self.layout.offset,
        };
        Ok(Lanes {
            base: self.clone(),
            lane,
            starts: OffsetIter::new(&others.shape, &others.strides, 0),
        })
    }

    /// Every element with its multi-index, in C order (ndarray's `indexed_iter`). `T` must be
    /// the array's element type (`u8` for bool).
    ///
    /// ```
    /// use ndstride::{DType, NdArray};
    /// let a = NdArray::arange(4, DType::F64)?.reshape(&[2, 2])?.t();
    /// let items: Vec<(Vec<usize>, f64)> = a.indexed_iter::<f64>()?.collect();
    /// assert_eq!(items[1], (vec![0, 1], 2.0));
    /// # Ok::<(), ndstride::Error>(())
    /// ```
    pub fn indexed_iter<T: Element>(&self) -> Result<impl Iterator<Item = (Vec<usize>, T)> + '_> {
        let view = self.view::<T>()?;
        Ok(IndexIter::new(self.shape()).map(move |idx| {
            let v = *view.get(&idx).expect("IndexIter yields in-bounds indices");
            (idx, v)
        }))
    }

    /// This array's layout without axis `ax`, and that axis' byte stride.
    fn without_axis(&self, ax: usize) -> (Layout, isize) {
        let mut shape = Dims::from_slice(self.shape());
        let mut strides = Strides::from_slice(self.strides());
        shape.remove(ax);
        let stride = strides.remove(ax);
        (
            Layout {
                shape,
                strides,
                offset: self.layout.offset,
            },
            stride,
        )
    }

    /// A view with `layout` moved by `shift` bytes, for layouts that are sub-layouts of this
    /// array's own (so in bounds by construction).
    /// An empty sub-layout stays at the base offset: its nominal start may lie past the end
    /// of an empty buffer.
    fn view_at(&self, layout: &Layout, shift: isize) -> NdArray {
        let mut l = layout.clone();
        if !l.shape.contains(&0) {
            l.offset = (l.offset as isize + shift) as usize;
        }
        self.derive(l, self.dtype)
            .expect("a sub-layout of an in-bounds layout is in bounds")
    }
}
