//! [`NdArray`]: a shared buffer plus NumPy's metadata (shape, byte strides, byte offset, dtype).
//!
//! # Sharing and writing
//! Metadata operations (`t`, `slice`, `reshape` when it can, `broadcast_to`, ...) return new
//! `NdArray` handles that share the buffer through an `Arc` and never copy. Cloning a handle is
//! the same kind of O(1) share. Data is written only through an [`ArrayViewMut`], which
//! borrows one handle mutably and is only handed out when that handle is the **sole owner** of
//! the buffer (and the handle is writeable). Writes through a mutable view therefore reach the
//! parent exactly as NumPy's would (`a.slice_mut(s![..;2])?.fill(0)` changes `a`), while no
//! other handle exists that another thread could read at the same time: no data race is
//! possible, and Rust's borrow checker stops reads through the owning handle while the view
//! lives. Views derived from a mutable view are reborrows of it. A layout that could reach the
//! same bytes from two indices (broadcasting, some `as_strided`) is never writeable, so a
//! mutable view never hands out two `&mut` to one element.

mod axis_iter;
mod constructors;
mod copy;
mod display;
mod element;
mod memory;
mod metadata;
#[cfg(feature = "ndarray")]
mod ndarray_interop;
mod random;
mod views;

pub use axis_iter::{AxisIter, Lanes};
pub(crate) use copy::try_vec;
pub use memory::{SHARES_MEMORY_MAX_WORK, may_share_memory, shares_memory, shares_memory_bounded};
pub use views::{ArrayView, ArrayViewMut};

use std::sync::Arc;

use crate::buffer::Buffer;
use crate::dtype::DType;
use crate::error::{Error, Result, shape_str, strides_str};
use crate::layout::Layout;

/// The layout and dtype of the array that created a buffer, kept so `base()` can rebuild it.
#[derive(Debug)]
struct BaseMeta {
    layout: Layout,
    dtype: DType,
    writeable: bool,
}

/// A strided N-dimensional array with a run-time dtype, NumPy's memory model.
#[derive(Clone)]
pub struct NdArray {
    buffer: Buffer,
    layout: Layout,
    dtype: DType,
    writeable: bool,
    /// `None` for an array that owns its buffer; the owner's metadata for a view.
    base: Option<Arc<BaseMeta>>,
}

/// NumPy's array flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flags {
    pub c_contiguous: bool,
    pub f_contiguous: bool,
    pub owndata: bool,
    pub writeable: bool,
    pub aligned: bool,
}

impl std::fmt::Display for Flags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = |v: bool| if v { "True" } else { "False" };
        writeln!(f, "  C_CONTIGUOUS : {}", b(self.c_contiguous))?;
        writeln!(f, "  F_CONTIGUOUS : {}", b(self.f_contiguous))?;
        writeln!(f, "  OWNDATA : {}", b(self.owndata))?;
        writeln!(f, "  WRITEABLE : {}", b(self.writeable))?;
        write!(f, "  ALIGNED : {}", b(self.aligned))
    }
}

