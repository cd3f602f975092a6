//! Constructors: filled arrays, ranges, identity, and arrays from Rust data.

use super::NdArray;
use crate::buffer::Buffer;
use crate::copy_stats::CopyStats;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result, shape_str};
use crate::layout::{Layout, Order, checked_size};

impl NdArray {
    /// A C-contiguous array of zeros.
    pub fn zeros(shape: &[usize], dtype: DType) -> Result<NdArray> {
        Self::zeros_order(shape, dtype, Order::C)
    }

    /// A contiguous array of zeros in the given order.
    pub fn zeros_order(shape: &[usize], dtype: DType, order: Order) -> Result<NdArray> {
        let layout = Layout::contiguous(shape, dtype.itemsize(), order)?;
        Ok(NdArray::from_packed_buffer(
            Buffer::zeroed(layout.packed_nbytes(dtype.itemsize()))?,
            layout,
            dtype,
        ))
    }

    /// Zeros with the shape and dtype of `other` (C order).
    pub fn zeros_like(other: &NdArray) -> Result<NdArray> {
        Self::zeros(other.shape(), other.dtype())
    }

    /// A C-contiguous array of ones (True for bool).
    pub fn ones(shape: &[usize], dtype: DType) -> Result<NdArray> {
        Self::full_f64(shape, 1.0, dtype)
    }

    /// A C-contiguous array filled with `value`; the dtype is `T`'s.
    pub fn full<T: Element>(shape: &[usize], value: T) -> Result<NdArray> {
        Self::from_fn::<T>(shape, |_| value)
    }

    /// A C-contiguous array of `dtype` filled with `value` converted as `astype` would.
    pub fn full_f64(shape: &[usize], value: f64, dtype: DType) -> Result<NdArray> {
        crate::dispatch_numeric!(dtype, T => Self::full::<T>(shape, T::from_f64(value)),
            bool => Self::from_bools(&vec![value != 0.0; checked_size(shape)?], shape))
    }

    /// A 0-d array holding one value.
    pub fn scalar<T: Element>(value: T) -> NdArray {
        Self::full::<T>(&[], value).expect("a 0-d array always fits")
    }

    /// Takes ownership of `data` as a C-ordered array of `shape`, without copying: the array
    /// adopts the `Vec`'s allocation (through [`Buffer::from_foreign`]) and frees it with its
    /// last handle. The data are then aligned as `T` is, not to 64 bytes; every kernel reads
    /// such operands through unaligned loads or alignment checks.
    ///
    /// ```
    /// use ndstride::{CopyStats, NdArray};
    /// let (a, stats) = CopyStats::scope(|| NdArray::from_vec(vec![1.0f64, 2.0, 3.0, 4.0], &[2, 2]));
    /// assert_eq!(a?.to_vec::<f64>()?, vec![1.0, 2.0, 3.0, 4.0]);
    /// assert!(stats.is_metadata_only());
    /// # Ok::<(), ndstride::Error>(())
    /// ```
    pub fn from_vec<T: Element>(mut data: Vec<T>, shape: &[usize]) -> Result<NdArray> {
        let n = checked_size(shape)?;
        if n != data.len() {
            return Err(size_mismatch("from_vec", data.len(), shape));
        }
        let layout = Layout::contiguous(shape, T::DTYPE.itemsize(), Order::C)?;
        let (ptr, len) = (data.as_mut_ptr().cast::<u8>(), size_of_val(data.as_slice()));
        // SAFETY: the Vec's heap block (initialised `T`s, `len` bytes) does not move when the
        // Vec moves into the buffer as its owner, lives as long as the buffer, and nothing but
        // the buffer's handles can reach it from here on; `as_mut_ptr` permits writes.
        let buffer = unsafe { Buffer::from_foreign(ptr, len, data, true) }?;
        // Packed, writable and exactly the buffer's size: nothing for `from_buffer` to check.
        Ok(NdArray::from_packed_buffer(buffer, layout, T::DTYPE))
    }

    /// Copies `data` into a new C-ordered array of `shape`.
    pub fn from_slice<T: Element>(data: &[T], shape: &[usize]) -> Result<NdArray> {
        let n = checked_size(shape)?;
        if n != data.len() {
            return Err(size_mismatch("from_slice", data.len(), shape));
        }
        let mut a = Self::zeros(shape, T::DTYPE)?;
        let bytes: &[u8] = bytemuck::cast_slice(data);
        CopyStats::record_copy(bytes.len());
        a.fresh_bytes_mut().copy_from_slice(bytes);
        Ok(a)
    }

