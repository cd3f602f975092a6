//! An `NdArray` handed to Python as a NumPy array over the same buffer: `numpy.asarray` of an
//! [`ArrayOwner`] takes its buffer through the buffer protocol, and the owner stays
//! reachable from the NumPy array's `base` (the memoryview NumPy keeps, whose `obj` it is),
//! keeping the buffer alive for as long as NumPy needs it.

use std::ffi::{CStr, c_int};

use ndstride::{DType, NdArray};
use pyo3::exceptions::PyBufferError;
use pyo3::ffi;
use pyo3::prelude::*;

/// Owns the buffer behind a NumPy array that ndstride computed.
#[pyclass(frozen, weakref, module = "ndstride._ndstride")]
pub struct ArrayOwner {
    array: NdArray,
    /// Element zero, writable when the array was its buffer's sole, writeable handle.
    address: usize,
    writable: bool,
}

/// The `struct` format character of a dtype (native byte order).
fn format(dtype: DType) -> &'static CStr {
    match dtype {
        DType::Bool => c"?",
        DType::I8 => c"b",
        DType::U8 => c"B",
        DType::I16 => c"h",
        DType::U16 => c"H",
        DType::I32 => c"i",
        DType::U32 => c"I",
        DType::I64 => c"q",
        DType::U64 => c"Q",
        DType::F32 => c"f",
        DType::F64 => c"d",
    }
}

impl ArrayOwner {
    pub fn new(mut array: NdArray) -> ArrayOwner {
        let (address, writable) = match array.as_mut_ptr() {
            Ok(p) => (p as usize, true),
            Err(_) => (array.as_ptr() as usize, false),
        };
        ArrayOwner {
            array,
            address,
            writable,
        }
    }
}

#[pymethods]
impl ArrayOwner {
    /// The buffer protocol over the owned buffer: NumPy wraps it without a copy.
    ///
    /// # Safety
    /// Called by Python with a `view` to fill, as the buffer protocol defines.
    unsafe fn __getbuffer__(
        slf: Bound<'_, Self>,
        view: *mut ffi::Py_buffer,
        flags: c_int,
    ) -> PyResult<()> {
        let me = slf.get();
        if flags & ffi::PyBUF_WRITABLE != 0 && !me.writable {
            return Err(PyBufferError::new_err("this ndstride result is read-only"));
        }
        let a = &me.array;
        // The shape is handed out as the array stores it: usize and Py_ssize_t have one size
        // and layout, and every extent fits in isize (checked when the array was made).
        const _: () = assert!(size_of::<usize>() == size_of::<ffi::Py_ssize_t>());
        // SAFETY: `view` is a valid, writable Py_buffer (the protocol's contract). The shape,
        // strides and format pointed to live in the owner (the frozen object never moves or
        // changes its array), which the view holds a reference to (`obj`) until it is
        // released; the address and byte strides describe the owned array's elements.
        unsafe {
            (*view).obj = slf.clone().into_any().into_ptr();
            (*view).buf = me.address as *mut std::ffi::c_void;
            (*view).len = a.nbytes() as ffi::Py_ssize_t;
            (*view).readonly = c_int::from(!me.writable);
            (*view).itemsize = a.itemsize() as ffi::Py_ssize_t;
            (*view).format = if flags & ffi::PyBUF_FORMAT != 0 {
                format(a.dtype()).as_ptr().cast_mut()
            } else {
                std::ptr::null_mut()
            };
            (*view).ndim = a.ndim() as c_int;
            (*view).shape = a.shape().as_ptr().cast::<ffi::Py_ssize_t>().cast_mut();
            (*view).strides = a.strides().as_ptr().cast::<ffi::Py_ssize_t>().cast_mut();
            (*view).suboffsets = std::ptr::null_mut();
            (*view).internal = std::ptr::null_mut();
        }
        Ok(())
    }

    /// Nothing to free: the view's shape and strides belong to the owner.
    unsafe fn __releasebuffer__(&self, _view: *mut ffi::Py_buffer) {}

    /// Bytes of the buffer held.
    #[getter]
    fn nbytes(&self) -> usize {
        self.array.buffer_len()
    }
}