impl NdArray {
    /// A new array owning `buffer`, laid out by `layout` (any byte strides and offset), with no
    /// copy. Checks that every element the layout reaches lies inside the buffer. The array is
    /// writeable when the buffer is (not a file map, not foreign memory lent read-only) and
    /// no two indices reach the same bytes. This is how memory from elsewhere (a NumPy array,
    /// through [`Buffer::from_foreign`]) becomes an `NdArray`.
    ///
    /// ```
    /// use ndstride::{DType, Layout, NdArray, buffer::Buffer, layout::{Dims, Strides}};
    /// let data: Vec<f64> = (0..6).map(f64::from).collect();
    /// let ptr = data.as_ptr().cast::<u8>();
    /// // SAFETY: the Vec's heap block stays where it is, alive with the buffer, untouched.
    /// let buffer = unsafe { Buffer::from_foreign(ptr, 48, data, false) }?;
    /// // Column 1 read backwards: rows of 3, strides (-24, 8), starting at row 1.
    /// let (shape, strides) = (Dims::from_slice(&[2, 1]), Strides::from_slice(&[-24, 8]));
    /// let layout = Layout { shape, strides, offset: 24 + 8 };
    /// let a = NdArray::from_buffer(buffer, layout, DType::F64)?;
    /// assert_eq!(a.to_vec::<f64>()?, vec![4.0, 1.0]);
    /// assert!(!a.flags().writeable);
    /// # Ok::<(), ndstride::Error>(())
    /// ```
    pub fn from_buffer(buffer: Buffer, layout: Layout, dtype: DType) -> Result<NdArray> {
        layout.check_in_buffer(dtype.itemsize(), buffer.len())?;
        let writeable = !buffer.is_read_only() && layout.is_free_of_self_overlap(dtype.itemsize());
        Ok(NdArray {
            buffer,
            layout,
            dtype,
            writeable,
            base: None,
        })
    }

    /// A view of this array's buffer with another layout/dtype. The bounds check here is what
    /// makes every metadata operation sound, whatever its arithmetic: a layout that would reach
    /// outside the buffer is an error, never a view.
    pub(crate) fn derive(&self, layout: Layout, dtype: DType) -> Result<NdArray> {
        layout.check_in_buffer(dtype.itemsize(), self.buffer.len())?;
        let writeable = self.writeable && layout.is_free_of_self_overlap(dtype.itemsize());
        Ok(self.view_with(layout, dtype, writeable))
    }

    /// [`derive`](Self::derive) for a permutation of this array's axes, which reaches exactly
    /// the same bytes: it stays in bounds, and overlaps itself exactly when this array does
    /// (a writeable array never does), so neither check runs (release builds; debug builds
    /// assert both).
    pub(crate) fn derive_infallible(&self, layout: Layout) -> NdArray {
        debug_assert!(
            layout
                .check_in_buffer(self.itemsize(), self.buffer.len())
                .is_ok()
        );
        debug_assert!(!self.writeable || layout.is_free_of_self_overlap(self.itemsize()));
        self.view_with(layout, self.dtype, self.writeable)
    }

    /// A view of this buffer with a checked `layout`, recording this array (or its own base)
    /// as the base.
    fn view_with(&self, layout: Layout, dtype: DType, writeable: bool) -> NdArray {
        let base = Some(self.base.clone().unwrap_or_else(|| {
            Arc::new(BaseMeta {
                layout: self.layout.clone(),
                dtype: self.dtype,
                writeable: self.writeable,
            })
        }));
        NdArray {
            buffer: self.buffer.clone(),
            layout,
            dtype,
            writeable,
            base,
        }
    }

    // ----- inspection -----

    crate::layout::layout_accessors!(offset);
    /// Number of elements, as `ndarray`'s `len` and Rust collections count (1 for a 0-d
    /// array), so that `is_empty()` is `len() == 0`. NumPy's `len(a)` is the length of the
    /// first axis: `a.shape()[0]`.
    pub fn len(&self) -> usize {
        self.size()
    }
    /// True when the array has no elements (some axis has length 0).
    pub fn is_empty(&self) -> bool {
        self.size() == 0
    }
    pub fn itemsize(&self) -> usize {
        self.dtype.itemsize()
    }
    /// Bytes the elements would take packed: `size * itemsize` (NumPy's `nbytes`).
    pub fn nbytes(&self) -> usize {
        self.size() * self.itemsize()
    }
    pub fn dtype(&self) -> DType {
        self.dtype
    }
    /// Length of the whole shared buffer in bytes.
    pub fn buffer_len(&self) -> usize {
        self.buffer.len()
    }
    /// True when the data are a read-only memory map of a file.
    pub fn is_memory_mapped(&self) -> bool {
        self.buffer.is_file_mapped()
    }
    /// True when the data are memory lent to the crate ([`Buffer::from_foreign`]).
    pub fn is_foreign(&self) -> bool {
        self.buffer.is_foreign()
    }

