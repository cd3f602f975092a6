//! Small products read straight from the operands: no packing and no scratch. One call
//! computes the rows of C it is given; `gemm` hands each thread its own rows.
//!
//! The packed path copies both operands into panels before the first multiply; for a small
//! product that copy, the scratch buffers and the scratch tiles at C's edges cost as much as
//! the arithmetic (BENCHMARKS.md, "matmul at n = 16 to 128"). When B's rows and C's rows are
//! unit-stride, the micro-kernel can load B's rows where they are and store C's rows in place,
//! and broadcast A's elements from any strides, so nothing needs packing. The register tile has
//! the packed kernel's shape; a tile cut by C's last rows is a kernel with fewer rows (a const
//! generic), and one cut by C's last columns loads and stores its last vector with a mask, so
//! no tile goes through scratch.

use super::gemm::MatMut;
use super::pack::MatRef;

/// `direct(m, n, k, a, b, c)`: `C (m × n) = A (m × k) · B (k × n)` on the calling thread.
///
/// # Safety
/// As for [`gemm`](super::gemm::gemm), and also `b.cs == 1`, `c.cs == 1`, `m, n, k > 0`.
pub(crate) type DirectFn<T> = unsafe fn(usize, usize, usize, MatRef<T>, MatRef<T>, MatMut<T>);

/// Products of at most this many multiply-adds (`m · n · k`) take the direct kernel when their
/// operands suit it: beyond it, every row block re-reads a B that no longer fits in L2, and
/// packing won (BENCHMARKS.md, "Measurements behind choices in the code").
pub(crate) const DIRECT_MAX_MULADDS: usize = 192 * 192 * 192;

#[cfg(target_arch = "x86_64")]
pub(crate) mod x86 {
    use std::arch::x86_64::*;

    use super::super::gemm::MatMut;
    use super::super::pack::MatRef;

