//! A NumPy array (or any object with the buffer protocol) becomes an `NdArray` over the same
//! memory, with no copy: its address, byte strides (negative, zero, Fortran order, offsets)
//! and element type come from `PyObject_GetBuffer`, and the `Py_buffer` itself is the
//! buffer's owner: it keeps the exporting array alive, and is released with the last handle.

use ndstride::buffer::Buffer;
use ndstride::layout::{Dims, Strides};
use ndstride::{DType, Layout, NdArray};
use pyo3::buffer::PyUntypedBuffer;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::errors::OrPy;

/// The dtype of a buffer's `struct` format character of `itemsize` bytes, in native byte
/// order only (`None` otherwise).
fn dtype_of(format: &str, itemsize: usize) -> Option<DType> {
    let code = match format.as_bytes() {
        [c] | [b'@' | b'=', c] => *c,
        [b'<', c] if cfg!(target_endian = "little") => *c,
        [b'>' | b'!', c] if cfg!(target_endian = "big") => *c,
        _ => return None,
    };
    let kind = match code {
        b'?' => 'b',
        b'b' | b'h' | b'i' | b'l' | b'q' | b'n' => 'i',
        b'B' | b'H' | b'I' | b'L' | b'Q' | b'N' => 'u',
        b'f' | b'd' => 'f',
        _ => return None,
    };
    DType::from_kind(kind, itemsize)
}

/// `obj` as an `NdArray` over its memory. `writable` asks for write access (an `out=`
/// array): a read-only array is then a `ValueError`.
pub fn lend(obj: &Bound<'_, PyAny>, name: &str, writable: bool) -> PyResult<NdArray> {
    let view = PyUntypedBuffer::get(obj)
        .map_err(|e| PyTypeError::new_err(format!("{name} must be a NumPy array ({e})")))?;
    let format = view.format().to_string_lossy();
    let dtype = dtype_of(&format, view.item_size()).ok_or_else(|| {
        PyValueError::new_err(format!(
            "Unsupported dtype of {name} (buffer format {format:?}; ndstride computes on bool, \
             int8-64, uint8-64, float32 and float64 in native byte order)"
        ))
    })?;
    if writable && view.readonly() {
        return Err(PyValueError::new_err(format!("{name} is read-only")));
    }
    // The bytes the elements reach, relative to element zero: [lo, hi) (empty: none).
    let mut layout = Layout {
        shape: Dims::from_slice(view.shape()),
        strides: Strides::from_slice(view.strides()),
        offset: 0,
    };
    let (lo, hi) = layout.extent(dtype.itemsize()).unwrap_or((0, 0));
    let bad = || {
        PyValueError::new_err(format!(
            "{name}: its strides reach outside the address space"
        ))
    };
    let start = usize::try_from(view.buf_ptr() as usize as i128 + lo).map_err(|_| bad())?;
    let len = usize::try_from(hi - lo).map_err(|_| bad())?;
    let offset = usize::try_from(-lo).map_err(|_| bad())?;
    // SAFETY: the exporter keeps every element, which lie in [buf + lo, buf + hi) by the
    // extent above, allocated and initialised until the `Py_buffer` (the owner) is released,
    // and writable when it says it is not read-only. The Python API takes its inputs for the
    // duration of a call, as NumPy's own functions do when they release the GIL: the caller
    // does not write them from another thread meanwhile. Write access is asked for `out=`
    // only, which the functions check shares no memory with the inputs.
    let buffer =
        unsafe { Buffer::from_foreign(start as *const u8, len, view, writable) }.or_py()?;
    layout.offset = offset;
    NdArray::from_buffer(buffer, layout, dtype).or_py()
}

/// The byte range `[lo, hi)` an array's elements reach (empty arrays: an empty range).
pub fn byte_range(a: &NdArray) -> (usize, usize) {
    match a.layout().extent(a.itemsize()) {
        None => (0, 0),
        Some((lo, hi)) => {
            let base = a.as_ptr() as i128 - a.offset() as i128;
            ((base + lo) as usize, (base + hi) as usize)
        }
    }
}

/// Whether two arrays' byte ranges intersect (a conservative test for shared memory).
pub fn overlaps(a: &NdArray, b: &NdArray) -> bool {
    let ((a0, a1), (b0, b1)) = (byte_range(a), byte_range(b));
    a0 < a1 && b0 < b1 && a0 < b1 && b0 < a1
}
