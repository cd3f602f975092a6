//! Checking and converting the inputs: SciPy's shape rules, and operands read in place
//! whenever their dtype already is the computing precision (any strides: the kernels pack
//! from strides, so a transposed or sliced input is never copied as a whole).

use crate::array::NdArray;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result, shape_str};
use crate::linalg::pack::MatRef;

/// `(n, m, d)` for `cdist(xa, xb)`, or SciPy's error.
pub(crate) fn cdist_dims(xa: &NdArray, xb: &NdArray) -> Result<(usize, usize, usize)> {
    for (name, x) in [("XA", xa), ("XB", xb)] {
        if x.ndim() != 2 {
            return Err(Error::shape(
                "cdist",
                format!(
                    "{name} must be a 2-dimensional array, got shape {}",
                    shape_str(x.shape())
                ),
            ));
        }
    }
    if xa.shape()[1] != xb.shape()[1] {
        return Err(Error::shape(
            "cdist",
            format!(
                "XA and XB must have the same number of columns (i.e. feature dimension): \
                 XA is {}, XB is {}",
                shape_str(xa.shape()),
                shape_str(xb.shape())
            ),
        ));
    }
    Ok((xa.shape()[0], xb.shape()[0], xa.shape()[1]))
}

/// `(n, d)` for `pdist(x)`, or SciPy's error.
pub(crate) fn pdist_dims(x: &NdArray) -> Result<(usize, usize)> {
    if x.ndim() != 2 {
        return Err(Error::shape(
            "pdist",
            format!(
                "A 2-dimensional array must be passed, got shape {}",
                shape_str(x.shape())
            ),
        ));
    }
    Ok((x.shape()[0], x.shape()[1]))
}

/// The precision the float kernels compute in: float32 when every input is float32 (unless
/// float64 accumulation is asked for), float64 otherwise (integers and bool convert to
/// float64, as SciPy converts them).
pub(crate) fn compute_dtype(xa: &NdArray, xb: Option<&NdArray>, accumulate_f64: bool) -> DType {
    if !accumulate_f64
        && std::iter::once(xa)
            .chain(xb)
            .all(|x| x.dtype() == DType::F32)
    {
        DType::F32
    } else {
        DType::F64
    }
}

/// A 2-D operand of element type `T`, readable in place through `mat`.
///
/// Invariant: `mat` describes `rows × cols` elements of `T`, aligned, inside the array kept
/// here, which nothing writes while the operand lives.
pub(crate) struct Operand<T> {
    /// Keeps the data `mat` points into alive (the input itself, or its converted copy).
    _array: NdArray,
    pub mat: MatRef<T>,
    pub rows: usize,
    pub cols: usize,
}

impl<T: Element> Operand<T> {
    /// `x` as `T`: the input itself when it already has dtype `T` and element-aligned
    /// strides, otherwise a converted (or realigned) copy.
    pub fn new(x: &NdArray) -> Result<Operand<T>> {
        let mut array = if x.dtype() == T::DTYPE {
            x.clone()
        } else {
            x.astype(T::DTYPE)?
        };
        let isz = size_of::<T>() as isize;
        let aligned = (array.data_ptr() as usize).is_multiple_of(align_of::<T>())
            && array.strides().iter().all(|s| s % isz == 0);
        if !aligned {
            array = array.copy()?;
        }
        let mat = MatRef {
            ptr: array.data_ptr().cast(),
            rs: array.strides()[0] / isz,
            cs: array.strides()[1] / isz,
        };
        let (rows, cols) = (array.shape()[0], array.shape()[1]);
        Ok(Operand {
            _array: array,
            mat,
            rows,
            cols,
        })
    }

    /// Row `i` copied into `out` (`out.len()` = the number of columns).
    pub fn row_into(&self, i: usize, out: &mut [T]) {
        assert!(
            i < self.rows && out.len() == self.cols,
            "row {i} of {}",
            self.rows
        );
        for (p, o) in out.iter_mut().enumerate() {
            // SAFETY: `i` is a row and `p` a column of the array behind `mat` (checked above);
            // the array is alive while `self` is (the invariant).
            *o = unsafe { *self.mat.at(i, p) };
        }
    }
}
