//! Running sums and products (`np.cumsum`, `np.cumprod`, `np.add.accumulate`): NumPy's
//! sequential order, `out[j] = out[j - 1] op a[j]` along the axis, so float results match
//! NumPy's bit for bit. Along an inner axis that is a scan of each lane; along an outer one a
//! vectorised row-by-row update, as NumPy's loop does too.

use rayon::prelude::*;

use super::promote::sum_result;
use super::scalar::Scalar;
use crate::array::NdArray;
use crate::error::{Error, Result};
use crate::iter::elementwise::PARALLEL_BYTES;
use crate::iter::send_ptr::SendPtr;
use crate::layout::normalize_axis;

/// The accumulations, with NumPy's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccumulateOp {
    /// `np.cumsum` (`np.add.accumulate`).
    Sum,
    /// `np.cumprod` (`np.multiply.accumulate`).
    Prod,
}

/// Accumulates `a` along `axis`, or along the flattened array (C order) when `axis` is
/// `None`. Integers and bool accumulate as int64 (unsigned as uint64), as `sum` does.
pub fn accumulate(op: AccumulateOp, a: &NdArray, axis: Option<isize>) -> Result<NdArray> {
    let (src, axis) = match axis {
        None => (a.reshape(&[a.size()])?, 0),
        Some(ax) => {
            if a.ndim() == 0 {
                return Err(Error::invalid(format!(
                    "axis {ax} is out of bounds for array of dimension 0"
                )));
            }
            (a.clone(), normalize_axis(ax, a.ndim())?)
        }
    };
    let acc = sum_result(src.dtype());
    // The scan reads a C-contiguous source of the accumulator's dtype: one pass when the input
    // already is one, else a cast or copy first.
    let src = if src.dtype() == acc && src.is_c_contiguous() {
        src
    } else {
        src.astype(acc)?
    };
    let mut out = NdArray::for_overwrite(src.shape(), acc)?;
    let shape = src.shape();
    let lanes = Lanes {
        outer: shape[..axis].iter().product(),
        len: shape[axis],
        inner: shape[axis + 1..].iter().product(),
    };
    if src.is_empty() {
        return Ok(out);
    }
    let dst = out.data_mut_ptr()?;
    crate::dispatch_numeric!(acc, T => {
        let s = src.view::<T>()?;
        let s = s.as_slice().expect("the source was made C-contiguous");
        // SAFETY: `out` is fresh, solely owned and packed with `src`'s shape, which `lanes`
        // describes; `scan` writes each of its elements before reading it.
        unsafe { scan::<T>(op, s, dst.cast::<T>(), lanes) };
    }, bool => unreachable!("bool accumulates as int64"));
    Ok(out)
}

/// A C-contiguous array seen as `outer` blocks of `len` rows of `inner` elements.
#[derive(Clone, Copy)]
struct Lanes {
    outer: usize,
    len: usize,
    inner: usize,
}

/// # Safety
/// `dst` has room for `src.len()` elements, is not `src`'s memory, and nothing else accesses
/// it during the call; `src.len() == lanes.outer * lanes.len * lanes.inner`, all nonzero.
unsafe fn scan<T: Scalar>(op: AccumulateOp, src: &[T], dst: *mut T, lanes: Lanes) {
    let block = lanes.len * lanes.inner;
    let dst = SendPtr(dst);
    let one_block = move |b: usize| {
        // SAFETY: block `b` of `dst` is this call's alone (disjoint from other blocks).
        let out = unsafe { dst.get().add(b * block) };
        let s = &src[b * block..(b + 1) * block];
        // SAFETY: forwarded; `out` has `block` positions.
        unsafe {
            match op {
                AccumulateOp::Sum => scan_block(s, out, lanes.inner, |x: T, y: T| x.add(y)),
                AccumulateOp::Prod => scan_block(s, out, lanes.inner, |x: T, y: T| x.mul(y)),
            }
        }
    };
    if lanes.outer > 1 && size_of_val(src) >= PARALLEL_BYTES {
        (0..lanes.outer).into_par_iter().for_each(one_block);
    } else {
        (0..lanes.outer).for_each(one_block);
    }
}

