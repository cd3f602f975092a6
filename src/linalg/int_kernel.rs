//! Integer and boolean matrix products: a plain i-p-j loop (row of C updated by a row of B per
//! step of k), wrapping on overflow as NumPy's integer matmul does. Correct at any strides;
//! speed is the float GEMM's job.

use num_traits::{WrappingAdd, WrappingMul};

use super::gemm::MatMut;
use super::pack::MatRef;

/// `c = a · b` with wrapping integer arithmetic.
///
/// # Safety
/// As for [`gemm`](super::gemm::gemm).
pub(crate) unsafe fn int_matmul<T: Copy + Default + WrappingAdd + WrappingMul>(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<T>,
    b: MatRef<T>,
    c: MatMut<T>,
    _threads: usize,
) {
    // SAFETY: forwarded.
    unsafe {
        product(
            m,
            n,
            k,
            a,
            b,
            c,
            |x, y| x.wrapping_mul(&y),
            |x, y| x.wrapping_add(&y),
        )
    }
}

/// `c = a · b` over booleans stored as 0/1 bytes: `c[i, j] = any(a[i, :] & b[:, j])`.
///
/// # Safety
/// As for [`gemm`](super::gemm::gemm); every element of `a` and `b` is 0 or 1.
pub(crate) unsafe fn logical_matmul(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<u8>,
    b: MatRef<u8>,
    c: MatMut<u8>,
    _threads: usize,
) {
    // SAFETY: forwarded.
    unsafe { product(m, n, k, a, b, c, |x, y| x & y, |x, y| x | y) }
}

/// # Safety
/// As for [`gemm`](super::gemm::gemm).
#[allow(clippy::too_many_arguments)]
unsafe fn product<T: Copy + Default>(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<T>,
    b: MatRef<T>,
    c: MatMut<T>,
    mul: impl Fn(T, T) -> T,
    add: impl Fn(T, T) -> T,
) {
    let mut row = vec![T::default(); n];
    for i in 0..m {
        row.fill(T::default());
        for p in 0..k {
            // SAFETY: (i, p) is inside A.
            let aip = unsafe { *a.at(i, p) };
            for (j, acc) in row.iter_mut().enumerate() {
                // SAFETY: (p, j) is inside B.
                *acc = add(*acc, mul(aip, unsafe { *b.at(p, j) }));
            }
        }
        for (j, &v) in row.iter().enumerate() {
            // SAFETY: (i, j) is inside C, which only this call writes.
            unsafe { *c.ptr.offset(i as isize * c.rs + j as isize * c.cs) = v };
        }
    }
}
