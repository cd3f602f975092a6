//! Float sums of many short contiguous rows (`sum(axis=-1)` of a small matrix), with explicit
//! vectors.
//!
//! The generic pairwise sum (`reduce::pairwise::block_sum::<T, 16>`, sixteen lanes folded as a tree) is
//! compiled by LLVM's SLP vectoriser into eight 128-bit registers even inside an AVX-512
//! function, slower than the same lanes in two zmm registers (BENCHMARKS.md, "Measurements behind choices in the code"). The kernels here do exactly the same additions in the same
//! order (lane `k` accumulates elements `k, k + 16, ...`; lanes fold `r[k] + r[k + w]` for
//! w = 8, 4, 2, 1; the trailing `n % 16` elements are added one by one), so the results are
//! bit-identical to the generic path, which the tests check.

#[cfg(target_arch = "x86_64")]
use crate::cpu::{SimdLevel, simd_level};
use crate::dtype::DType;

/// Shortest and longest rows the kernels take: the range in which the pairwise sum is one
/// 16-lane block (shorter rows use 8 lanes, longer ones split recursively).
pub(super) const MIN_LEN: usize = 16;
pub(super) const MAX_LEN: usize = 128;

/// Adds the sum of each of `rows` rows to its output element: row `r` is `n` contiguous,
/// aligned elements of `dtype` at `inp + r * row_in` bytes, its output the element at
/// `out + r * row_out`. Returns false, touching nothing, when no kernel fits (dtype, CPU or
/// length), and the caller sums the rows itself.
///
/// # Safety
/// Every row and output element is in bounds and aligned for `dtype`; the outputs are not
/// read or written by anyone else during the call.
pub(super) unsafe fn add_row_sums(
    dtype: DType,
    inp: *const u8,
    row_in: isize,
    rows: usize,
    n: usize,
    out: *mut u8,
    row_out: isize,
) -> bool {
    if !(MIN_LEN..=MAX_LEN).contains(&n) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let kernel: unsafe fn(*const u8, isize, usize, usize, *mut u8, isize) =
            match (dtype, simd_level()) {
                (DType::F64, SimdLevel::Avx512) => x86::rows_f64_avx512,
                (DType::F64, SimdLevel::Avx2) => x86::rows_f64_avx2,
                (DType::F32, SimdLevel::Avx512) => x86::rows_f32_avx512,
                (DType::F32, SimdLevel::Avx2) => x86::rows_f32_avx2,
                _ => return false,
            };
        // SAFETY: the level was detected on this CPU; bounds, alignment and exclusivity are
        // the caller's contract, and 16 <= n as each kernel needs.
        unsafe { kernel(inp, row_in, rows, n, out, row_out) };
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (dtype, inp, row_in, rows, out, row_out);
        false
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// The row walk every kernel shares: `block(p, body)` returns the folded sixteen lanes of
    /// the row at `p` over its first `body` elements (a multiple of 16, at least 16); the
    /// trailing elements are then added one by one and the sum added to the row's output.
    ///
    /// # Safety
    /// The contract of `add_row_sums` with n >= 16, and `block` reads only `p[..body]`.
    #[inline(always)]
    unsafe fn add_rows<T: Copy + std::ops::Add<Output = T>>(
        inp: *const u8,
        row_in: isize,
        rows: usize,
        n: usize,
        out: *mut u8,
        row_out: isize,
        block: impl Fn(*const T, usize) -> T,
    ) {
        let body = n - n % 16;
        for r in 0..rows as isize {
            // SAFETY: row r holds n >= 16 elements and its output is in bounds (contract).
            unsafe {
                let p = inp.offset(r * row_in) as *const T;
                let mut s = block(p, body);
                for k in body..n {
                    s = s + *p.add(k);
                }
                let o = out.offset(r * row_out) as *mut T;
                *o = *o + s;
            }
        }
    }

    /// One kernel of `add_row_sums`' signature for an element type and instruction set:
    /// [`add_rows`] with `$block` folding the sixteen lanes of a row (`$p[..$body]`).
    macro_rules! row_sum_kernel {
        ($name:ident, $feature:literal, $t:ty, |$p:ident, $body:ident| $block:block) => {
            /// The contract of `add_row_sums`, with n >= 16 and the CPU feature enabled.
            #[target_feature(enable = $feature)]
            pub(super) unsafe fn $name(
                inp: *const u8,
                row_in: isize,
                rows: usize,
                n: usize,
                out: *mut u8,
                row_out: isize,
            ) {
                // SAFETY: forwarded; the block reads `$p[..$body]` only, in bounds by
                // `add_rows`' contract.
                unsafe {
                    add_rows(
                        inp,
                        row_in,
                        rows,
                        n,
                        out,
                        row_out,
                        |$p: *const $t, $body| $block,
                    )
                }
            }
        };
    }

    row_sum_kernel!(rows_f64_avx512, "avx512f", f64, |p, body| {
        let mut lo = _mm512_loadu_pd(p); // lanes 0..8
        let mut hi = _mm512_loadu_pd(p.add(8)); // lanes 8..16
        for i in (16..body).step_by(16) {
            lo = _mm512_add_pd(lo, _mm512_loadu_pd(p.add(i)));
            hi = _mm512_add_pd(hi, _mm512_loadu_pd(p.add(i + 8)));
        }
        let s8 = _mm512_add_pd(lo, hi);
        let s4 = _mm256_add_pd(_mm512_castpd512_pd256(s8), _mm512_extractf64x4_pd::<1>(s8));
        fold4_f64(s4)
    });

    row_sum_kernel!(rows_f64_avx2, "avx2", f64, |p, body| {
        // Lanes 0..4, 4..8, 8..12, 12..16.
        let mut v = [0, 4, 8, 12].map(|k| _mm256_loadu_pd(p.add(k)));
        for i in (16..body).step_by(16) {
            for (q, x) in v.iter_mut().enumerate() {
                *x = _mm256_add_pd(*x, _mm256_loadu_pd(p.add(i + 4 * q)));
            }
        }
        // w = 8 pairs lanes 0..4 with 8..12 and 4..8 with 12..16; w = 4 then adds the two
        // results.
        fold4_f64(_mm256_add_pd(
            _mm256_add_pd(v[0], v[2]),
            _mm256_add_pd(v[1], v[3]),
        ))
    });

    row_sum_kernel!(rows_f32_avx512, "avx512f", f32, |p, body| {
        let mut v = _mm512_loadu_ps(p); // all sixteen lanes
        for i in (16..body).step_by(16) {
            v = _mm512_add_ps(v, _mm512_loadu_ps(p.add(i)));
        }
        let high = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v)));
        fold8_f32(_mm256_add_ps(_mm512_castps512_ps256(v), high))
    });

    row_sum_kernel!(rows_f32_avx2, "avx2", f32, |p, body| {
        let mut lo = _mm256_loadu_ps(p); // lanes 0..8
        let mut hi = _mm256_loadu_ps(p.add(8)); // lanes 8..16
        for i in (16..body).step_by(16) {
            lo = _mm256_add_ps(lo, _mm256_loadu_ps(p.add(i)));
            hi = _mm256_add_ps(hi, _mm256_loadu_ps(p.add(i + 8)));
        }
        fold8_f32(_mm256_add_ps(lo, hi))
    });

    /// Lanes `r[0..4]` after the w = 8 step; the tree's last steps (w = 4, 2, 1).
    #[inline]
    #[target_feature(enable = "avx")]
    fn fold4_f64(s4: __m256d) -> f64 {
        let s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd::<1>(s4));
        _mm_cvtsd_f64(s2) + _mm_cvtsd_f64(_mm_unpackhi_pd(s2, s2))
    }

    /// Lanes `r[0..8]` after the w = 8 step; the tree's last steps (w = 4, 2, 1).
    #[inline]
    #[target_feature(enable = "avx")]
    fn fold8_f32(s8: __m256) -> f32 {
        let s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps::<1>(s8));
        let s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
        _mm_cvtss_f32(s2) + _mm_cvtss_f32(_mm_shuffle_ps::<1>(s2, s2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::{SimdLevel, simd_level};
    use crate::ufunc::reduce::pairwise_sum;

    /// Every kernel the CPU runs gives the generic pairwise sum's bits, for every length it
    /// takes, with the output's previous value added last.
    fn check<T: crate::ufunc::scalar::Scalar + bytemuck::Pod + std::fmt::Display>(
        dtype: DType,
        from: fn(f64) -> T,
    ) {
        let rows = 3;
        for n in MIN_LEN..=MAX_LEN {
            let data: Vec<T> = (0..rows * n)
                .map(|i| from(((i * 7919) % 1013) as f64 * 0.013 - 6.1 + 1.0 / (i + 1) as f64))
                .collect();
            let mut out = vec![from(0.5); rows];
            let handled = unsafe {
                add_row_sums(
                    dtype,
                    data.as_ptr().cast(),
                    (n * size_of::<T>()) as isize,
                    rows,
                    n,
                    out.as_mut_ptr().cast(),
                    size_of::<T>() as isize,
                )
            };
            if !handled {
                assert_ne!(simd_level(), SimdLevel::Avx512, "AVX-512 has kernels");
                continue;
            }
            for (r, o) in out.iter().enumerate() {
                let want = from(0.5).add(pairwise_sum(&data[r * n..(r + 1) * n]));
                let same = bytemuck::bytes_of(o) == bytemuck::bytes_of(&want);
                assert!(same, "n = {n}, row {r}: {o} != {want}");
            }
        }
    }

    #[test]
    fn same_bits_as_the_generic_sum_f64() {
        check::<f64>(DType::F64, |x| x);
    }

    #[test]
    fn same_bits_as_the_generic_sum_f32() {
        check::<f32>(DType::F32, |x| x as f32);
    }

    #[test]
    fn other_lengths_and_dtypes_are_declined() {
        let data = [1.0f64; 200];
        let mut out = [0.0f64; 1];
        for n in [1, 15, 129, 200] {
            let p = data.as_ptr().cast();
            assert!(!unsafe { add_row_sums(DType::F64, p, 0, 1, n, out.as_mut_ptr().cast(), 0) });
        }
        let p = data.as_ptr().cast();
        assert!(!unsafe { add_row_sums(DType::I64, p, 0, 1, 16, out.as_mut_ptr().cast(), 0) });
        assert_eq!(out[0], 0.0);
    }
}
