//! GEMM micro-kernels: `C[mr × nr] (= or +=) Apanel · Bpanel` over `kc` steps, with the
//! accumulator tile held in registers for the whole loop (the BLIS design).
//!
//! Orientation: the vector lanes run along C's columns (`nr`, loaded from the packed B panel)
//! and each of the `mr` rows broadcasts one packed A element, so a row-major C tile is stored
//! with full-width vector stores. The shapes fill the register file: AVX-512 8 × 3 zmm
//! (24 accumulators of 32), AVX2 6 × 2 ymm (12 of 16), portable 4 × 2 `wide` vectors.
//!
//! Every kernel has the signature of [`KernelFn`]; which one runs is chosen once per process
//! from [`crate::cpu::simd_level`], so a default `cargo build --release` gets the AVX-512 code.

use std::sync::OnceLock;

use super::direct::DirectFn;
use crate::cpu::{SimdLevel, simd_level};

/// `kernel(kc, a, b, c, rs_c, accumulate)`.
///
/// # Safety
/// `a` holds `kc · mr` packed elements (`a[p·mr + i]`), `b` holds `kc · nr` packed elements
/// (`b[p·nr + j]`) and is 64-byte aligned; `c` is valid for reads and writes of the tile
/// `c[i·rs_c + j]` for `i < mr`, `j < nr`, touched by no other thread during the call.
pub(crate) type KernelFn<T> =
    unsafe fn(kc: usize, a: *const T, b: *const T, c: *mut T, rs_c: isize, accumulate: bool);

/// A micro-kernel and the blocking parameters tuned for it.
#[derive(Clone, Copy)]
pub(crate) struct GemmKernel<T: 'static> {
    /// Rows of the register tile (broadcast from packed A).
    pub mr: usize,
    /// Columns of the register tile (vector lanes, loaded from packed B).
    pub nr: usize,
    /// Depth of one packed block: the `mr × kc` A micro-panel stays in L1 while the
    /// `kc × nc` B block is streamed from L2.
    pub kc: usize,
    /// Rows of each thread's packed A block (`mc × kc`, in L3); a multiple of `mr`.
    pub mc: usize,
    /// Columns of each thread's packed B block (`kc × nc`, sized for half of L2).
    pub nc: usize,
    pub run: KernelFn<T>,
    /// Vector width in elements; `nr` is a multiple of it.
    pub lanes: usize,
    /// Narrower kernels for the last column panel: `narrow[v - 1]` computes `v · lanes`
    /// columns, so a cut panel wastes less than one vector of work.
    pub narrow: &'static [KernelFn<T>],
    /// Instruction set, for benchmark labels.
    pub isa: &'static str,
}

impl<T: 'static> GemmKernel<T> {
    /// The width a panel of `live` columns (`0 < live <= nr`) is packed and computed at,
    /// and the kernel for it.
    pub fn for_width(&self, live: usize) -> (usize, KernelFn<T>) {
        let v = live.div_ceil(self.lanes);
        match self.narrow.get(v.wrapping_sub(1)) {
            Some(&k) if v * self.lanes < self.nr => (v * self.lanes, k),
            _ => (self.nr, self.run),
        }
    }
}

/// Floating-point types with a GEMM micro-kernel.
pub(crate) trait GemmFloat:
    crate::dtype::Element + num_traits::Float + Default + Send + Sync
{
    /// The kernel for the running CPU.
    fn gemm_kernel() -> GemmKernel<Self>;

    /// The kernel that reads the operands in place, for small products, where the running
    /// CPU has one (AVX2 or AVX-512).
    fn direct_kernel() -> Option<DirectFn<Self>>;
}

/// The largest `mr · nr` of any kernel: the size of the scratch tile used at C's edges.
pub(crate) const MAX_TILE: usize = 8 * 48;

// Block sizes were tuned on the development machine (2-core Xeon with AVX-512, 48 KiB L1d,
// 2 MiB L2), f64 at 2048³: with mc large, kc · nc up to ~0.7 MiB (f64 kc 256-384 × nc 240-336)
// is within ~3% of the best, while kc · nc ≥ 1.5 MiB loses 10-25% (the B block no longer sits
// in L2); mc large (B packed once per call) is worth 10-25% over an L2-sized mc.
// f32 was checked at kc 256-512 × nc 480-960. See BENCHMARKS.md.

impl GemmFloat for f64 {
    fn direct_kernel() -> Option<DirectFn<f64>> {
        match simd_level() {
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512 => Some(super::direct::x86::f64_avx512),
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx2 => Some(super::direct::x86::f64_avx2),
            _ => None,
        }
    }