    /// The direct kernel of one instruction set and element type: `$mr` rows broadcast from A
    /// × up to `$nv` vectors of `$lanes` lanes loaded from B's rows.
    macro_rules! direct_kernel {
        ($name:ident, $T:ty, $feat:literal, $lanes:expr, $mr:expr, $nv:expr,
         rows: [$($r:literal),*], vectors: [$($v:literal),*],
         $zero:ident, $loadu:ident, $storeu:ident, $set1:ident, $fma:ident,
         $Mask:ty, $tail_mask:ident, $load_tail:ident, $store_tail:ident) => {
            /// `C = A · B` for the whole matrix, one register tile after another.
            ///
            /// # Safety
            /// See [`DirectFn`](super::DirectFn).
            #[target_feature(enable = $feat)]
            pub(crate) unsafe fn $name(
                m: usize,
                n: usize,
                k: usize,
                a: MatRef<$T>,
                b: MatRef<$T>,
                c: MatMut<$T>,
            ) {
                /// `R` rows of C, every column: full tiles, then one cut by C's last column.
                ///
                /// # Safety
                /// As for the outer function, with rows `0 .. R` of `a` and `c`.
                #[target_feature(enable = $feat)]
                unsafe fn row_block<const R: usize>(
                    n: usize,
                    k: usize,
                    a: MatRef<$T>,
                    b: MatRef<$T>,
                    c: MatMut<$T>,
                ) {
                    const NR: usize = $nv * $lanes;
                    let full = n - n % NR;
                    // SAFETY (every tile): columns j .. j+NR, or j .. n for the masked one, are
                    // inside B and C; the caller's R rows are inside A and C.
                    unsafe {
                        let all = $tail_mask($lanes);
                        for j in (0..full).step_by(NR) {
                            tile::<R, $nv, false>(k, a, b.at(0, j), b.rs, c.at(0, j), c.rs, all);
                        }
                        let rest = n - full;
                        if rest > 0 {
                            let vectors = rest.div_ceil($lanes);
                            let mask = $tail_mask(rest - (vectors - 1) * $lanes);
                            let (bj, cj) = (b.at(0, full), c.at(0, full));
                            match vectors {
                                $($v => tile::<R, $v, true>(k, a, bj, b.rs, cj, c.rs, mask),)*
                                _ => unreachable!("a cut tile has 1 to {} vectors", $nv),
                            }
                        }
                    }
                }

                /// One `R × V·lanes` tile of C over the whole depth; with `MASKED`, the last
                /// vector of each B row and C row is loaded and stored under `mask`.
                ///
                /// # Safety
                /// Rows `0 .. R` of `a` (columns `0 .. k`) are inside A; `b` points at `k` rows
                /// `rs_b` apart and `c` at `R` rows `rs_c` apart, each with `V·lanes` unit-stride
                /// elements (the last vector's masked-off lanes excepted) inside B and C.
                #[target_feature(enable = $feat)]
                #[inline]
                unsafe fn tile<const R: usize, const V: usize, const MASKED: bool>(
                    k: usize,
                    a: MatRef<$T>,
                    b: *const $T,
                    rs_b: isize,
                    c: *mut $T,
                    rs_c: isize,
                    mask: $Mask,
                ) {
                    // SAFETY: every pointer formed stays inside the rows and columns the
                    // caller vouches for; masked lanes are neither read nor written.
                    unsafe {
                        for i in 0..R {
                            _mm_prefetch::<_MM_HINT_T0>(c.offset(i as isize * rs_c).cast::<i8>());
                        }
                        let rows: [*const $T; R] = std::array::from_fn(|i| a.at(i, 0));
                        let mut acc = [[$zero(); V]; R];
                        let mut b_row = b;
                        let mut off = 0isize;
                        for _ in 0..k {
                            let mut bv = [$zero(); V];
                            for (v, bv) in bv.iter_mut().enumerate() {
                                let p = b_row.add(v * $lanes);
                                *bv = if MASKED && v == V - 1 {
                                    $load_tail(p, mask)
                                } else {
                                    $loadu(p)
                                };
                            }
                            for (row, acc) in rows.iter().zip(acc.iter_mut()) {
                                let ai = $set1(*row.offset(off));
                                for (acc, &bv) in acc.iter_mut().zip(&bv) {
                                    *acc = $fma(ai, bv, *acc);
                                }
                            }
                            b_row = b_row.offset(rs_b);
                            off += a.cs;
                        }
                        for (i, acc) in acc.iter().enumerate() {
                            let c_row = c.offset(i as isize * rs_c);
                            for (v, &acc) in acc.iter().enumerate() {
                                let p = c_row.add(v * $lanes);
                                if MASKED && v == V - 1 {
                                    $store_tail(p, mask, acc);
                                } else {
                                    $storeu(p, acc);
                                }
                            }
                        }
                    }
                }

                let mut i = 0;
                while i < m {
                    let rows = ($mr as usize).min(m - i);
                    // SAFETY: row i is inside A and C; the callee keeps to rows i .. i+rows.
                    unsafe {
                        let a = MatRef { ptr: a.at(i, 0), ..a };
                        let c = MatMut { ptr: c.at(i, 0), ..c };
                        match rows {
                            $($r => row_block::<$r>(n, k, a, b, c),)*
                            _ => unreachable!("a row block has 1 to {} rows", $mr),
                        }
                    }
                    i += rows;
                }
            }
        };
    }

    // Masks for the last vector of a row cut by C's last column: `live` lanes of `lanes`
    // (`1 <= live <= lanes`). Masked-off lanes are neither loaded (no fault past the end of a
    // buffer) nor stored.

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn mask_f64x4(live: usize) -> __m256i {
        _mm256_cmpgt_epi64(
            _mm256_set1_epi64x(live as i64),
            _mm256_setr_epi64x(0, 1, 2, 3),
        )
    }

