//! One tile of an 8-byte-element operand that is transposed relative to the output, turned
//! into row-major order in a small buffer so that the inner loop reads it contiguously.
//!
//! Reading such an operand directly means one element per 64-byte line per step of the inner
//! loop: the tiles keep those lines in L1, but every element is still a separate scalar
//! load. Here eight lines at a time are loaded as eight vectors and transposed in registers
//! (24 shuffles per 8 × 8 block) on AVX-512, four lines as four vectors (8 shuffles per
//! 4 × 4 block) on AVX2; the portable build and the ragged edges of a tile copy element by
//! element.

use super::elementwise::TILE;

/// A tile in row-major order: element `(r, c)` at `[r * TILE + c]`, 64-byte aligned.
#[repr(C, align(64))]
pub(crate) struct TileBuffer(pub [u64; TILE * TILE]);

impl TileBuffer {
    pub const fn new() -> Self {
        TileBuffer([0; TILE * TILE])
    }
}

/// Fills `buf[r * TILE + c]` with the 8-byte element at `src + r·8 + c·col_stride` for
/// `r < rows`, `c < cols`: the source is contiguous along `r`.
///
/// # Safety
/// Every one of those `rows × cols` elements is readable; `rows, cols ≤ TILE`.
pub(crate) unsafe fn transpose_into(
    buf: &mut TileBuffer,
    src: *const u8,
    col_stride: isize,
    rows: usize,
    cols: usize,
) {
    debug_assert!(rows <= TILE && cols <= TILE);
    // The top-left corner of whole vector blocks, transposed in registers.
    // SAFETY: forwarded: the caller's rows × cols elements are readable.
    let (full_r, full_c) = unsafe { vector_blocks(buf, src, col_stride, rows, cols) };
    let element = |r: usize, c: usize| {
        // SAFETY: r < rows, c < cols: inside the caller's readable elements.
        unsafe {
            (src.offset(r as isize * 8 + c as isize * col_stride) as *const u64).read_unaligned()
        }
    };
    for c in 0..cols {
        // With the vector blocks done, only the ragged right and bottom edges are left.
        let r_from = if c < full_c { full_r } else { 0 };
        for r in r_from..rows {
            buf.0[r * TILE + c] = element(r, c);
        }
    }
}

/// Transposes the `8 × 8` (AVX-512) or `4 × 4` (AVX2) blocks of the top-left corner of the
/// tile into `buf` and returns the corner's size; `(0, 0)` where there are no vectors.
///
/// # Safety
/// As [`transpose_into`].
unsafe fn vector_blocks(
    buf: &mut TileBuffer,
    src: *const u8,
    col_stride: isize,
    rows: usize,
    cols: usize,
) -> (usize, usize) {
    #[cfg(target_arch = "x86_64")]
    match crate::cpu::simd_level() {
        crate::cpu::SimdLevel::Avx512 => {
            let corner = (rows / 8 * 8, cols / 8 * 8);
            // SAFETY: AVX-512 F is present (simd_level); the blocks read lie inside the
            // caller's rows × cols elements.
            unsafe { avx512::blocks(buf, src, col_stride, corner.0, corner.1) };
            return corner;
        }
        crate::cpu::SimdLevel::Avx2 => {
            let corner = (rows / 4 * 4, cols / 4 * 4);
            // SAFETY: AVX is present (simd_level's AVX2 level implies it); the blocks read lie
            // inside the caller's rows × cols elements.
            unsafe { avx2::blocks(buf, src, col_stride, corner.0, corner.1) };
            return corner;
        }
        crate::cpu::SimdLevel::Portable => {}
    }
    let _ = (buf, src, col_stride, rows, cols);
    (0, 0)
}

