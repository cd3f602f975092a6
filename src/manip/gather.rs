//! Gathering by index and by mask: `take`, `take_along_axis`, `compress`, `extract`,
//! `nonzero`, `count_nonzero`.

use rayon::prelude::*;

use super::axis_of;
use crate::array::{ArrayView, NdArray};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result, shape_str};
use crate::iter::OffsetIter;
use crate::iter::send_ptr::SendPtr;
use crate::layout::broadcast_dims;

/// Output bytes above which a gather is split across threads.
const PARALLEL_GATHER_BYTES: usize = 1 << 20;

impl NdArray {
    /// NumPy's `take(a, indices, axis)`: the positions `indices` (any integer dtype, negative
    /// counted from the end) along `axis`. The result's shape is
    /// `a.shape[..axis] + indices.shape + a.shape[axis+1..]`, C-contiguous.
    ///
    /// Gathering kNN labels, one row of neighbours per query:
    /// ```
    /// use ndstride::{NdArray, distance::{knn, Metric}};
    /// let xb = NdArray::from_vec(vec![0.0, 1.0, 10.0, 11.0], &[4, 1])?;
    /// let labels = NdArray::from_vec(vec![7i32, 7, 9, 9], &[4])?;
    /// let xa = NdArray::from_vec(vec![0.2, 10.4], &[2, 1])?;
    /// let nn = knn(&xa, &xb, 2, &Metric::Euclidean)?;
    /// let votes = labels.take(&nn.indices, 0)?; // shape (2, 2), int32
    /// assert_eq!(votes.to_vec::<i32>()?, vec![7, 7, 9, 9]);
    /// # Ok::<(), ndstride::Error>(())
    /// ```
    pub fn take(&self, indices: &NdArray, axis: isize) -> Result<NdArray> {
        let ax = axis_of(axis, self.ndim())?;
        let n = self.shape()[ax];
        let idx = Indices::checked("take", indices, n, ax)?;
        let mut shape = self.shape()[..ax].to_vec();
        shape.extend_from_slice(indices.shape());
        shape.extend_from_slice(&self.shape()[ax + 1..]);
        self.gather_rows(ax, idx.as_slice(), &shape)
    }

    /// NumPy's `take_along_axis(a, indices, axis)`: `indices` has `a`'s number of axes and
    /// broadcasts against it on every axis but `axis`; `out[..., j, ...]` is
    /// `a[..., indices[..., j, ...], ...]`. Sorting one array by another's `argsort`, or
    /// picking each row's k nearest labels, are this.
    pub fn take_along_axis(&self, indices: &NdArray, axis: isize) -> Result<NdArray> {
        if indices.ndim() != self.ndim() {
            return Err(Error::shape(
                "take_along_axis",
                format!(
                    "`indices` and `arr` must have the same number of dimensions, not {} and {}",
                    indices.ndim(),
                    self.ndim()
                ),
            ));
        }
        check_int_indices("take_along_axis", indices.dtype())?;
        let ax = axis_of(axis, self.ndim())?;
        let n = self.shape()[ax];
        // Every axis but `axis` broadcasts; `axis` takes the indices' length.
        let mut a_shape = self.shape().to_vec();
        a_shape[ax] = 1;
        let mut shape = broadcast_dims(&[&a_shape, indices.shape()])?.to_vec();
        shape[ax] = indices.shape()[ax];
        let idx_view = indices.broadcast_to(&shape)?;
        let mut base = self.layout().clone();
        base.shape[ax] = 1;
        let mut base = base.broadcast_to(&shape)?;
        base.strides[ax] = 0;
        let mut out = NdArray::zeros(&shape, self.dtype())?;
        let isz = self.itemsize();
        let axis_stride = self.strides()[ax];
        let src = self.buffer_ptr();
        let dst = out.buffer_mut_ptr()?;
        let bases = OffsetIter::new(&base.shape, &base.strides, base.offset as isize);
        let positions = index_values(&idx_view)?;
        for (k, (b, i)) in bases.zip(positions).enumerate() {
            let i = normalize_index(i, n, ax)?;
            // SAFETY: `b` is the offset of an in-bounds element of `a` at position 0 of
            // `axis` (a broadcast of its own layout), and `i < n`, so `b + i * stride` is an
            // element of `a`; `k` counts the output's packed elements.
            unsafe {
                let from = src.offset(b + i as isize * axis_stride);
                std::ptr::copy_nonoverlapping(from, dst.add(k * isz), isz);
            }
        }
        Ok(out)
    }

    /// NumPy's `compress(condition, a, axis)`: the positions along `axis` where the 1-d
    /// `condition` is true (any dtype; nonzero is true). A condition shorter than the axis
    /// selects from its first positions only.
    pub fn compress(&self, condition: &NdArray, axis: isize) -> Result<NdArray> {
        if condition.ndim() != 1 {
            return Err(Error::shape(
                "compress",
                format!(
                    "condition must be a 1-d array, not of shape {}",
                    shape_str(condition.shape())
                ),
            ));
        }
        let ax = axis_of(axis, self.ndim())?;
        let n = self.shape()[ax];
        let keep: Vec<i64> = truth(condition)?
            .iter()
            .enumerate()
            .filter(|(_, t)| **t)
            .map(|(i, _)| i as i64)
            .collect();
        if let Some(&i) = keep.iter().find(|&&i| i as usize >= n) {
            return Err(Error::IndexOutOfBounds {
                index: i as isize,
                axis: ax,
                size: n,
            });
        }
        let mut shape = self.shape().to_vec();
        shape[ax] = keep.len();
        self.gather_rows(ax, &keep, &shape)
    }

