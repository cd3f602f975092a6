//! Typed views: `ArrayView<'_, T>` reads, `ArrayViewMut<'_, T>` writes, both checked against
//! the array's dtype and alignment when created.

use std::marker::PhantomData;

use super::NdArray;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::iter::{OffsetIter, copy_strided};
use crate::layout::{Layout, SliceInfo};

impl NdArray {
    /// Checks that this array's elements can be read as `T` in place.
    fn check_typed<T: Element>(&self) -> Result<()> {
        // Bool arrays are readable as bytes (any nonzero byte is True); see `Element`.
        let ok = self.dtype == T::DTYPE || (self.dtype == DType::Bool && T::DTYPE == DType::U8);
        if !ok {
            return Err(Error::DTypeMismatch {
                expected: self.dtype,
                requested: std::any::type_name::<T>(),
            });
        }
        let align = std::mem::align_of::<T>();
        let addr = self.buffer_ptr() as usize + self.layout.offset;
        if !addr.is_multiple_of(align) || !self.layout.is_aligned(align) {
            return Err(Error::Misaligned {
                offset: self.layout.offset,
                align,
            });
        }
        Ok(())
    }

    /// A read-only typed view. Errors on a dtype mismatch or misaligned data.
    pub fn view<T: Element>(&self) -> Result<ArrayView<'_, T>> {
        self.check_typed::<T>()?;
        Ok(ArrayView {
            base: self.buffer_ptr(),
            buffer_len: self.buffer_len(),
            layout: self.layout.clone(),
            _marker: PhantomData,
        })
    }

    /// A mutable typed view of the whole array. Needs a writeable handle that is the only owner
    /// of its buffer (see the module docs of [`crate::array`] for why).
    pub fn view_mut<T: Element>(&mut self) -> Result<ArrayViewMut<'_, T>> {
        self.check_typed::<T>()?;
        let base = self.buffer_mut_ptr()?;
        Ok(ArrayViewMut {
            base,
            buffer_len: self.buffer_len(),
            layout: self.layout.clone(),
            _marker: PhantomData,
        })
    }

    /// A mutable typed view of part of the array: writes go into this array's buffer.
    ///
    /// ```
    /// use ndstride::{NdArray, s};
    /// let mut a = NdArray::from_vec((0..6i64).collect(), &[6]).unwrap();
    /// a.slice_mut(s![..;2]).unwrap().fill(0i64); // the literal's type picks the element type
    /// assert_eq!(a.to_vec::<i64>().unwrap(), vec![0, 1, 0, 3, 0, 5]);
    /// ```
    pub fn slice_mut<T: Element>(&mut self, info: SliceInfo) -> Result<ArrayViewMut<'_, T>> {
        self.view_mut::<T>()?.into_slice(&info)
    }
}

/// A read-only, typed, strided view borrowing an [`NdArray`].
pub struct ArrayView<'a, T: Element> {
    /// Start of the buffer (element positions are `base + layout.offset_of(index)`).
    base: *const u8,
    buffer_len: usize,
    layout: Layout,
    _marker: PhantomData<&'a T>,
}

/// A mutable, typed, strided view borrowing an [`NdArray`] exclusively.
pub struct ArrayViewMut<'a, T: Element> {
    base: *mut u8,
    buffer_len: usize,
    /// Invariant: in bounds of the buffer and free of self-overlap (distinct indices reach
    /// disjoint bytes), so `&mut` to different elements never alias.
    layout: Layout,
    _marker: PhantomData<&'a mut T>,
}

// SAFETY: an ArrayView is a shared borrow of `T`s, like `&'a [T]`.
unsafe impl<T: Element> Send for ArrayView<'_, T> {}
// SAFETY: as above.
unsafe impl<T: Element> Sync for ArrayView<'_, T> {}
// SAFETY: an ArrayViewMut is an exclusive borrow of `T`s, like `&'a mut [T]`.
unsafe impl<T: Element> Send for ArrayViewMut<'_, T> {}
// SAFETY: `&ArrayViewMut` only allows reads.
unsafe impl<T: Element> Sync for ArrayViewMut<'_, T> {}

fn element_offset(layout: &Layout, index: &[usize]) -> Option<isize> {
    if index.len() != layout.ndim() || index.iter().zip(&layout.shape).any(|(&i, &n)| i >= n) {
        return None;
    }
    Some(layout.offset_of(index))
}

