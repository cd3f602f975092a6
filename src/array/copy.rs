//! Operations that copy data: `copy`, `to_contiguous`, `astype`, `to_vec`.

use num_traits::AsPrimitive;

use super::NdArray;
use crate::buffer::Buffer;
use crate::copy_stats::CopyStats;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::iter::{OffsetIter, copy_strided};
use crate::layout::{Layout, Order};

impl NdArray {
    /// A C-ordered copy that owns its buffer (NumPy's `a.copy()`).
    pub fn copy(&self) -> Result<NdArray> {
        self.copy_order(Order::C)
    }

    /// A copy contiguous in `order`. Transposed and strided sources are copied through
    /// cache-sized tiles and split across threads when large.
    pub fn copy_order(&self, order: Order) -> Result<NdArray> {
        let layout = Layout::contiguous(self.shape(), self.itemsize(), order)?;
        // SAFETY: the buffer holds exactly the packed elements of `layout`, and copy_strided
        // below writes every one of them before `out` is returned.
        let buffer = unsafe { Buffer::for_overwrite(layout.packed_nbytes(self.itemsize()))? };
        let mut out = NdArray::from_packed_buffer(buffer, layout, self.dtype);
        CopyStats::record_copy(self.nbytes());
        let dst_layout = out.layout.clone();
        let dst = out.buffer_mut_ptr()?;
        // SAFETY: `out` is a fresh buffer of the same shape, solely owned, packed (no
        // self-overlap); `self.layout` is in bounds of its buffer; the buffers are distinct.
        unsafe {
            copy_strided(
                dst,
                &dst_layout,
                self.buffer_ptr(),
                &self.layout,
                self.itemsize(),
            )
        };
        Ok(out)
    }

    /// An array contiguous in `order` with the same elements: a handle to the same buffer when
    /// this one already is (no copy), otherwise a copy. Panics only if memory for the copy
    /// cannot be allocated; [`try_to_contiguous`](Self::try_to_contiguous) returns that error.
    pub fn to_contiguous(&self, order: Order) -> NdArray {
        self.try_to_contiguous(order)
            .unwrap_or_else(|e| panic!("to_contiguous: {e}"))
    }

    /// [`to_contiguous`](Self::to_contiguous) returning allocation failures as errors.
    pub fn try_to_contiguous(&self, order: Order) -> Result<NdArray> {
        let already = match order {
            Order::C => self.is_c_contiguous(),
            Order::F => self.is_f_contiguous(),
        };
        if already {
            Ok(self.clone())
        } else {
            self.copy_order(order)
        }
    }

    /// NumPy's `ascontiguousarray`: C-contiguous, sharing the buffer when possible.
    pub fn as_contiguous(&self) -> NdArray {
        self.to_contiguous(Order::C)
    }

    /// A C-ordered copy converted to `dtype` with NumPy's unsafe-cast semantics as Rust's `as`
    /// gives them (float to int truncates toward zero and saturates; NaN becomes 0, where NumPy
    /// gives an undefined value). Anything to bool is `value != 0`.
    pub fn astype(&self, dtype: DType) -> Result<NdArray> {
        if dtype == self.dtype {
            return self.copy();
        }
        let mut out = NdArray::zeros(self.shape(), dtype)?;
        CopyStats::record_copy(self.nbytes());
        let src = OffsetIter::new(self.shape(), self.strides(), self.offset() as isize);
        let base = self.buffer_ptr();
        let dst = out.fresh_bytes_mut();
        // SAFETY (for `read`): every offset from `src` belongs to an in-bounds element of
        // this array; unaligned reads because memory maps need not be aligned.
        let read = |off: isize| unsafe { base.offset(off) };
        crate::dispatch_numeric!(self.dtype, S => {
            crate::dispatch_numeric!(dtype, D => {
                convert::<S, D>(src.map(read), dst)
            }, bool => {
                for (d, p) in dst.iter_mut().zip(src.map(read)) {
                    // SAFETY: `p` points at a full element of type S.
                    *d = (unsafe { (p as *const S).read_unaligned() } != <S as bytemuck::Zeroable>::zeroed()) as u8;
                }
            })
        }, bool => {
            crate::dispatch_numeric!(dtype, D => {
                let out: &mut [D] = bytemuck::cast_slice_mut(dst);
                for (d, p) in out.iter_mut().zip(src.map(read)) {
                    // SAFETY: `p` points at one byte of the bool array.
                    *d = D::from_f64((unsafe { *p } != 0) as u8 as f64);
                }
            }, bool => unreachable!("same dtype handled above"))
        });
        Ok(out)
    }