    /// NumPy's `a[mask]` (`extract(mask, a)`): the elements where `mask` (of `a`'s shape) is
    /// true, in C order, as a 1-d array.
    pub fn extract(&self, mask: &NdArray) -> Result<NdArray> {
        if mask.shape() != self.shape() {
            let axis = (0..self.ndim().max(mask.ndim()))
                .find(|&d| self.shape().get(d) != mask.shape().get(d))
                .unwrap_or(0);
            return Err(Error::shape(
                "extract",
                format!(
                    "boolean index did not match indexed array along axis {axis}; size of axis is \
                     {} but size of corresponding boolean axis is {}",
                    self.shape().get(axis).copied().unwrap_or(0),
                    mask.shape().get(axis).copied().unwrap_or(0)
                ),
            ));
        }
        let flat = self.reshape(&[self.size()])?;
        let keep: Vec<i64> = truth(mask)?
            .iter()
            .enumerate()
            .filter(|(_, t)| **t)
            .map(|(i, _)| i as i64)
            .collect();
        flat.gather_rows(0, &keep, &[keep.len()])
    }

    /// NumPy's `nonzero(a)`: one int64 array per axis holding the indices of the nonzero
    /// elements, in C order. A 0-d array is an error, as in NumPy 2.
    pub fn nonzero(&self) -> Result<Vec<NdArray>> {
        if self.ndim() == 0 {
            return Err(Error::invalid(
                "Calling nonzero on 0d arrays is not allowed. Use np.atleast_1d(scalar).nonzero() instead.",
            ));
        }
        let t = truth(self)?;
        let count = t.iter().filter(|&&b| b).count();
        let mut coords: Vec<Vec<i64>> = (0..self.ndim())
            .map(|_| Vec::with_capacity(count))
            .collect();
        let mut index = vec![0usize; self.ndim()];
        for &b in &t {
            if b {
                for (c, &i) in coords.iter_mut().zip(&index) {
                    c.push(i as i64);
                }
            }
            // Next C-order index.
            for d in (0..index.len()).rev() {
                index[d] += 1;
                if index[d] < self.shape()[d] {
                    break;
                }
                index[d] = 0;
            }
        }
        coords
            .into_iter()
            .map(|c| NdArray::from_vec(c, &[count]))
            .collect()
    }

    /// NumPy's `count_nonzero(a, axis, keepdims)`: int64 counts of nonzero elements (NaN is
    /// nonzero) over `axes`, all of them when `None`.
    pub fn count_nonzero(&self, axes: Option<&[isize]>, keepdims: bool) -> Result<NdArray> {
        let zero = NdArray::zeros(&[], self.dtype())?;
        self.not_equal(&zero)?.sum(axes, keepdims)
    }

    /// The C-ordered array of `shape` whose rows along `axis` are this array's rows `idx`
    /// (checked to lie in `-n..n`, negative counted from the end), with one copy per row of
    /// the trailing axes.
    fn gather_rows(&self, axis: usize, idx: &[i64], shape: &[usize]) -> Result<NdArray> {
        let src = self.as_contiguous();
        let isz = self.itemsize();
        let outer: usize = self.shape()[..axis].iter().product();
        let n = self.shape()[axis];
        let inner: usize = self.shape()[axis + 1..].iter().product();
        let row = inner * isz;
        let mut out = NdArray::for_overwrite(shape, self.dtype())?;
        let rows = outer * idx.len();
        if rows == 0 || row == 0 {
            return Ok(out);
        }
        let dst = SendPtr(out.buffer_mut_ptr()?);
        let from = SendPtr(src.data_ptr().cast_mut());
        let m = idx.len();
        // Output rows `o * m + j` for `j` in `js` of outer position `o`.
        let copy_rows = |o: usize, js: std::ops::Range<usize>| {
            let (dst, from) = (dst, from);
            let base = o * n;
            if row == 8 {
                // One 8-byte element a row (a 1-d take of a 64-bit dtype): a plain loop the
                // compiler keeps tight.
                let (src8, dst8) = (from.0.cast::<u64>(), dst.0.cast::<u64>());
                for (j, &i) in js.clone().zip(&idx[js]) {
                    let i = if i < 0 { i + n as i64 } else { i } as usize;
                    // SAFETY: as below, for 8-byte rows.
                    unsafe {
                        dst8.add(o * m + j)
                            .write_unaligned(src8.add(base + i).read_unaligned())
                    };
                }
                return;
            }
            for j in js {
                let i = idx[j];
                let i = if i < 0 { i + n as i64 } else { i } as usize;
                // SAFETY: `src` is C-contiguous with `outer * n * inner` elements and
                // `0 <= i < n` (checked by the caller), so the source row is inside it; output
                // row `o * m + j` is inside the fresh output, written by this call alone
                // (ranges are disjoint); the buffers differ.
                unsafe {
                    copy_row(
                        from.0.add((base + i) * row),
                        dst.0.add((o * m + j) * row),
                        row,
                    )
                };
            }
        };
        if rows * row >= PARALLEL_GATHER_BYTES && rayon::current_num_threads() > 1 {
            let per = (PARALLEL_GATHER_BYTES / 4 / row).clamp(1, m);
            let pieces = m.div_ceil(per);
            (0..outer * pieces).into_par_iter().for_each(|c| {
                let (o, p) = (c / pieces, c % pieces);
                copy_rows(o, p * per..((p + 1) * per).min(m));
            });
        } else {
            (0..outer).for_each(|o| copy_rows(o, 0..m));
        }
        // Every output row was written: the `for_overwrite` buffer is initialised.
        Ok(out)
    }
}