    fn gemm_kernel() -> GemmKernel<f64> {
        static KERNEL: OnceLock<GemmKernel<f64>> = OnceLock::new();
        *KERNEL.get_or_init(|| match simd_level() {
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512 => GemmKernel {
                mr: 8,
                nr: 24,
                kc: 256,
                mc: 4096,
                nc: 336,
                run: x86::f64_avx512,
                lanes: 8,
                narrow: &[x86::f64_avx512_1, x86::f64_avx512_2],
                isa: "avx512",
            },
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx2 => GemmKernel {
                mr: 6,
                nr: 8,
                kc: 256,
                mc: 4092,
                nc: 512,
                run: x86::f64_avx2,
                lanes: 4,
                narrow: &[x86::f64_avx2_1],
                isa: "avx2",
            },
            _ => GemmKernel {
                mr: 4,
                nr: 8,
                kc: 256,
                mc: 4096,
                nc: 512,
                run: portable::f64_wide,
                lanes: 4,
                narrow: &[portable::f64_wide_1],
                isa: "portable",
            },
        })
    }
}

impl GemmFloat for f32 {
    fn direct_kernel() -> Option<DirectFn<f32>> {
        match simd_level() {
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512 => Some(super::direct::x86::f32_avx512),
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx2 => Some(super::direct::x86::f32_avx2),
            _ => None,
        }
    }

    fn gemm_kernel() -> GemmKernel<f32> {
        static KERNEL: OnceLock<GemmKernel<f32>> = OnceLock::new();
        *KERNEL.get_or_init(|| match simd_level() {
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx512 => GemmKernel {
                mr: 8,
                nr: 48,
                kc: 384,
                mc: 4096,
                nc: 672,
                run: x86::f32_avx512,
                lanes: 16,
                narrow: &[x86::f32_avx512_1, x86::f32_avx512_2],
                isa: "avx512",
            },
            #[cfg(target_arch = "x86_64")]
            SimdLevel::Avx2 => GemmKernel {
                mr: 6,
                nr: 16,
                kc: 256,
                mc: 4092,
                nc: 1024,
                run: x86::f32_avx2,
                lanes: 8,
                narrow: &[x86::f32_avx2_1],
                isa: "avx2",
            },
            _ => GemmKernel {
                mr: 4,
                nr: 16,
                kc: 256,
                mc: 4096,
                nc: 1024,
                run: portable::f32_wide,
                lanes: 8,
                narrow: &[portable::f32_wide_1],
                isa: "portable",
            },
        })
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// One intrinsic kernel: `$mr` broadcast rows × `$nv` vectors of `$lanes` lanes.
    macro_rules! x86_kernel {
        ($name:ident, $T:ty, $feat:literal, $lanes:expr, $mr:expr, $nv:expr,
         $zero:ident, $load:ident, $loadu:ident, $storeu:ident, $set1:ident, $fma:ident, $add:ident) => {
            #[target_feature(enable = $feat)]
            pub(super) unsafe fn $name(
                kc: usize,
                a: *const $T,
                b: *const $T,
                c: *mut $T,
                rs_c: isize,
                accumulate: bool,
            ) {
                // SAFETY: the caller guarantees the packed panels' lengths and B's 64-byte
                // alignment (so every `$load` of `$lanes` lanes at a multiple of `$lanes` is
                // aligned) and exclusive access to the C tile (see `KernelFn`).
                unsafe {
                    // C's tile is read and written only after the k loop; start fetching its
                    // lines now so the loop hides their latency (C is rarely in cache).
                    for i in 0..$mr {
                        let row = c.offset(i as isize * rs_c).cast::<i8>();
                        for line in 0..($nv * $lanes * size_of::<$T>()).div_ceil(64) {
                            _mm_prefetch::<_MM_HINT_T0>(row.add(line * 64));
                        }
                    }
                    let mut acc = [[$zero(); $nv]; $mr];
                    let (mut a, mut b) = (a, b);
                    for _ in 0..kc {
                        let mut bv = [$zero(); $nv];
                        for (v, bv) in bv.iter_mut().enumerate() {
                            *bv = $load(b.add(v * $lanes));
                        }
                        for (i, row) in acc.iter_mut().enumerate() {
                            let ai = $set1(*a.add(i));
                            for (acc, &bv) in row.iter_mut().zip(&bv) {
                                *acc = $fma(ai, bv, *acc);
                            }
                        }
                        a = a.add($mr);
                        b = b.add($nv * $lanes);
                    }
                    for (i, row) in acc.iter().enumerate() {
                        let c_row = c.offset(i as isize * rs_c);
                        for (v, &acc) in row.iter().enumerate() {
                            let p = c_row.add(v * $lanes);
                            let r = if accumulate {
                                $add($loadu(p), acc)
                            } else {
                                acc
                            };
                            $storeu(p, r);
                        }
                    }
                }
            }
        };
    }

    macro_rules! avx512_f64 {
        ($name:ident, $nv:expr) => {
            x86_kernel!(
                $name,
                f64,
                "avx512f",
                8,
                8,
                $nv,
                _mm512_setzero_pd,
                _mm512_load_pd,
                _mm512_loadu_pd,
                _mm512_storeu_pd,
                _mm512_set1_pd,
                _mm512_fmadd_pd,
                _mm512_add_pd
            );
        };
    }
    macro_rules! avx512_f32 {
        ($name:ident, $nv:expr) => {
            x86_kernel!(
                $name,
                f32,
                "avx512f",
                16,
                8,
                $nv,
                _mm512_setzero_ps,
                _mm512_load_ps,
                _mm512_loadu_ps,
                _mm512_storeu_ps,
                _mm512_set1_ps,
                _mm512_fmadd_ps,
                _mm512_add_ps
            );
        };
    }
    macro_rules! avx2_f64 {
        ($name:ident, $nv:expr) => {
            x86_kernel!(
                $name,
                f64,
                "avx2,fma",
                4,
                6,
                $nv,
                _mm256_setzero_pd,
                _mm256_load_pd,
                _mm256_loadu_pd,
                _mm256_storeu_pd,
                _mm256_set1_pd,
                _mm256_fmadd_pd,
                _mm256_add_pd
            );
        };
    }
    macro_rules! avx2_f32 {
        ($name:ident, $nv:expr) => {
            x86_kernel!(
                $name,
                f32,
                "avx2,fma",
                8,
                6,
                $nv,
                _mm256_setzero_ps,
                _mm256_load_ps,
                _mm256_loadu_ps,
                _mm256_storeu_ps,
                _mm256_set1_ps,
                _mm256_fmadd_ps,
                _mm256_add_ps
            );
        };
    }
    avx512_f64!(f64_avx512, 3);
    avx512_f64!(f64_avx512_2, 2);
    avx512_f64!(f64_avx512_1, 1);
    avx512_f32!(f32_avx512, 3);
    avx512_f32!(f32_avx512_2, 2);
    avx512_f32!(f32_avx512_1, 1);
    avx2_f64!(f64_avx2, 2);
    avx2_f64!(f64_avx2_1, 1);
    avx2_f32!(f32_avx2, 2);
    avx2_f32!(f32_avx2_1, 1);
}

/// The fallback for CPUs without AVX2 (and other architectures), in `wide`'s portable vectors.
mod portable {
    use wide::{f32x8, f64x4};

