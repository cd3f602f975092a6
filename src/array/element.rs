//! One element out of an array: `item` and `get_f64`.

use super::NdArray;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};

impl NdArray {
    /// NumPy's `a.item()`: the one element of a size-1 array (any number of axes) as `T`, which
    /// must be the dtype's type (`u8` for bool).
    ///
    /// ```
    /// use ndstride::NdArray;
    /// let total = NdArray::from_vec(vec![1.5f64, 2.5], &[2])?.sum(None, false)?;
    /// assert_eq!(total.item::<f64>()?, 4.0);
    /// # Ok::<(), ndstride::Error>(())
    /// ```
    pub fn item<T: Element>(&self) -> Result<T> {
        if self.size() != 1 {
            return Err(Error::invalid(format!(
                "can only convert an array of size 1 to a scalar, not one of size {}",
                self.size()
            )));
        }
        let ok = self.dtype() == T::DTYPE || (self.dtype() == DType::Bool && T::DTYPE == DType::U8);
        if !ok {
            return Err(Error::DTypeMismatch {
                expected: self.dtype(),
                requested: std::any::type_name::<T>(),
            });
        }
        // SAFETY: a size-1 array's element zero is in bounds of its buffer (layout invariant)
        // and has this dtype; unaligned read because memory maps need not be aligned.
        let v = unsafe { (self.data_ptr() as *const T).read_unaligned() };
        // A bool byte may be any nonzero value: True is 1.
        Ok(if self.dtype() == DType::Bool && v != T::from_f64(0.0) {
            T::from_f64(1.0)
        } else {
            v
        })
    }

    /// The element at `index` (one entry per axis) converted to f64, or an error naming the
    /// axis whose index is out of bounds.
    pub fn get_f64(&self, index: &[usize]) -> Result<f64> {
        if index.len() != self.ndim() {
            return Err(Error::invalid(format!(
                "too many or too few indices for array: array is {}-dimensional, but {} were indexed",
                self.ndim(),
                index.len()
            )));
        }
        for (axis, (&i, &n)) in index.iter().zip(self.shape()).enumerate() {
            if i >= n {
                return Err(Error::IndexOutOfBounds {
                    index: i.min(isize::MAX as usize) as isize,
                    axis,
                    size: n,
                });
            }
        }
        Ok(self.element_f64(index))
    }
}
