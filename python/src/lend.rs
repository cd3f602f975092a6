//! A NumPy array becomes an `NdArray` over the same memory, with no copy: its address, byte
//! strides (negative, zero, Fortran order, offsets) and dtype are read from
//! `__array_interface__`, and the array object itself is the buffer's owner, kept alive until
//! the last handle drops.

use ndstride::buffer::Buffer;
use ndstride::layout::{Dims, Strides, c_strides};
use ndstride::{DType, Layout, NdArray};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::OrPy;

/// The dtype of a NumPy type string (`'<f8'`, `'|b1'`), for the native byte order only.
pub fn dtype_of(typestr: &str) -> Option<DType> {
    let (order, code) = typestr.split_at_checked(1)?;
    let native = match order {
        "|" | "=" => true,
        "<" => cfg!(target_endian = "little"),
        ">" => cfg!(target_endian = "big"),
        _ => false,
    };
    if !native {
        return None;
    }
    Some(match code {
        "b1" => DType::Bool,
        "i1" => DType::I8,
        "i2" => DType::I16,
        "i4" => DType::I32,
        "i8" => DType::I64,
        "u1" => DType::U8,
        "u2" => DType::U16,
        "u4" => DType::U32,
        "u8" => DType::U64,
        "f4" => DType::F32,
        "f8" => DType::F64,
        _ => return None,
    })
}

/// NumPy's type string for a dtype, native byte order.
pub fn typestr(dtype: DType) -> &'static str {
    let little = cfg!(target_endian = "little");
    match dtype {
        DType::Bool => "|b1",
        DType::I8 => "|i1",
        DType::U8 => "|u1",
        DType::I16 if little => "<i2",
        DType::I32 if little => "<i4",
        DType::I64 if little => "<i8",
        DType::U16 if little => "<u2",
        DType::U32 if little => "<u4",
        DType::U64 if little => "<u8",
        DType::F32 if little => "<f4",
        DType::F64 if little => "<f8",
        DType::I16 => ">i2",
        DType::I32 => ">i4",
        DType::I64 => ">i8",
        DType::U16 => ">u2",
        DType::U32 => ">u4",
        DType::U64 => ">u8",
        DType::F32 => ">f4",
        _ => ">f8",
    }
}

/// What `__array_interface__` says of an array: enough to find every element.
struct Interface {
    dtype: DType,
    shape: Vec<usize>,
    strides: Vec<isize>,
    address: usize,
    readonly: bool,
}

fn interface(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Interface> {
    let py = obj.py();
    let ai = obj
        .getattr(intern!(py, "__array_interface__"))
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "{name} must be a NumPy array (it has no __array_interface__)"
            ))
        })?;
    let ai = ai.cast::<PyDict>()?;
    let item = |key: &str| -> PyResult<Bound<'_, PyAny>> {
        ai.get_item(key)?.ok_or_else(|| {
            PyTypeError::new_err(format!("{name}: __array_interface__ has no {key:?}"))
        })
    };
    let ts: String = item("typestr")?.extract()?;
    let dtype = dtype_of(&ts).ok_or_else(|| {
        PyTypeError::new_err(format!(
            "{name}: ndstride does not compute on dtype {ts:?} (bool, int8-64, uint8-64, \
             float32 and float64 in native byte order)"
        ))
    })?;
    let shape: Vec<usize> = item("shape")?.extract()?;
    let strides: Option<Vec<isize>> = item("strides")?.extract()?;
    let strides = match strides {
        Some(s) => s,
        None => c_strides(&shape, dtype.itemsize()).or_py()?.to_vec(),
    };
    let (address, readonly): (usize, bool) = item("data")?.extract()?;
    Ok(Interface {
        dtype,
        shape,
        strides,
        address,
        readonly,
    })
}

/// `obj` (a NumPy array of a supported dtype) as an `NdArray` over its memory. `writable`
/// asks for write access (an `out=` array): a read-only array is then a `ValueError`.
pub fn lend(obj: &Bound<'_, PyAny>, name: &str, writable: bool) -> PyResult<NdArray> {
    let ai = interface(obj, name)?;
    if writable && ai.readonly {
        return Err(PyValueError::new_err(format!("{name} is read-only")));
    }
    let isz = ai.dtype.itemsize() as i128;
    // The bytes the elements reach, relative to element zero: [lo, hi).
    let (mut lo, mut hi) = (0i128, isz);
    let empty = ai.shape.contains(&0);
    if !empty {
        for (&d, &s) in ai.shape.iter().zip(&ai.strides) {
            let span = (d as i128 - 1) * s as i128;
            if span < 0 {
                lo += span;
            } else {
                hi += span;
            }
        }
    }
    let (start, len, offset) = if empty {
        (ai.address, 0usize, 0usize)
    } else {
        let start = ai.address as i128 + lo;
        let bad = || {
            PyValueError::new_err(format!(
                "{name}: its strides reach outside the address space"
            ))
        };
        (
            usize::try_from(start).map_err(|_| bad())?,
            usize::try_from(hi - lo).map_err(|_| bad())?,
            usize::try_from(-lo).map_err(|_| bad())?,
        )
    };
    // SAFETY: NumPy keeps every element of the array, which lie in [address + lo, address +
    // hi) by the computation above, allocated and initialised while the array object lives,
    // and the buffer owns a reference to that object. The Python API takes its inputs for the
    // duration of a call, as NumPy's own functions do when they release the GIL: the caller
    // does not write them from another thread meanwhile. Write access is asked for `out=`
    // only, which the functions check shares no memory with the inputs.
    let buffer =
        unsafe { Buffer::from_foreign(start as *const u8, len, obj.clone().unbind(), writable) }
            .or_py()?;
    let layout = Layout {
        shape: Dims::from_slice(&ai.shape),
        strides: Strides::from_slice(&ai.strides),
        offset,
    };
    NdArray::from_buffer(buffer, layout, ai.dtype).or_py()
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