/// Asks for the lines of `runs` runs of `run_bytes` bytes, `stride` apart, ahead of their
/// use: a tile's runs are far apart, so the hardware prefetchers, which follow a few streams
/// within a page, do not fetch them in time on their own.
#[inline]
pub(crate) fn prefetch(src: *const u8, stride: isize, run_bytes: usize, runs: usize) {
    #[cfg(target_arch = "x86_64")]
    for run in 0..runs {
        let start = src.wrapping_offset(run as isize * stride);
        for line in (0..run_bytes).step_by(64) {
            // SAFETY: a prefetch is a hint; it never faults, whatever the address.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    start.wrapping_add(line) as *const i8,
                )
            };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (src, stride, run_bytes, runs);
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::{TILE, TileBuffer};
    use std::arch::x86_64::*;

    /// The `8 × 8` blocks of the top-left `full_r × full_c` corner (multiples of 8).
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn blocks(
        buf: &mut TileBuffer,
        src: *const u8,
        col_stride: isize,
        full_r: usize,
        full_c: usize,
    ) {
        for r0 in (0..full_r).step_by(8) {
            for c0 in (0..full_c).step_by(8) {
                // v[j] = rows r0 .. r0 + 8 of column c0 + j (contiguous in the source).
                // SAFETY: inside the caller's rows × cols elements.
                let v: [__m512d; 8] = std::array::from_fn(|j| unsafe {
                    _mm512_loadu_pd(
                        src.offset(r0 as isize * 8 + (c0 + j) as isize * col_stride) as *const f64
                    )
                });
                let w = transpose8(v);
                for (i, row) in w.iter().enumerate() {
                    let at = (r0 + i) * TILE + c0;
                    // SAFETY: at + 8 ≤ (r0 + 7)·TILE + c0 + 8 ≤ TILE², inside the buffer.
                    unsafe { _mm512_storeu_pd(buf.0.as_mut_ptr().add(at) as *mut f64, *row) };
                }
            }
        }
    }

    /// `w[i][j] = v[j][i]`: pairs of elements, then pairs of 128-bit lanes, twice.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn transpose8(v: [__m512d; 8]) -> [__m512d; 8] {
        // t[2k] = (v[2k][0], v[2k+1][0], v[2k][2], v[2k+1][2], ...), t[2k+1] the odd elements.
        let t: [__m512d; 8] = std::array::from_fn(|k| {
            let (a, b) = (v[k & !1], v[k | 1]);
            if k % 2 == 0 {
                _mm512_unpacklo_pd(a, b)
            } else {
                _mm512_unpackhi_pd(a, b)
            }
        });
        // 128-bit lanes: EVEN picks lanes (0, 2) of each source, ODD lanes (1, 3).
        const EVEN: i32 = 0b10_00_10_00;
        const ODD: i32 = 0b11_01_11_01;
        let x = [
            _mm512_shuffle_f64x2::<EVEN>(t[0], t[2]),
            _mm512_shuffle_f64x2::<ODD>(t[0], t[2]),
            _mm512_shuffle_f64x2::<EVEN>(t[1], t[3]),
            _mm512_shuffle_f64x2::<ODD>(t[1], t[3]),
        ];
        let y = [
            _mm512_shuffle_f64x2::<EVEN>(t[4], t[6]),
            _mm512_shuffle_f64x2::<ODD>(t[4], t[6]),
            _mm512_shuffle_f64x2::<EVEN>(t[5], t[7]),
            _mm512_shuffle_f64x2::<ODD>(t[5], t[7]),
        ];
        [
            _mm512_shuffle_f64x2::<EVEN>(x[0], y[0]),
            _mm512_shuffle_f64x2::<EVEN>(x[2], y[2]),
            _mm512_shuffle_f64x2::<EVEN>(x[1], y[1]),
            _mm512_shuffle_f64x2::<EVEN>(x[3], y[3]),
            _mm512_shuffle_f64x2::<ODD>(x[0], y[0]),
            _mm512_shuffle_f64x2::<ODD>(x[2], y[2]),
            _mm512_shuffle_f64x2::<ODD>(x[1], y[1]),
            _mm512_shuffle_f64x2::<ODD>(x[3], y[3]),
        ]
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::{TILE, TileBuffer};
    use std::arch::x86_64::*;

    /// The `4 × 4` blocks of the top-left `full_r × full_c` corner (multiples of 4).
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn blocks(
        buf: &mut TileBuffer,
        src: *const u8,
        col_stride: isize,
        full_r: usize,
        full_c: usize,
    ) {
        for r0 in (0..full_r).step_by(4) {
            for c0 in (0..full_c).step_by(4) {
                // v[j] = rows r0 .. r0 + 4 of column c0 + j (contiguous in the source).
                // SAFETY: inside the caller's rows × cols elements.
                let v: [__m256d; 4] = std::array::from_fn(|j| unsafe {
                    _mm256_loadu_pd(
                        src.offset(r0 as isize * 8 + (c0 + j) as isize * col_stride) as *const f64
                    )
                });
                // Pairs of elements, then 128-bit halves: w[i][j] = v[j][i].
                let lo01 = _mm256_unpacklo_pd(v[0], v[1]);
                let hi01 = _mm256_unpackhi_pd(v[0], v[1]);
                let lo23 = _mm256_unpacklo_pd(v[2], v[3]);
                let hi23 = _mm256_unpackhi_pd(v[2], v[3]);
                let w = [
                    _mm256_permute2f128_pd::<0x20>(lo01, lo23),
                    _mm256_permute2f128_pd::<0x20>(hi01, hi23),
                    _mm256_permute2f128_pd::<0x31>(lo01, lo23),
                    _mm256_permute2f128_pd::<0x31>(hi01, hi23),
                ];
                for (i, row) in w.iter().enumerate() {
                    let at = (r0 + i) * TILE + c0;
                    // SAFETY: at + 4 ≤ (r0 + 3)·TILE + c0 + 4 ≤ TILE², inside the buffer.
                    unsafe { _mm256_storeu_pd(buf.0.as_mut_ptr().add(at) as *mut f64, *row) };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tile_shape_lands_in_row_major_order() {
        // A column-major source: element (r, c) at index r + c·ld, value r·1000 + c.
        let ld = 37;
        let src: Vec<u64> = (0..ld * TILE)
            .map(|k| ((k % ld) * 1000 + k / ld) as u64)
            .collect();
        for (rows, cols) in [(32, 32), (8, 8), (7, 9), (17, 24), (32, 5), (1, 32), (0, 3)] {
            let mut buf = TileBuffer::new();
            // SAFETY: rows ≤ ld and cols ≤ TILE columns of ld elements are inside `src`.
            unsafe {
                transpose_into(
                    &mut buf,
                    src.as_ptr() as *const u8,
                    ld as isize * 8,
                    rows,
                    cols,
                )
            };
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(
                        buf.0[r * TILE + c],
                        (r * 1000 + c) as u64,
                        "{rows}×{cols} at ({r},{c})"
                    );
                }
            }
        }
    }

    /// Each instruction set's blocks on their own, whichever level the machine runs: an
    /// AVX-512 machine still checks the AVX2 blocks that an AVX2 machine would use.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn every_instruction_sets_blocks_land_in_row_major_order() {
        let ld = 41;
        let src: Vec<u64> = (0..ld * TILE)
            .map(|k| ((k % ld) * 1000 + k / ld) as u64)
            .collect();
        let check = |buf: &TileBuffer, rows: usize, cols: usize, what: &str| {
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(
                        buf.0[r * TILE + c],
                        (r * 1000 + c) as u64,
                        "{what} at ({r},{c})"
                    );
                }
            }
        };
        for (rows, cols) in [(32, 32), (8, 24), (4, 4), (16, 8)] {
            if std::arch::is_x86_feature_detected!("avx") {
                let mut buf = TileBuffer::new();
                // SAFETY: AVX is present; rows ≤ ld and cols ≤ TILE columns lie inside `src`.
                unsafe {
                    avx2::blocks(
                        &mut buf,
                        src.as_ptr() as *const u8,
                        ld as isize * 8,
                        rows,
                        cols,
                    )
                };
                check(&buf, rows, cols, "AVX2 blocks");
            }
            if std::arch::is_x86_feature_detected!("avx512f") && rows % 8 == 0 && cols % 8 == 0 {
                let mut buf = TileBuffer::new();
                // SAFETY: AVX-512 F is present; as above.
                unsafe {
                    avx512::blocks(
                        &mut buf,
                        src.as_ptr() as *const u8,
                        ld as isize * 8,
                        rows,
                        cols,
                    )
                };
                check(&buf, rows, cols, "AVX-512 blocks");
            }
        }
    }

    #[test]
    fn transposed_operands_with_partial_tiles_small_enough_for_miri() {
        // 40 × 37: one full and one ragged tile each way, with the next-tile prefetches.
        use crate::{DType, NdArray, Order};
        let (n, m) = (40, 37);
        let a = NdArray::arange(n * m, DType::F64)
            .unwrap()
            .reshape(&[n, m])
            .unwrap();
        let b = NdArray::arange(n * m, DType::I64)
            .unwrap()
            .reshape(&[m, n])
            .unwrap();
        let t = b.t().to_contiguous(Order::C).to_vec::<i64>().unwrap();
        let bf = NdArray::arange(n * m, DType::F64)
            .unwrap()
            .reshape(&[m, n])
            .unwrap();
        let sum = a.add(&bf.t()).unwrap().to_vec::<f64>().unwrap();
        for i in 0..n {
            for j in 0..m {
                assert_eq!(t[i * m + j], (j * n + i) as i64);
                assert_eq!(sum[i * m + j], (i * m + j + j * n + i) as f64);
            }
        }
    }
}