macro_rules! shared_view_methods {
    () => {
        crate::layout::layout_accessors!();

        /// The element at `index`, or `None` when the index is out of bounds or has the wrong
        /// number of axes.
        pub fn get(&self, index: &[usize]) -> Option<&T> {
            let off = element_offset(&self.layout, index)?;
            // SAFETY: the index is in bounds, so `off` is inside the buffer (layout invariant)
            // and aligned (checked when the view was made); the borrow of `self` keeps it alive.
            Some(unsafe { &*(self.base.offset(off) as *const T) })
        }

        /// Elements in logical (C) order.
        pub fn iter(&self) -> impl ExactSizeIterator<Item = &T> + '_ {
            let base = self.base as *const u8;
            OffsetIter::new(
                &self.layout.shape,
                &self.layout.strides,
                self.layout.offset as isize,
            )
            // SAFETY: every offset the iterator yields belongs to an in-bounds index.
            .map(move |off| unsafe { &*(base.offset(off) as *const T) })
        }

        /// The elements copied out in logical (C) order; an error when they would not fit in
        /// memory (a large broadcast view).
        pub fn to_vec(&self) -> Result<Vec<T>> {
            let dst = Layout::contiguous(self.shape(), std::mem::size_of::<T>(), crate::Order::C)?;
            let mut out = super::try_vec::<T>(self.size())?;
            // SAFETY: `out` is a fresh, packed buffer for the shape; the source layout is in
            // bounds; they do not overlap.
            unsafe {
                copy_strided(
                    out.as_mut_ptr() as *mut u8,
                    &dst,
                    self.base as *const u8,
                    &self.layout,
                    std::mem::size_of::<T>(),
                )
            };
            Ok(out)
        }

        /// The elements as one slice when they are C-contiguous with a positive layout.
        pub fn as_slice(&self) -> Option<&[T]> {
            if !self.layout.is_c_contiguous(std::mem::size_of::<T>()) {
                return None;
            }
            // SAFETY: C-contiguous (NumPy's rule: unit axes may have odd strides, which do not
            // move the start) means `size` packed elements from `offset`.
            Some(unsafe {
                std::slice::from_raw_parts(
                    self.base.add(self.layout.offset) as *const T,
                    self.size(),
                )
            })
        }
    };
}

impl<'a, T: Element> ArrayView<'a, T> {
    shared_view_methods!();

    /// A sub-view (same rules as [`NdArray::slice`]).
    pub fn slice(&self, info: &SliceInfo) -> Result<ArrayView<'a, T>> {
        let layout = self.layout.sliced(info)?;
        layout.check_in_buffer(std::mem::size_of::<T>(), self.buffer_len)?;
        Ok(ArrayView {
            base: self.base,
            buffer_len: self.buffer_len,
            layout,
            _marker: PhantomData,
        })
    }

    /// The transposed view (axes reversed).
    pub fn t(&self) -> ArrayView<'a, T> {
        ArrayView {
            base: self.base,
            buffer_len: self.buffer_len,
            layout: self.layout.transposed(),
            _marker: PhantomData,
        }
    }
}

impl<'a, T: Element> ArrayViewMut<'a, T> {
    shared_view_methods!();

