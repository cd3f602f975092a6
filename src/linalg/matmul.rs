//! `matmul` on `NdArray`s: dtype promotion, stacks of matrices, and the hand-off of each
//! matrix, with its strides as they are, to the float GEMM or the integer kernel.

use std::borrow::Cow;

use rayon::prelude::*;

use super::gemm::{MatMut, gemm};
use super::int_kernel::{int_matmul, logical_matmul};
use super::kernels::GemmFloat;
use super::matmul_shape::MatmulShape;
use super::pack::MatRef;
use crate::array::{ArrayViewMut, NdArray};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::iter::IndexIter;
use crate::layout::Layout;
use crate::ufunc::{out_target, result_type};

/// NumPy's `np.matmul(a, b)` (`a @ b`): the matrix product of the last two axes, with 1-D
/// operands promoted to a row (`a`) or column (`b`) vector and that axis removed from the
/// result, and leading axes broadcast as stacks of matrices. The result is C-contiguous with
/// dtype `result_type(a, b)`. Operands are read with their strides as they are (transposed,
/// negative, sliced, broadcast): packing absorbs them, nothing is copied first.
///
/// Floats run on the blocked, multi-threaded GEMM; integers use a simple kernel and wrap on
/// overflow as NumPy does; bool gives the logical product (`any(a & b)`).
///
/// ```
/// use ndstride::{DType, NdArray, linalg::matmul};
/// let a = NdArray::arange(6, DType::F64)?.reshape(&[2, 3])?;
/// let c = matmul(&a, &a.t())?; // a · aᵀ without copying aᵀ
/// assert_eq!(c.to_vec::<f64>()?, vec![5.0, 14.0, 14.0, 50.0]);
/// # Ok::<(), ndstride::Error>(())
/// ```
pub fn matmul(a: &NdArray, b: &NdArray) -> Result<NdArray> {
    if let Some(product) = matrix_times_matrix(a, b) {
        return product;
    }
    let shape = MatmulShape::new(a.shape(), b.shape())?;
    let dtype = result_type(a.dtype(), b.dtype());
    let mut out = NdArray::for_overwrite(&shape.full_shape(), dtype)?;
    let layout = out.layout().clone();
    let ptr = out.data_mut_ptr()?;
    // SAFETY: `out` is fresh and solely owned, its layout is packed and in bounds, and every
    // element is written by `compute`.
    unsafe { compute(a, b, &shape, dtype, ptr.sub(layout.offset), &layout)? };
    if shape.a_vector || shape.b_vector {
        out.reshape(&shape.out_shape())
    } else {
        Ok(out)
    }
}

/// The usual call, two matrices of one float dtype, handed straight to the GEMM; `None` for
/// everything else (stacks, vectors, mixed or integer dtypes, misaligned views, mismatched
/// shapes, whose errors the general path words). The general path's shape and stack handling
/// cost as much as the arithmetic of a 16 × 16 product (BENCHMARKS.md, "matmul at n = 16 to
/// 128").
fn matrix_times_matrix(a: &NdArray, b: &NdArray) -> Option<Result<NdArray>> {
    let (&[m, k], &[kb, n]) = (a.shape(), b.shape()) else {
        return None;
    };
    if k != kb || a.dtype() != b.dtype() {
        return None;
    }
    match a.dtype() {
        DType::F64 => float_product::<f64>(a, b, m, k, n),
        DType::F32 => float_product::<f32>(a, b, m, k, n),
        _ => None,
    }
}

/// [`matrix_times_matrix`] into an existing 2-D view of the operands' dtype.
fn matrix_times_matrix_into<T: Element>(
    a: &NdArray,
    b: &NdArray,
    out: &mut ArrayViewMut<'_, T>,
) -> Option<Result<()>> {
    let (&[m, k], &[kb, n]) = (a.shape(), b.shape()) else {
        return None;
    };
    if k != kb || a.dtype() != T::DTYPE || b.dtype() != T::DTYPE || out.shape() != [m, n] {
        return None;
    }
    let (base, layout) = out.raw_parts();
    let (&[rs, cs], offset) = (&layout.strides[..], layout.offset) else {
        return None;
    };
    // SAFETY: the view's offset is inside its buffer.
    let ptr = unsafe { base.add(offset) };
    match T::DTYPE {
        // SAFETY: the view is exclusively borrowed, in bounds, element-aligned and free of
        // self-overlap; its buffer has a single owner, so `a` and `b` (other handles) cannot
        // share it.
        DType::F64 => unsafe { float_product_into::<f64>(a, b, (m, k, n), (ptr, rs, cs)) },
        // SAFETY: as above.
        DType::F32 => unsafe { float_product_into::<f32>(a, b, (m, k, n), (ptr, rs, cs)) },
        _ => None,
    }
}

