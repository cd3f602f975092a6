//! The crate's one error type. Every message names the shape, axis, byte or file position
//! that is wrong, in NumPy's words where NumPy has words for it.

use std::fmt;

use crate::dtype::DType;

/// Result alias used by every fallible operation in the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Formats a list like a Python tuple: `(3, 4)`, `(5,)`, `()`.
fn tuple_str<T: std::fmt::Display>(items: &[T]) -> String {
    match items {
        [] => "()".to_string(),
        [n] => format!("({n},)"),
        _ => {
            let parts: Vec<String> = items.iter().map(|d| d.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

/// Formats a shape the way NumPy prints it: `(3, 4)`, `(5,)`, `()`.
pub fn shape_str(shape: &[usize]) -> String {
    tuple_str(shape)
}

/// Formats a shape as NumPy's broadcast errors do, without spaces: `(3,4)`, `(5,)`.
pub fn shape_str_compact(shape: &[usize]) -> String {
    shape_str(shape).replace(", ", ",")
}

/// Formats byte strides like a NumPy tuple.
pub fn strides_str(strides: &[isize]) -> String {
    tuple_str(strides)
}

#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Shapes that cannot be broadcast together (NumPy's wording).
    Broadcast { shapes: Vec<Vec<usize>> },
    /// `broadcast_to` target incompatible with the array's shape.
    BroadcastTo { from: Vec<usize>, to: Vec<usize> },
    /// An axis number outside `0..ndim` (negative axes are counted from the end).
    AxisOutOfBounds { axis: isize, ndim: usize },
    /// An integer index outside an axis.
    IndexOutOfBounds {
        index: isize,
        axis: usize,
        size: usize,
    },
    /// Two shapes whose element counts differ, or a shape that does not fit an operation.
    ShapeMismatch { op: &'static str, msg: String },
    /// `reshape_view` asked for a view where only a copy can give the new shape.
    ReshapeNeedsCopy {
        shape: Vec<usize>,
        strides: Vec<isize>,
        to: Vec<usize>,
    },
    /// Element count or byte size that does not fit in memory arithmetic.
    Overflow { what: String },
    /// A typed access with the wrong element type.
    DTypeMismatch {
        expected: DType,
        requested: &'static str,
    },
    /// A view whose reachable bytes would leave the buffer.
    OutOfBuffer { lo: i128, hi: i128, len: usize },
    /// A write into something that is not writeable (broadcast, memory map, shared buffer).
    NotWriteable { why: String },
    /// A typed view on data that is not aligned for the element type.
    Misaligned { offset: usize, align: usize },
    /// Bad text handed to `slice_str`.
    SliceParse {
        text: String,
        pos: usize,
        msg: String,
    },
    /// A malformed or unsupported `.npy` file.
    Npy { msg: String },
    /// The system could not give the memory an array or a scratch buffer needs.
    OutOfMemory { bytes: usize, what: String },
    /// Any other invalid argument.
    InvalidArgument(String),
    /// CUDA is missing or failed (no driver, no device, a kernel that did not compile).
    Cuda(String),
    /// A long computation stopped on request (a callback asked to stop, Ctrl-C).
    Cancelled(String),
    /// An I/O failure, with the path involved.
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }
    pub(crate) fn out_of_memory(bytes: usize, what: impl Into<String>) -> Self {
        Error::OutOfMemory {
            bytes,
            what: what.into(),
        }
    }
    pub(crate) fn overflow(what: impl Into<String>) -> Self {
        Error::Overflow { what: what.into() }
    }
    pub(crate) fn shape(op: &'static str, msg: impl Into<String>) -> Self {
        Error::ShapeMismatch {
            op,
            msg: msg.into(),
        }
    }
    pub(crate) fn npy(msg: impl Into<String>) -> Self {
        Error::Npy { msg: msg.into() }
    }
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Broadcast { shapes } => {
                let s: Vec<String> = shapes.iter().map(|s| shape_str_compact(s)).collect();
                write!(
                    f,
                    "operands could not be broadcast together with shapes {}",
                    s.join(" ")
                )
            }
            Error::BroadcastTo { from, to } => write!(
                f,
                "operands could not be broadcast together with remapped shapes [original->remapped]: {} and requested shape {}",
                shape_str(from),
                shape_str(to)
            ),
            Error::AxisOutOfBounds { axis, ndim } => {
                write!(
                    f,
                    "axis {axis} is out of bounds for array of dimension {ndim}"
                )
            }
            Error::IndexOutOfBounds { index, axis, size } => {
                write!(
                    f,
                    "index {index} is out of bounds for axis {axis} with size {size}"
                )
            }
            Error::ShapeMismatch { op, msg } => write!(f, "{op}: {msg}"),
            Error::ReshapeNeedsCopy { shape, strides, to } => write!(
                f,
                "cannot reshape array of shape {} with strides {} into shape {} without copying",
                shape_str(shape),
                strides_str(strides),
                shape_str(to)
            ),
            Error::Overflow { what } => write!(f, "overflow: {what}"),
            Error::DTypeMismatch {
                expected,
                requested,
            } => write!(
                f,
                "array has dtype {} but element type {requested} was requested (use astype to convert)",
                expected.name()
            ),
            Error::OutOfBuffer { lo, hi, len } => write!(
                f,
                "strided view would reach bytes [{lo}, {hi}) outside the buffer of {len} bytes"
            ),
            Error::NotWriteable { why } => write!(f, "array is not writeable: {why}"),
            Error::Misaligned { offset, align } => write!(
                f,
                "data at byte offset {offset} is not aligned to {align} bytes for typed access"
            ),
            Error::SliceParse { text, pos, msg } => {
                write!(f, "invalid slice {text:?} at character {pos}: {msg}")
            }
            Error::Npy { msg } => write!(f, "invalid .npy file: {msg}"),
            Error::OutOfMemory { bytes, what } => {
                write!(
                    f,
                    "out of memory: could not allocate {bytes} bytes for {what}"
                )
            }
            Error::InvalidArgument(msg) => f.write_str(msg),
            Error::Cancelled(why) => write!(f, "cancelled: {why}"),
            Error::Cuda(msg) => write!(f, "CUDA: {msg}"),
            Error::Io { path, source } => write!(f, "{path}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