    /// A bool array from Rust bools (stored as bytes 0/1, as NumPy does).
    pub fn from_bools(data: &[bool], shape: &[usize]) -> Result<NdArray> {
        let n = checked_size(shape)?;
        if n != data.len() {
            return Err(size_mismatch("from_bools", data.len(), shape));
        }
        let mut a = Self::zeros(shape, DType::Bool)?;
        for (dst, &b) in a.fresh_bytes_mut().iter_mut().zip(data) {
            *dst = b as u8;
        }
        Ok(a)
    }

    /// A C-contiguous array whose element at flat (C order) position `i` is `f(i)`.
    pub fn from_fn<T: Element>(shape: &[usize], mut f: impl FnMut(usize) -> T) -> Result<NdArray> {
        let mut a = Self::zeros(shape, T::DTYPE)?;
        let out: &mut [T] = bytemuck::cast_slice_mut(a.fresh_bytes_mut());
        for (i, v) in out.iter_mut().enumerate() {
            *v = f(i);
        }
        Ok(a)
    }

    /// `np.arange(stop, dtype=dtype)`: 0, 1, ..., stop-1.
    pub fn arange(stop: usize, dtype: DType) -> Result<NdArray> {
        Self::arange_step(0.0, stop as f64, 1.0, dtype)
    }

    /// `np.arange(start, stop, step, dtype=dtype)`: `ceil((stop - start) / step)` values
    /// `start + i * step`, converted to `dtype`.
    pub fn arange_step(start: f64, stop: f64, step: f64, dtype: DType) -> Result<NdArray> {
        if step == 0.0 || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
            return Err(Error::invalid(
                "arange: start, stop and step must be finite and step nonzero",
            ));
        }
        let len = ((stop - start) / step).ceil().max(0.0);
        if len > isize::MAX as f64 {
            return Err(Error::overflow(format!("arange of {len} elements")));
        }
        let len = len as usize;
        crate::dispatch_numeric!(dtype, T => Self::from_fn::<T>(&[len], |i| T::from_f64(start + i as f64 * step)),
        bool => {
            if len > 2 {
                return Err(Error::invalid("no fill-function for data-type bool with more than 2 elements"));
            }
            let v: Vec<bool> = (0..len).map(|i| start + i as f64 * step != 0.0).collect();
            Self::from_bools(&v, &[len])
        })
    }

    /// `np.linspace(start, stop, num)` (endpoint included), float64.
    pub fn linspace(start: f64, stop: f64, num: usize) -> Result<NdArray> {
        let div = num.saturating_sub(1).max(1) as f64;
        let step = (stop - start) / div;
        Self::from_fn::<f64>(&[num], |i| {
            if num > 1 && i == num - 1 {
                stop
            } else {
                start + i as f64 * step
            }
        })
    }

    /// The `n × n` identity matrix.
    pub fn eye(n: usize, dtype: DType) -> Result<NdArray> {
        let mut a = Self::zeros(&[n, n], dtype)?;
        let isz = dtype.itemsize();
        let bytes = a.fresh_bytes_mut();
        for i in 0..n {
            let at = (i * n + i) * isz;
            let one = crate::dispatch_numeric!(dtype, T => bytemuck::bytes_of(&T::from_f64(1.0)).to_vec(), bool => vec![1u8]);
            bytes[at..at + isz].copy_from_slice(&one);
        }
        Ok(a)
    }

    /// The bytes of an array this module just created (sole owner, contiguous, writeable).
    pub(super) fn fresh_bytes_mut(&mut self) -> &mut [u8] {
        let n = self.nbytes();
        let ptr = self
            .buffer_mut_ptr()
            .expect("a freshly created array is writeable and unshared");
        // SAFETY: the buffer holds exactly `nbytes` contiguous bytes from offset 0 and this
        // handle is its sole owner (checked by buffer_mut_ptr), borrowed mutably here.
        unsafe { std::slice::from_raw_parts_mut(ptr, n) }
    }
}

/// NumPy's error for data that do not fill a shape.
fn size_mismatch(op: &'static str, len: usize, shape: &[usize]) -> Error {
    Error::shape(
        op,
        format!(
            "cannot reshape array of size {len} into shape {}",
            shape_str(shape)
        ),
    )
}