/// Scans one block of rows of `inner` elements: row 0 is copied, row j is row j-1 op src row j.
///
/// # Safety
/// `out` has room for `src.len()` elements and nothing else accesses them.
#[inline(always)]
unsafe fn scan_block<T: Scalar>(src: &[T], out: *mut T, inner: usize, f: impl Fn(T, T) -> T) {
    if inner == 1 {
        let mut acc = src[0];
        // SAFETY: i < src.len(), within `out`'s room.
        unsafe { out.write(acc) };
        for (i, &x) in src.iter().enumerate().skip(1) {
            acc = f(acc, x);
            // SAFETY: as above.
            unsafe { out.add(i).write(acc) };
        }
        return;
    }
    // SAFETY: `out` has src.len() positions and is not `src`'s memory; row 0 is written first,
    // and each later row only reads the row before it, already written.
    unsafe {
        std::ptr::copy_nonoverlapping(src.as_ptr(), out, inner);
        for j in 1..src.len() / inner {
            let prev = std::slice::from_raw_parts(out.add((j - 1) * inner), inner);
            let row = &src[j * inner..(j + 1) * inner];
            let o = out.add(j * inner);
            for i in 0..inner {
                o.add(i).write(f(prev[i], row[i]));
            }
        }
    }
}

impl NdArray {
    /// `np.cumsum(self, axis)`: running sums along `axis` (negative counts from the end), or
    /// over the flattened array with `None`. Integers and bool give int64 (unsigned uint64).
    ///
    /// ```
    /// use ndstride::{DType, NdArray};
    /// let a = NdArray::arange(6, DType::I32)?.reshape(&[2, 3])?;
    /// assert_eq!(a.cumsum(Some(1))?.to_vec::<i64>()?, [0, 1, 3, 3, 7, 12]);
    /// assert_eq!(a.cumsum(None)?.shape(), &[6]);
    /// # Ok::<(), ndstride::Error>(())
    /// ```
    pub fn cumsum(&self, axis: Option<isize>) -> Result<NdArray> {
        accumulate(AccumulateOp::Sum, self, axis)
    }

    /// `np.cumprod(self, axis)`: running products, as [`cumsum`](Self::cumsum).
    pub fn cumprod(&self, axis: Option<isize>) -> Result<NdArray> {
        accumulate(AccumulateOp::Prod, self, axis)
    }
}

#[cfg(test)]
mod tests {
    use crate::{DType, NdArray, s};

    /// Both paths (lanes and rows), a strided int8 source that is cast first; small enough
    /// for Miri.
    #[test]
    fn scans_lanes_and_rows() {
        let a = NdArray::arange(12, DType::I8)
            .unwrap()
            .reshape(&[3, 4])
            .unwrap();
        let r = a.slice(s![.., ..;-1]).unwrap();
        assert_eq!(
            r.cumsum(Some(1)).unwrap().to_vec::<i64>().unwrap(),
            [3, 5, 6, 6, 7, 13, 18, 22, 11, 21, 30, 38]
        );
        assert_eq!(
            a.cumprod(Some(0)).unwrap().to_vec::<i64>().unwrap(),
            [0, 1, 2, 3, 0, 5, 12, 21, 0, 45, 120, 231]
        );
        let f = NdArray::from_vec(vec![0.5f32, 0.25, 1.0], &[3]).unwrap();
        assert_eq!(
            f.cumsum(None).unwrap().to_vec::<f32>().unwrap(),
            [0.5, 0.75, 1.75]
        );
        assert!(NdArray::scalar(1.0f64).cumsum(Some(0)).is_err());
        assert_eq!(NdArray::scalar(2.0f64).cumsum(None).unwrap().shape(), &[1]);
    }
}