    macro_rules! wide_kernel {
        ($name:ident, $T:ty, $V:ty, $lanes:expr, $mr:expr, $nv:expr) => {
            pub(super) unsafe fn $name(
                kc: usize,
                a: *const $T,
                b: *const $T,
                c: *mut $T,
                rs_c: isize,
                accumulate: bool,
            ) {
                // SAFETY: as for the x86 kernels (see `KernelFn`); reads and writes go through
                // unaligned array reads, so no alignment is assumed.
                unsafe {
                    let mut acc = [[<$V>::splat(0.0); $nv]; $mr];
                    let (mut a, mut b) = (a, b);
                    for _ in 0..kc {
                        let mut bv = [<$V>::splat(0.0); $nv];
                        for (v, bv) in bv.iter_mut().enumerate() {
                            *bv = <$V>::new(
                                b.add(v * $lanes).cast::<[$T; $lanes]>().read_unaligned(),
                            );
                        }
                        for (i, row) in acc.iter_mut().enumerate() {
                            let ai = <$V>::splat(*a.add(i));
                            for (acc, &bv) in row.iter_mut().zip(&bv) {
                                *acc = ai.mul_add(bv, *acc);
                            }
                        }
                        a = a.add($mr);
                        b = b.add($nv * $lanes);
                    }
                    for (i, row) in acc.iter().enumerate() {
                        let c_row = c.offset(i as isize * rs_c);
                        for (v, &acc) in row.iter().enumerate() {
                            let p = c_row.add(v * $lanes).cast::<[$T; $lanes]>();
                            let r = if accumulate {
                                <$V>::new(p.read_unaligned()) + acc
                            } else {
                                acc
                            };
                            p.write_unaligned(r.to_array());
                        }
                    }
                }
            }
        };
    }

    wide_kernel!(f64_wide, f64, f64x4, 4, 4, 2);
    wide_kernel!(f64_wide_1, f64, f64x4, 4, 4, 1);
    wide_kernel!(f32_wide, f32, f32x8, 8, 4, 2);
    wide_kernel!(f32_wide_1, f32, f32x8, 8, 4, 1);
}