    #[target_feature(enable = "avx2,fma")]
    #[inline]
    fn mask_f32x8(live: usize) -> __m256i {
        _mm256_cmpgt_epi32(
            _mm256_set1_epi32(live as i32),
            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
        )
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn mask_f64x8(live: usize) -> __mmask8 {
        ((1u32 << live) - 1) as __mmask8
    }

    #[target_feature(enable = "avx512f")]
    #[inline]
    fn mask_f32x16(live: usize) -> __mmask16 {
        ((1u32 << live) - 1) as __mmask16
    }

    /// # Safety
    /// The lanes under `mask` are readable.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn load_f64x4(p: *const f64, mask: __m256i) -> __m256d {
        // SAFETY: the caller's.
        unsafe { _mm256_maskload_pd(p, mask) }
    }

    /// # Safety
    /// The lanes under `mask` are writable.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn store_f64x4(p: *mut f64, mask: __m256i, v: __m256d) {
        // SAFETY: the caller's.
        unsafe { _mm256_maskstore_pd(p, mask, v) }
    }

    /// # Safety
    /// The lanes under `mask` are readable.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn load_f32x8(p: *const f32, mask: __m256i) -> __m256 {
        // SAFETY: the caller's.
        unsafe { _mm256_maskload_ps(p, mask) }
    }

    /// # Safety
    /// The lanes under `mask` are writable.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn store_f32x8(p: *mut f32, mask: __m256i, v: __m256) {
        // SAFETY: the caller's.
        unsafe { _mm256_maskstore_ps(p, mask, v) }
    }

    /// # Safety
    /// The lanes under `mask` are readable.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn load_f64x8(p: *const f64, mask: __mmask8) -> __m512d {
        // SAFETY: the caller's; AVX-512 suppresses faults on masked-off lanes.
        unsafe { _mm512_maskz_loadu_pd(mask, p) }
    }

    /// # Safety
    /// The lanes under `mask` are writable.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn store_f64x8(p: *mut f64, mask: __mmask8, v: __m512d) {
        // SAFETY: the caller's.
        unsafe { _mm512_mask_storeu_pd(p, mask, v) }
    }

    /// # Safety
    /// The lanes under `mask` are readable.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn load_f32x16(p: *const f32, mask: __mmask16) -> __m512 {
        // SAFETY: the caller's; AVX-512 suppresses faults on masked-off lanes.
        unsafe { _mm512_maskz_loadu_ps(mask, p) }
    }

    /// # Safety
    /// The lanes under `mask` are writable.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn store_f32x16(p: *mut f32, mask: __mmask16, v: __m512) {
        // SAFETY: the caller's.
        unsafe { _mm512_mask_storeu_ps(p, mask, v) }
    }

    // The tiles are the packed kernels' (`kernels.rs`): AVX-512 8 × 3 vectors, AVX2 6 × 2.
    direct_kernel!(f64_avx512, f64, "avx512f", 8, 8, 3,
        rows: [1, 2, 3, 4, 5, 6, 7, 8], vectors: [1, 2, 3],
        _mm512_setzero_pd, _mm512_loadu_pd, _mm512_storeu_pd, _mm512_set1_pd, _mm512_fmadd_pd,
        __mmask8, mask_f64x8, load_f64x8, store_f64x8);
    direct_kernel!(f32_avx512, f32, "avx512f", 16, 8, 3,
        rows: [1, 2, 3, 4, 5, 6, 7, 8], vectors: [1, 2, 3],
        _mm512_setzero_ps, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_set1_ps, _mm512_fmadd_ps,
        __mmask16, mask_f32x16, load_f32x16, store_f32x16);
    direct_kernel!(f64_avx2, f64, "avx2,fma", 4, 6, 2,
        rows: [1, 2, 3, 4, 5, 6], vectors: [1, 2],
        _mm256_setzero_pd, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_set1_pd, _mm256_fmadd_pd,
        __m256i, mask_f64x4, load_f64x4, store_f64x4);
    direct_kernel!(f32_avx2, f32, "avx2,fma", 8, 6, 2,
        rows: [1, 2, 3, 4, 5, 6], vectors: [1, 2],
        _mm256_setzero_ps, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_set1_ps, _mm256_fmadd_ps,
        __m256i, mask_f32x8, load_f32x8, store_f32x8);
}