/// `c = a · b` for operands of element type `T` into the matrix at `ptr` with byte strides
/// `rs`, `cs`; `None` (nothing written) when an operand is misaligned.
///
/// # Safety
/// The `m × n` matrix at `ptr` is element-aligned, in bounds, free of self-overlap, shares no
/// memory with `a` or `b`, and is the caller's alone.
unsafe fn float_product_into<T: GemmFloat + bytemuck::Pod>(
    a: &NdArray,
    b: &NdArray,
    (m, k, n): (usize, usize, usize),
    (ptr, rs, cs): (*mut u8, isize, isize),
) -> Option<Result<()>> {
    let (a_mat, b_mat) = (matrix_ref::<T>(a)?, matrix_ref::<T>(b)?);
    let isz = size_of::<T>() as isize;
    let c = MatMut {
        ptr: ptr.cast::<T>(),
        rs: rs / isz,
        cs: cs / isz,
    };
    // SAFETY: the caller's conditions on C; the operands are element-aligned matrices of the
    // stated shapes.
    unsafe { gemm(m, n, k, a_mat, b_mat, c, threads_for(1, m, n, k)) };
    Some(Ok(()))
}

/// [`matrix_times_matrix`] for element type `T` (the dtype of both operands), into a fresh
/// C-ordered output.
fn float_product<T: GemmFloat + bytemuck::Pod>(
    a: &NdArray,
    b: &NdArray,
    m: usize,
    k: usize,
    n: usize,
) -> Option<Result<NdArray>> {
    let mut out = match NdArray::for_overwrite(&[m, n], T::DTYPE) {
        Ok(out) => out,
        Err(e) => return Some(Err(e)),
    };
    let ptr = match out.data_mut_ptr() {
        Ok(ptr) => ptr,
        Err(e) => return Some(Err(e)),
    };
    let isz = size_of::<T>() as isize;
    // SAFETY: `out` is fresh, solely owned and packed (m × n, row-major), so it shares no
    // memory with `a` or `b` and nothing else touches it.
    let done = unsafe { float_product_into::<T>(a, b, (m, k, n), (ptr, n as isize * isz, isz)) };
    done.map(|r| r.map(|()| out))
}

/// A 2-D array of element type `T` as a strided matrix in element units, or `None` where its
/// data or strides are not element-aligned (possible with `as_strided_at`).
fn matrix_ref<T>(x: &NdArray) -> Option<MatRef<T>> {
    let isz = size_of::<T>() as isize;
    let &[rs, cs] = x.strides() else {
        return None;
    };
    let aligned =
        (x.data_ptr() as usize).is_multiple_of(align_of::<T>()) && rs % isz == 0 && cs % isz == 0;
    aligned.then(|| MatRef {
        ptr: x.data_ptr().cast::<T>(),
        rs: rs / isz,
        cs: cs / isz,
    })
}

/// Threads for `count` products of `m × k` by `k × n`: tiny products never ask rayon anything
/// (its pool costs more than they do, and stays out of Miri's way).
fn threads_for(count: usize, m: usize, n: usize, k: usize) -> usize {
    let small = 2 * m * n * k < 1 << 20;
    if small && count * m * n * k <= 1 << 20 {
        1
    } else {
        rayon::current_num_threads()
    }
}

