//! `ndarray` interop (cargo feature `ndarray`): an owned `ndarray::Array` becomes an
//! [`NdArray`] by adopting its allocation, and an `NdArray` is read or written as an
//! `ndarray` view over the same bytes. Both directions cost O(ndim) whatever the size.

use ndarray::{Array, ArrayViewD, ArrayViewMutD, Axis, Dimension, IxDyn, ShapeBuilder};

use super::NdArray;
use crate::buffer::Buffer;
use crate::dtype::Element;
use crate::error::{Error, Result, strides_str};
use crate::layout::{Dims, Layout, MAX_NDIM, Strides};

impl NdArray {
    /// Takes an owned `ndarray` array without copying: the `NdArray` adopts its allocation,
    /// with its shape and strides (negative ones included) turned into byte strides.
    ///
    /// ```
    /// use ndstride::{CopyStats, NdArray};
    /// let a = ndarray::Array::from_shape_vec((2, 3), (0..6).map(f64::from).collect()).unwrap();
    /// let (b, stats) = CopyStats::scope(|| NdArray::from_ndarray(a.reversed_axes()));
    /// let b = b?;
    /// assert!(stats.is_metadata_only());
    /// assert_eq!((b.shape(), b.strides()), (&[3usize, 2][..], &[8isize, 24][..]));
    /// assert_eq!(b.to_vec::<f64>()?, vec![0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    /// # Ok::<(), ndstride::Error>(())
    /// ```
    pub fn from_ndarray<T: Element, D: Dimension>(a: Array<T, D>) -> Result<NdArray> {
        let itemsize = T::DTYPE.itemsize() as isize;
        if a.ndim() > MAX_NDIM {
            return Err(Error::invalid(format!(
                "an ndarray array of {} dimensions: at most {MAX_NDIM} are supported",
                a.ndim()
            )));
        }
        let shape = Dims::from_slice(a.shape());
        let mut strides = Strides::new();
        for &s in a.strides() {
            strides.push(
                s.checked_mul(itemsize)
                    .ok_or_else(|| Error::overflow(format!("stride of {s} elements")))?,
            );
        }
        let (mut data, first) = a.into_raw_vec_and_offset();
        let offset = first.unwrap_or(0) * itemsize as usize;
        let (ptr, len) = (data.as_mut_ptr().cast::<u8>(), size_of_val(data.as_slice()));
        // SAFETY: the Vec's heap block (initialised `T`s, `len` bytes) does not move when the
        // Vec moves into the buffer as its owner, lives as long as the buffer, and nothing but
        // the buffer's handles can reach it from here on; `as_mut_ptr` permits writes.
        let buffer = unsafe { Buffer::from_foreign(ptr, len, data, true) }?;
        let layout = Layout {
            shape,
            strides,
            offset,
        };
        NdArray::from_buffer(buffer, layout, T::DTYPE)
    }

    /// A read-only `ndarray` view of this array's elements, no copy. Errors when the dtype is
    /// not `T`'s, the data are not aligned for `T`, or a byte stride is not a multiple of the
    /// item size (an `as_strided` or `view_dtype` layout that `ndarray` cannot express).
    ///
    /// ```
    /// use ndstride::{NdArray, s};
    /// let a = NdArray::from_vec((0..6i32).collect(), &[2, 3])?;
    /// let r = a.slice(s![.., ..;-2])?;
    /// let v = r.as_ndarray::<i32>()?;
    /// assert_eq!(v, ndarray::arr2(&[[2, 0], [5, 3]]).into_dyn());
    /// # Ok::<(), ndstride::Error>(())
    /// ```
    pub fn as_ndarray<T: Element>(&self) -> Result<ArrayViewD<'_, T>> {
        let typed = self.view::<T>()?;
        let (dim, ptr, flipped) = ndarray_parts::<T>(typed.layout(), self.data_ptr())?;
        // SAFETY: `dim` has the array's shape and the absolute values of its strides in
        // elements, and `ptr` is its element of lowest address (aligned for `T`: checked by
        // `view`), so every position the view reaches is an element of this array, inside the
        // buffer; the borrow of `self` keeps the buffer alive, and no handle writes it while
        // `&self` is borrowed (writes need the sole handle, borrowed mutably).
        let mut v = unsafe { ArrayViewD::from_shape_ptr(dim, ptr) };
        for axis in flipped {
            v.invert_axis(Axis(axis));
        }
        Ok(v)
    }

    /// A mutable `ndarray` view: writes reach this array's buffer. Needs what
    /// [`view_mut`](Self::view_mut) needs (a writeable array, the sole handle of its buffer)
    /// and what [`as_ndarray`](Self::as_ndarray) needs.
    pub fn as_ndarray_mut<T: Element>(&mut self) -> Result<ArrayViewMutD<'_, T>> {
        let layout = self.view_mut::<T>()?.layout().clone();
        let ptr = self.data_mut_ptr()?.cast_const();
        let (dim, ptr, flipped) = ndarray_parts::<T>(&layout, ptr)?;
        // SAFETY: as in `as_ndarray`; in addition this handle is writeable and the sole handle
        // of its buffer (checked by `view_mut` and `data_mut_ptr`), borrowed mutably for the
        // view's life, and a writeable layout reaches distinct bytes from distinct indices, so
        // the view is the only access to those elements and its elements do not alias.
        let mut v = unsafe { ArrayViewMutD::from_shape_ptr(dim, ptr.cast_mut()) };
        for axis in flipped {
            v.invert_axis(Axis(axis));
        }
        Ok(v)
    }
}

impl<T: Element, D: Dimension> TryFrom<Array<T, D>> for NdArray {
    type Error = Error;
    /// [`NdArray::from_ndarray`].
    fn try_from(a: Array<T, D>) -> Result<NdArray> {
        NdArray::from_ndarray(a)
    }
}

/// The shape with non-negative element strides that `ndarray`'s raw constructors take, the
/// pointer to the element of lowest address, and the axes to invert afterwards (those whose
/// stride was negative). `first` points at element zero of `layout`.
fn ndarray_parts<T>(
    layout: &Layout,
    first: *const u8,
) -> Result<(ndarray::StrideShape<IxDyn>, *const T, Vec<usize>)> {
    let itemsize = size_of::<T>() as isize;
    if layout.strides.iter().any(|s| s % itemsize != 0) {
        return Err(Error::invalid(format!(
            "ndarray cannot express byte strides {} for items of {itemsize} bytes: a stride is \
             not a multiple of the item size",
            strides_str(&layout.strides)
        )));
    }
    let empty = layout.shape.contains(&0);
    let mut low = first;
    let mut flipped = Vec::new();
    let mut elem_strides = Vec::with_capacity(layout.ndim());
    for (axis, (&n, &s)) in layout.shape.iter().zip(&layout.strides).enumerate() {
        if s < 0 && n > 1 && !empty {
            // SAFETY: moving to index n-1 along this axis stays on an element of the layout.
            low = unsafe { low.offset((n as isize - 1) * s) };
            flipped.push(axis);
        }
        let s = if n > 1 && !empty { s.unsigned_abs() } else { 0 };
        elem_strides.push(s / itemsize as usize);
    }
    let ptr = if empty {
        std::ptr::NonNull::<T>::dangling().as_ptr().cast_const()
    } else {
        low.cast::<T>()
    };
    let dim = IxDyn(&layout.shape).strides(IxDyn(&elem_strides));
    Ok((dim, ptr, flipped))
}