    pub fn is_c_contiguous(&self) -> bool {
        self.layout.is_c_contiguous(self.itemsize())
    }
    pub fn is_f_contiguous(&self) -> bool {
        self.layout.is_f_contiguous(self.itemsize())
    }

    /// NumPy's flags, with its rules for size-0 and size-1 axes.
    pub fn flags(&self) -> Flags {
        let align = self.dtype.alignment();
        Flags {
            c_contiguous: self.is_c_contiguous(),
            f_contiguous: self.is_f_contiguous(),
            owndata: self.base.is_none(),
            writeable: self.writeable,
            aligned: self.layout.is_aligned(align)
                && (self.buffer.as_ptr() as usize).is_multiple_of(align),
        }
    }

    /// True for a view of another array's buffer (NumPy: `a.base is not None`).
    pub fn is_view(&self) -> bool {
        self.base.is_some()
    }

    /// The array that owns this view's buffer, as it was created; `None` for an owner.
    pub fn base(&self) -> Option<NdArray> {
        let meta = self.base.as_ref()?;
        Some(NdArray {
            buffer: self.buffer.clone(),
            layout: meta.layout.clone(),
            dtype: meta.dtype,
            writeable: meta.writeable,
            base: None,
        })
    }

    /// True when `other` is a handle to this array's buffer (any layout; whether their
    /// elements overlap is [`shares_memory`]'s question).
    pub fn shares_buffer_with(&self, other: &NdArray) -> bool {
        Buffer::same(&self.buffer, &other.buffer)
    }

    /// How many handles share this array's buffer (this one included).
    pub fn buffer_handles(&self) -> usize {
        self.buffer.handles()
    }

    /// Marks the array read-only (NumPy's `a.flags.writeable = False`). Views made from it
    /// afterwards are read-only too.
    pub fn set_readonly(&mut self) {
        self.writeable = false;
    }

    /// A one-line metadata dump as a Python dict, shape and strides as tuples:
    /// `{'shape': (3, 3), 'strides': (3, 1), 'dtype': int8, 'ndim': 2, 'offset': 0, 'flags': {...}}`.
    pub fn info(&self) -> String {
        let f = self.flags();
        let b = |v: bool| if v { "True" } else { "False" };
        format!(
            "{{'shape': {}, 'strides': {}, 'dtype': {}, 'ndim': {}, 'offset': {}, 'size': {}, 'itemsize': {}, 'flags': {{'C_CONTIGUOUS': {}, 'F_CONTIGUOUS': {}, 'OWNDATA': {}, 'WRITEABLE': {}, 'ALIGNED': {}}}}}",
            shape_str(self.shape()),
            strides_str(self.strides()),
            self.dtype,
            self.ndim(),
            self.offset(),
            self.size(),
            self.itemsize(),
            b(f.c_contiguous),
            b(f.f_contiguous),
            b(f.owndata),
            b(f.writeable),
            b(f.aligned)
        )
    }

    /// The packed bytes of a C- or F-contiguous array (empty for an empty one).
    pub(crate) fn contiguous_bytes(&self) -> &[u8] {
        assert!(
            self.is_c_contiguous() || self.is_f_contiguous(),
            "contiguous_bytes of a strided array"
        );
        if self.is_empty() {
            return &[];
        }
        // SAFETY: a contiguous, non-empty array's elements are `nbytes` packed bytes starting
        // at its offset, inside the buffer (layout invariant); the borrow of `self` keeps
        // them alive.
        unsafe { std::slice::from_raw_parts(self.buffer_ptr().add(self.offset()), self.nbytes()) }
    }

    /// Address of element zero, as NumPy's `__array_interface__['data']`: for handing the array
    /// to code that reads it by address and strides (a NumPy array over this buffer). Valid
    /// while any handle to the buffer lives.
    pub fn as_ptr(&self) -> *const u8 {
        self.data_ptr()
    }