/// Copies one row of `len` bytes; element-sized rows move as one load and store.
///
/// # Safety
/// `from` is valid for reads and `to` for writes of `len` bytes, and they do not overlap.
#[inline(always)]
unsafe fn copy_row(from: *const u8, to: *mut u8, len: usize) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match len {
            8 => (to as *mut u64).write_unaligned((from as *const u64).read_unaligned()),
            4 => (to as *mut u32).write_unaligned((from as *const u32).read_unaligned()),
            2 => (to as *mut u16).write_unaligned((from as *const u16).read_unaligned()),
            1 => *to = *from,
            _ => std::ptr::copy_nonoverlapping(from, to, len),
        }
    }
}

fn check_int_indices(op: &str, d: DType) -> Result<()> {
    if d.is_signed_int() || d.is_unsigned_int() {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{op}: indices must be of an integer dtype, not {d} (convert with astype)"
        )))
    }
}

/// `i` counted from the end when negative, checked against an axis of length `n`.
fn normalize_index(i: i128, n: usize, axis: usize) -> Result<usize> {
    let j = if i < 0 { i + n as i128 } else { i };
    if j < 0 || j >= n as i128 {
        return Err(Error::IndexOutOfBounds {
            index: i.clamp(isize::MIN as i128, isize::MAX as i128) as isize,
            axis,
            size: n,
        });
    }
    Ok(j as usize)
}

/// The values of an integer array in C order, exactly.
fn index_values(indices: &NdArray) -> Result<impl Iterator<Item = i128> + '_> {
    let base = indices.buffer_ptr();
    let offsets = OffsetIter::new(
        indices.shape(),
        indices.strides(),
        indices.offset() as isize,
    );
    let dtype = indices.dtype();
    Ok(offsets.map(move |o| {
        // SAFETY: every offset is an in-bounds element of `indices`; unaligned reads because
        // a memory map need not be aligned.
        crate::dispatch_numeric!(dtype, T => unsafe { (base.offset(o) as *const T).read_unaligned() }.to_i128(),
            bool => unreachable!("checked to be integers"))
    }))
}

/// Integer indices checked to lie in `-n..n` along an axis of length `n`: int64 C-contiguous
/// ones (knn's output) in place, others converted.
enum Indices<'a> {
    Borrowed(ArrayView<'a, i64>),
    Owned(Vec<i64>),
}

impl<'a> Indices<'a> {
    fn checked(op: &str, indices: &'a NdArray, n: usize, axis: usize) -> Result<Indices<'a>> {
        check_int_indices(op, indices.dtype())?;
        let check = |i: i128| normalize_index(i, n, axis).map(|_| ());
        if indices.dtype() == DType::I64
            && let Ok(v) = indices.view::<i64>()
            && v.as_slice().is_some()
        {
            let s = v.as_slice().expect("checked above");
            // One branch-free pass finds whether any index is out of range.
            let lo = -(n as i64);
            let bad = s
                .iter()
                .fold(false, |acc, &i| acc | (i < lo) | (i >= n as i64));
            if bad {
                let &i = s
                    .iter()
                    .find(|&&i| i < lo || i >= n as i64)
                    .expect("one is bad");
                check(i as i128)?;
            }
            return Ok(Indices::Borrowed(v));
        }
        let mut out = Vec::new();
        out.try_reserve_exact(indices.size())
            .map_err(|_| Error::out_of_memory(indices.size() * 8, "the indices"))?;
        for i in index_values(indices)? {
            check(i)?;
            out.push(i as i64);
        }
        Ok(Indices::Owned(out))
    }

    fn as_slice(&self) -> &[i64] {
        match self {
            Indices::Borrowed(v) => v.as_slice().expect("checked C-contiguous"),
            Indices::Owned(v) => v,
        }
    }
}

/// Truth values (nonzero) of any array, in C order.
fn truth(a: &NdArray) -> Result<Vec<bool>> {
    if a.dtype() == DType::Bool {
        return a.to_vec_bool();
    }
    a.not_equal(&NdArray::zeros(&[], a.dtype())?)?.to_vec_bool()
}