    /// A read-only view of the same elements, borrowing this one.
    pub fn view(&self) -> ArrayView<'_, T> {
        ArrayView {
            base: self.base,
            buffer_len: self.buffer_len,
            layout: self.layout.clone(),
            _marker: PhantomData,
        }
    }

    /// A shorter-lived mutable view of the same elements.
    pub fn reborrow(&mut self) -> ArrayViewMut<'_, T> {
        ArrayViewMut {
            base: self.base,
            buffer_len: self.buffer_len,
            layout: self.layout.clone(),
            _marker: PhantomData,
        }
    }

    /// Narrows this view to a slice of it, keeping the borrow.
    pub fn into_slice(self, info: &SliceInfo) -> Result<ArrayViewMut<'a, T>> {
        let layout = self.layout.sliced(info)?;
        self.with_layout(layout)
    }

    /// A mutable sub-view borrowing this one.
    pub fn slice_mut(&mut self, info: &SliceInfo) -> Result<ArrayViewMut<'_, T>> {
        self.reborrow().into_slice(info)
    }

    /// The transposed mutable view.
    pub fn into_t(self) -> ArrayViewMut<'a, T> {
        let layout = self.layout.transposed();
        ArrayViewMut {
            base: self.base,
            buffer_len: self.buffer_len,
            layout,
            _marker: PhantomData,
        }
    }

    fn with_layout(self, layout: Layout) -> Result<ArrayViewMut<'a, T>> {
        let isz = std::mem::size_of::<T>();
        layout.check_in_buffer(isz, self.buffer_len)?;
        if !layout.is_free_of_self_overlap(isz) {
            return Err(Error::NotWriteable {
                why: "the new layout reaches some element twice".into(),
            });
        }
        Ok(ArrayViewMut {
            base: self.base,
            buffer_len: self.buffer_len,
            layout,
            _marker: PhantomData,
        })
    }

    /// Buffer start and layout, for crate kernels that write through this view.
    pub(crate) fn raw_parts(&mut self) -> (*mut u8, &Layout) {
        (self.base, &self.layout)
    }

    /// The elements as one mutable slice when they are C-contiguous with a positive layout.
    pub fn as_slice_mut(&mut self) -> Option<&mut [T]> {
        if !self.layout.is_c_contiguous(std::mem::size_of::<T>()) {
            return None;
        }
        // SAFETY: as in `as_slice`; the view is exclusive and free of self-overlap, borrowed
        // mutably here.
        Some(unsafe {
            std::slice::from_raw_parts_mut(self.base.add(self.layout.offset) as *mut T, self.size())
        })
    }

    /// The element at `index` for writing.
    pub fn get_mut(&mut self, index: &[usize]) -> Option<&mut T> {
        let off = element_offset(&self.layout, index)?;
        // SAFETY: in bounds and aligned as in `get`; exclusive borrow of self.
        Some(unsafe { &mut *(self.base.offset(off) as *mut T) })
    }

    /// Elements in logical order, for writing.
    pub fn iter_mut(&mut self) -> impl ExactSizeIterator<Item = &mut T> + '_ {
        let base = self.base;
        OffsetIter::new(
            &self.layout.shape,
            &self.layout.strides,
            self.layout.offset as isize,
        )
        // SAFETY: in-bounds offsets; distinct indices reach disjoint bytes (layout invariant),
        // so the `&mut` handed out never alias.
        .map(move |off| unsafe { &mut *(base.offset(off) as *mut T) })
    }

    /// Sets every element to `value`.
    pub fn fill(&mut self, value: T) {
        for v in self.iter_mut() {
            *v = value;
        }
    }

    /// Copies `src` into this view, broadcasting it to this view's shape.
    pub fn assign(&mut self, src: &ArrayView<'_, T>) -> Result<()> {
        let src_layout = src.layout.broadcast_to(self.shape())?;
        // SAFETY: both layouts are in bounds for the same shape; the destination is free of
        // self-overlap and exclusively borrowed, so it cannot share bytes with `src`.
        unsafe {
            copy_strided(
                self.base,
                &self.layout,
                src.base,
                &src_layout,
                std::mem::size_of::<T>(),
            );
        }
        Ok(())
    }

    /// Applies `f` to every element in place.
    pub fn map_inplace(&mut self, mut f: impl FnMut(T) -> T) {
        for v in self.iter_mut() {
            *v = f(*v);
        }
    }
}

impl<T: Element> std::ops::Index<&[usize]> for ArrayView<'_, T> {
    type Output = T;
    /// Panics on an out-of-bounds index, like slice indexing; use [`ArrayView::get`] to avoid it.
    fn index(&self, index: &[usize]) -> &T {
        self.get(index).unwrap_or_else(|| {
            panic!(
                "index {index:?} is out of bounds for shape {:?}",
                self.shape()
            )
        })
    }
}

impl<T: Element> std::fmt::Debug for ArrayView<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrayView")
            .field("layout", &self.layout)
            .field("dtype", &T::DTYPE)
            .finish()
    }
}

impl<T: Element> std::fmt::Debug for ArrayViewMut<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArrayViewMut")
            .field("layout", &self.layout)
            .field("dtype", &T::DTYPE)
            .finish()
    }
}