    /// The elements in logical (C) order. `T` must match the dtype (bool arrays: `u8`).
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        let ok = self.dtype == T::DTYPE || (self.dtype == DType::Bool && T::DTYPE == DType::U8);
        if !ok {
            return Err(Error::DTypeMismatch {
                expected: self.dtype,
                requested: std::any::type_name::<T>(),
            });
        }
        // Validate the size first: a broadcast view can have far more elements than memory.
        let dst = Layout::contiguous(self.shape(), self.itemsize(), Order::C)?;
        let mut out = try_vec::<T>(self.size())?;
        CopyStats::record_copy(self.nbytes());
        // SAFETY: `out` is packed for this shape and item size; the source layout is in bounds.
        unsafe {
            copy_strided(
                out.as_mut_ptr() as *mut u8,
                &dst,
                self.buffer_ptr(),
                &self.layout,
                self.itemsize(),
            )
        };
        Ok(out)
    }

    /// A bool array's elements as Rust bools (any nonzero byte is true).
    pub fn to_vec_bool(&self) -> Result<Vec<bool>> {
        if self.dtype != DType::Bool {
            return Err(Error::DTypeMismatch {
                expected: self.dtype,
                requested: "bool",
            });
        }
        Ok(self.to_vec::<u8>()?.into_iter().map(|b| b != 0).collect())
    }

    /// One element as f64 (the index must be in bounds; callers iterate the shape).
    pub(crate) fn element_f64(&self, index: &[usize]) -> f64 {
        let off = self.layout.offset_of(index);
        let base = self.buffer_ptr();
        // SAFETY: an in-bounds index reaches an element inside the buffer (layout invariant);
        // unaligned read because memory maps need not be aligned.
        crate::dispatch_numeric!(self.dtype, S => unsafe { (base.offset(off) as *const S).read_unaligned() }.to_f64(),
            bool => (unsafe { *base.offset(off) } != 0) as u8 as f64)
    }

    /// One integer or bool element, exactly (f64 would round integers beyond 2^53).
    pub(crate) fn element_i128(&self, index: &[usize]) -> i128 {
        let off = self.layout.offset_of(index);
        let base = self.buffer_ptr();
        // SAFETY: as in `element_f64`.
        crate::dispatch_numeric!(self.dtype, S => unsafe { (base.offset(off) as *const S).read_unaligned() }.to_i128(),
            bool => (unsafe { *base.offset(off) } != 0) as i128)
    }

    /// Every element converted to f64 in logical order (exact for all but the largest 64-bit
    /// integers). Handy for references and printing. Errors when the elements would not fit in
    /// memory (a large broadcast view).
    pub fn to_vec_f64(&self) -> Result<Vec<f64>> {
        crate::layout::checked_nbytes(self.shape(), 8)?;
        // The pair-at-a-time distances and their row statistics start here: float64 takes
        // the strided copy engine, packed float32 one converting loop, instead of an offset
        // per element.
        if self.dtype == DType::F64 {
            return self.view::<f64>()?.to_vec();
        }
        let mut out = try_vec::<f64>(0)?;
        out.try_reserve_exact(self.size())
            .map_err(|_| Error::out_of_memory(self.size().saturating_mul(8), "float64 elements"))?;
        if self.dtype == DType::F32
            && let Some(packed) = self.view::<f32>()?.as_slice()
        {
            out.extend(packed.iter().map(|&x| f64::from(x)));
            return Ok(out);
        }
        let base = self.buffer_ptr();
        let offsets = OffsetIter::new(self.shape(), self.strides(), self.offset() as isize);
        crate::dispatch_numeric!(self.dtype, S => {
            // SAFETY: in-bounds element offsets; unaligned read.
            out.extend(offsets.map(|o| unsafe { (base.offset(o) as *const S).read_unaligned() }.to_f64()))
        }, bool => {
            // SAFETY: in-bounds element offsets.
            out.extend(offsets.map(|o| (unsafe { *base.offset(o) } != 0) as u8 as f64))
        });
        Ok(out)
    }
}

/// A zero-filled `Vec` of `n` elements, or an error (never an abort) when memory is short.
pub(crate) fn try_vec<T: Element>(n: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        Error::out_of_memory(
            n.saturating_mul(size_of::<T>()),
            format!("{n} elements of {}", T::DTYPE),
        )
    })?;
    v.resize(n, T::zeroed());
    Ok(v)
}

fn convert<S, D>(src: impl Iterator<Item = *const u8>, dst: &mut [u8])
where
    S: Element + AsPrimitive<D>,
    D: Element,
{
    let out: &mut [D] = bytemuck::cast_slice_mut(dst);
    for (d, p) in out.iter_mut().zip(src) {
        // SAFETY: the caller's iterator yields pointers to whole elements of type S.
        *d = unsafe { (p as *const S).read_unaligned() }.as_();
    }
}
