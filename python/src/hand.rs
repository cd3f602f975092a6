//! An `NdArray` handed to Python as a NumPy array over the same buffer: `numpy.asarray` of an
//! [`ArrayOwner`] reads its `__array_interface__`, and the owner becomes the NumPy array's
//! `base`, keeping the buffer alive for as long as NumPy needs it.

use ndstride::NdArray;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::lend::typestr;

/// Owns the buffer behind a NumPy array that ndstride computed.
#[pyclass(frozen, weakref, module = "ndstride._ndstride")]
pub struct ArrayOwner {
    array: NdArray,
    /// Element zero, writable when the array was its buffer's sole, writeable handle.
    address: usize,
    writable: bool,
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
    /// NumPy's array interface (version 3) over the owned buffer.
    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let a = &self.array;
        let d = PyDict::new(py);
        d.set_item("version", 3)?;
        d.set_item("shape", PyTuple::new(py, a.shape())?)?;
        d.set_item("typestr", typestr(a.dtype()))?;
        d.set_item("data", (self.address, !self.writable))?;
        if a.is_c_contiguous() {
            d.set_item("strides", py.None())?;
        } else {
            d.set_item("strides", PyTuple::new(py, a.strides())?)?;
        }
        Ok(d)
    }

    /// Bytes of the buffer held.
    #[getter]
    fn nbytes(&self) -> usize {
        self.array.buffer_len()
    }
}
