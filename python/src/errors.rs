//! ndstride's errors as the Python exceptions SciPy raises for the same mistakes.

use ndstride::Error;
use pyo3::PyErr;
use pyo3::exceptions::{
    PyKeyboardInterrupt, PyMemoryError, PyOSError, PyRuntimeError, PyTypeError, PyValueError,
};

/// `ValueError` for bad shapes, values and arguments (SciPy's choice), `TypeError` for a
/// wrong element type, `MemoryError` when an allocation fails, `KeyboardInterrupt` for a
/// cancelled computation, `OSError` for files, `RuntimeError` for CUDA.
pub fn to_py(e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::DTypeMismatch { .. } => PyTypeError::new_err(msg),
        Error::Cancelled(_) => PyKeyboardInterrupt::new_err(msg),
        Error::Io { .. } => PyOSError::new_err(msg),
        Error::Cuda(_) => PyRuntimeError::new_err(msg),
        Error::OutOfMemory { .. } => PyMemoryError::new_err(msg),
        _ if msg.contains("allocate") => PyMemoryError::new_err(msg),
        _ => PyValueError::new_err(msg),
    }
}

/// `?` on ndstride's results inside the module.
pub trait OrPy<T> {
    fn or_py(self) -> pyo3::PyResult<T>;
}

impl<T> OrPy<T> for ndstride::Result<T> {
    fn or_py(self) -> pyo3::PyResult<T> {
        self.map_err(to_py)
    }
}