/// `np.matmul(a, b, out=out)`: writes the product into an existing, possibly strided view
/// whose shape must equal the result's and whose dtype the result casts to under NumPy's
/// `same_kind` rule.
pub fn matmul_into<T: Element>(
    a: &NdArray,
    b: &NdArray,
    out: &mut ArrayViewMut<'_, T>,
) -> Result<()> {
    if let Some(done) = matrix_times_matrix_into(a, b, out) {
        return done;
    }
    let shape = MatmulShape::new(a.shape(), b.shape())?;
    let dtype = result_type(a.dtype(), b.dtype());
    let target = out_target("matmul", dtype, T::DTYPE)?;
    if let Some(e) = shape.out_mismatch(out.shape()) {
        return Err(e);
    }
    if dtype != target {
        let tmp = matmul(a, b)?.astype(T::DTYPE)?;
        return out.assign(&tmp.view::<T>()?);
    }
    let (base, layout) = out.raw_parts();
    // Put the dropped vector axes back, as length-1 axes, so the layout is batch + (m, n).
    let mut full = layout.clone();
    let nb = shape.batch.len();
    if shape.a_vector {
        full.shape.insert(nb, 1);
        full.strides.insert(nb, 0);
    }
    if shape.b_vector {
        full.shape.push(1);
        full.strides.push(0);
    }
    // SAFETY: the view is exclusively borrowed, in bounds and free of self-overlap; its buffer
    // has a single owner, so `a` and `b` (other handles) cannot share it; the inserted axes
    // have length 1 and so reach no new element.
    unsafe { compute(a, b, &shape, dtype, base, &full) }
}

impl NdArray {
    /// `a.matmul(&b)`: see [`linalg::matmul`](crate::linalg::matmul).
    pub fn matmul(&self, other: &NdArray) -> Result<NdArray> {
        matmul(self, other)
    }

    /// `a.dot(&b)` for the 1-D and 2-D cases, where NumPy's `dot` equals `matmul`.
    pub fn dot(&self, other: &NdArray) -> Result<NdArray> {
        if self.ndim() > 2 || other.ndim() > 2 || self.ndim() == 0 || other.ndim() == 0 {
            return Err(Error::invalid(format!(
                "dot: only 1-D and 2-D operands are supported (got {}-D and {}-D); use matmul \
                 for stacks of matrices",
                self.ndim(),
                other.ndim()
            )));
        }
        matmul(self, other)
    }
}

/// An operand as `batch + (rows, cols)` with the batch axes broadcast, in `dtype`, and with
/// element-aligned strides (a misaligned view, possible with `as_strided_at`, is copied).
/// An operand that is all of that already (the usual matrix) is borrowed as it is: a small
/// product costs little more than building the views would.
fn prepare<'x>(
    x: &'x NdArray,
    dtype: DType,
    vector_axis: Option<usize>,
    full: &[usize],
) -> Result<Cow<'x, NdArray>> {
    let isz = dtype.itemsize() as isize;
    let aligned = |x: &NdArray| {
        (x.data_ptr() as usize).is_multiple_of(dtype.alignment())
            && x.strides().iter().all(|s| s % isz == 0)
    };
    if x.dtype() == dtype && vector_axis.is_none() && x.shape() == full && aligned(x) {
        return Ok(Cow::Borrowed(x));
    }
    let mut x = if x.dtype() == dtype {
        x.clone()
    } else {
        x.astype(dtype)?
    };
    if let Some(axis) = vector_axis {
        x = x.expand_dims(axis as isize)?;
    }
    if !aligned(&x) {
        x = x.copy()?;
    }
    x.broadcast_to(full).map(Cow::Owned)
}

/// Computes the product into the buffer at `base` laid out as `out` (`batch + (m, n)`).
///
/// # Safety
/// `out` is in bounds of the buffer at `base`, free of self-overlap, exclusively the caller's,
/// shares no bytes with `a` or `b`, has element-aligned strides and offset, and dtype `dtype`.
unsafe fn compute(
    a: &NdArray,
    b: &NdArray,
    shape: &MatmulShape,
    dtype: DType,
    base: *mut u8,
    out: &Layout,
) -> Result<()> {
    let MatmulShape { m, k, n, .. } = *shape;
    let mut a_full = shape.batch.clone();
    a_full.extend([m, k]);
    let mut b_full = shape.batch.clone();
    b_full.extend([k, n]);
    let a = prepare(a, dtype, shape.a_vector.then_some(0), &a_full)?;
    let b = prepare(b, dtype, shape.b_vector.then_some(1), &b_full)?;
    let job = Job {
        a: &a,
        b: &b,
        base,
        out,
        shape,
    };
    // SAFETY: forwarded from the caller; operands are prepared to the stated shapes.
    unsafe {
        match dtype {
            DType::F64 => job.run_float::<f64>(),
            DType::F32 => job.run_float::<f32>(),
            DType::Bool => job.run_with::<u8>(logical_matmul),
            DType::I8 => job.run_with::<i8>(int_matmul),
            DType::I16 => job.run_with::<i16>(int_matmul),
            DType::I32 => job.run_with::<i32>(int_matmul),
            DType::I64 => job.run_with::<i64>(int_matmul),
            DType::U8 => job.run_with::<u8>(int_matmul),
            DType::U16 => job.run_with::<u16>(int_matmul),
            DType::U32 => job.run_with::<u32>(int_matmul),
            DType::U64 => job.run_with::<u64>(int_matmul),
        }
    }
    Ok(())
}