    /// [`as_ptr`](Self::as_ptr) for writing: only for a writeable array that is its buffer's
    /// sole handle (else `Err(NotWriteable)`, as for [`view_mut`](Self::view_mut)). Whoever
    /// takes it writes only through it while the array is not otherwise read.
    pub fn as_mut_ptr(&mut self) -> Result<*mut u8> {
        self.data_mut_ptr()
    }

    /// Pointer to the start of the buffer (not to element zero). Valid for reads of
    /// `buffer_len()` bytes while `self` lives.
    pub(crate) fn buffer_ptr(&self) -> *const u8 {
        self.buffer.as_ptr()
    }

    /// Pointer to element zero (`buffer start + offset`), for reading.
    pub(crate) fn data_ptr(&self) -> *const u8 {
        // SAFETY: the offset is at most the buffer length (layout invariant).
        unsafe { self.buffer_ptr().add(self.layout.offset) }
    }

    /// Pointer to element zero for writing; same conditions as `buffer_mut_ptr`.
    pub(crate) fn data_mut_ptr(&mut self) -> Result<*mut u8> {
        let offset = self.layout.offset;
        // SAFETY: the offset is at most the buffer length (layout invariant).
        Ok(unsafe { self.buffer_mut_ptr()?.add(offset) })
    }

    /// A C-contiguous array whose bytes may be uninitialised: only for callers that write every
    /// element before the array is read (ufunc outputs). See `Buffer::for_overwrite`.
    pub(crate) fn for_overwrite(shape: &[usize], dtype: DType) -> Result<NdArray> {
        let layout = Layout::contiguous(shape, dtype.itemsize(), crate::layout::Order::C)?;
        // SAFETY: the crate-internal callers write every element before any read.
        let buffer = unsafe { Buffer::for_overwrite(layout.packed_nbytes(dtype.itemsize()))? };
        Ok(NdArray::from_packed_buffer(buffer, layout, dtype))
    }

    /// [`from_buffer`](Self::from_buffer) for a writable buffer of exactly the bytes of a
    /// packed `layout` (from `Layout::contiguous`, with `packed_nbytes` bytes; a fresh heap
    /// buffer, or a `Vec` adopted by `from_vec`) that is no file map: such a layout
    /// is in bounds and free of self-overlap by construction, so the checks that every other
    /// layout needs are skipped (they were a third of a small array's construction time).
    pub(crate) fn from_packed_buffer(buffer: Buffer, layout: Layout, dtype: DType) -> NdArray {
        debug_assert!(
            layout
                .check_in_buffer(dtype.itemsize(), buffer.len())
                .is_ok()
        );
        debug_assert!(layout.offset == 0 && !buffer.is_file_mapped() && !buffer.is_read_only());
        NdArray {
            buffer,
            layout,
            dtype,
            writeable: true,
            base: None,
        }
    }

    /// Write access to the buffer: only for a writeable handle that is the buffer's sole owner.
    pub(crate) fn buffer_mut_ptr(&mut self) -> Result<*mut u8> {
        if !self.writeable {
            let why = if self.buffer.is_file_mapped() {
                "it is a read-only memory map".to_string()
            } else if self.buffer.is_read_only() {
                "its memory was lent read-only (a foreign buffer)".to_string()
            } else {
                "it is a read-only view (broadcast, diagonal, overlapping as_strided, or set_readonly)".to_string()
            };
            return Err(Error::NotWriteable { why });
        }
        let handles = self.buffer.handles();
        if handles != 1 {
            return Err(Error::NotWriteable {
                why: format!(
                    "its buffer is shared by {handles} array handles; a write would be visible to handles \
                     that other code may be reading. Write through the owner with slice_mut/view_mut \
                     while no other handle exists, or call .copy() first"
                ),
            });
        }
        self.buffer.as_mut_ptr().ok_or_else(|| Error::NotWriteable {
            why: "its memory is read-only (a memory map, or lent read-only)".into(),
        })
    }
}

impl std::fmt::Debug for NdArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}\n{}", self.info())
    }
}