/// A matmul whose operands are prepared: the matrices of each stack entry.
struct Job<'a> {
    a: &'a NdArray,
    b: &'a NdArray,
    base: *mut u8,
    out: &'a Layout,
    shape: &'a MatmulShape,
}

/// The kernel for one stack entry: `c = a · b` with shapes (m, k), (k, n).
type MatrixKernel<T> = unsafe fn(usize, usize, usize, MatRef<T>, MatRef<T>, MatMut<T>, usize);

impl Job<'_> {
    /// The three matrices of stack entry `index`.
    fn matrices<T>(&self, index: &[usize]) -> (MatRef<T>, MatRef<T>, MatMut<T>) {
        let isz = size_of::<T>() as isize;
        let mat = |x: &Layout, ptr: *const u8| {
            let nb = index.len();
            let off = index
                .iter()
                .zip(&x.strides)
                .map(|(&i, &s)| i as isize * s)
                .sum::<isize>()
                + x.offset as isize;
            // SAFETY: the index is inside the batch shape, so the offset is in bounds.
            let ptr = unsafe { ptr.offset(off) };
            (ptr, x.strides[nb] / isz, x.strides[nb + 1] / isz)
        };
        let (pa, ars, acs) = mat(self.a.layout(), self.a.buffer_ptr());
        let (pb, brs, bcs) = mat(self.b.layout(), self.b.buffer_ptr());
        let (pc, crs, ccs) = mat(self.out, self.base);
        (
            MatRef {
                ptr: pa.cast(),
                rs: ars,
                cs: acs,
            },
            MatRef {
                ptr: pb.cast(),
                rs: brs,
                cs: bcs,
            },
            MatMut {
                ptr: pc.cast_mut().cast(),
                rs: crs,
                cs: ccs,
            },
        )
    }

    /// # Safety
    /// As for `compute`, with `T` the element type of `dtype`.
    unsafe fn run_float<T: GemmFloat + bytemuck::Pod>(&self) {
        // SAFETY: forwarded.
        unsafe { self.run_with::<T>(gemm::<T>) }
    }

    /// Runs `kernel` on every stack entry: one after another, each using every thread, or in
    /// parallel, one thread each, when the matrices are small and many.
    ///
    /// # Safety
    /// As for `compute`, with `T` the element type of `dtype`.
    unsafe fn run_with<T: Send + Sync>(&self, kernel: MatrixKernel<T>) {
        let MatmulShape { m, k, n, .. } = *self.shape;
        let count: usize = self.shape.batch.iter().product();
        let small = 2 * m * n * k < 1 << 20;
        let threads = threads_for(count, m, n, k);
        if self.shape.batch.is_empty() {
            let (a, b, c) = self.matrices::<T>(&[]);
            // SAFETY: the one matrix; the caller's conditions cover the rest.
            unsafe { kernel(m, n, k, a, b, c, threads) };
        } else if count > 1 && small && threads > 1 {
            let entries: Vec<Vec<usize>> = IndexIter::new(&self.shape.batch).collect();
            let job = SendJob(self);
            entries.par_iter().for_each(|index| {
                let job = &job;
                let (a, b, c) = job.0.matrices::<T>(index);
                // SAFETY: distinct stack entries write disjoint output matrices (the output
                // layout is free of self-overlap); the caller's conditions cover the rest.
                unsafe { kernel(m, n, k, a, b, c, 1) };
            });
        } else {
            for index in IndexIter::new(&self.shape.batch) {
                let (a, b, c) = self.matrices::<T>(&index);
                // SAFETY: as above, one entry at a time.
                unsafe { kernel(m, n, k, a, b, c, threads) };
            }
        }
    }
}

/// `Job` shared with rayon's workers.
struct SendJob<'a, 'b>(&'a Job<'b>);
// SAFETY: workers only read the job's operands and write disjoint output matrices.
unsafe impl Sync for SendJob<'_, '_> {}
