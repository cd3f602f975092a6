//! Distance micro-kernels: a GEMM micro-kernel with the metric's own inner operation in place
//! of the multiply-add. For an `mr × nr` tile of the output, each step over the feature axis
//! broadcasts one packed element of each of `mr` rows of XA and combines it with `nr` packed
//! elements (whole vectors) of XB:
//!
//! | op          | per step and vector        | accumulator start |
//! |-------------|----------------------------|-------------------|
//! | sqeuclidean | `t = b − a; acc = fma(t, t, acc)` | 0 |
//! | cityblock   | `acc += abs(b − a)`        | 0 |
//! | chebyshev   | `acc = max(abs(b − a), acc)` | 0 |
//! | dot         | `acc = fma(a, b, acc)`     | 0 |
//! | braycurtis  | `num += abs(b − a); den += abs(b + a)` | 0, 0 |
//! | power p = 3…8 | `acc = fma(x, y, acc)`, `x·y = \|b − a\|^p` by 1 to 3 products | 0 |
//!
//! Nothing cancels, so the results are as exact as SciPy's pair loops (only the summation
//! order differs). `max(t, acc)` keeps `acc` when `t` is NaN, which is SciPy's chebyshev
//! (`if (d > max) max = d` skips NaN); the sums propagate NaN as SciPy's do.
//!
//! The tile shapes are the GEMM's (AVX-512 8 × 3 vectors, AVX2 6 × 2, portable 4 × 2): the
//! accumulators plus the XB vectors, a sign mask and a temporary fill the register file.
//! Bray–Curtis keeps two sums per pair in one pass, so its tiles have half the rows (4 × 3,
//! 3 × 2, 2 × 2) and it writes two tiles, the numerators then the denominators.

use std::sync::OnceLock;

use crate::cpu::{SimdLevel, simd_level};

/// `kernel(d, a, b, tile)`: `tile[(s·mr + i)·nr + j] = reduce_p op_s(a[p·mr + i], b[p·nr + j])`
/// for each of the kernel's `sums` accumulators `s`.
///
/// # Safety
/// `a` holds `d · mr` elements, `b` holds `d · nr` elements, `tile` is writable for
/// `sums · mr · nr` elements; all three are 64-byte aligned.
pub(crate) type DistKernelFn<T> = unsafe fn(d: usize, a: *const T, b: *const T, tile: *mut T);

/// The inner operations with a register-blocked kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KernelOp {
    SqEuclidean,
    Cityblock,
    Chebyshev,
    Dot,
    /// `Σ|b − a|` and `Σ|b + a|` in one pass.
    BrayCurtis,
    /// `Σ|b − a|^p` for an integer `p` in [`POWERS`] (minkowski before its root).
    PowerSum(u8),
}

/// The exponents with a [`KernelOp::PowerSum`] kernel: each is a fixed chain of products
/// (minkowski's other exponents take `exp(p·ln|t|)` in a pair loop).
pub(crate) const POWERS: std::ops::RangeInclusive<u8> = 3..=8;

impl KernelOp {
    /// How many sums the kernel keeps per pair (the tiles it writes).
    pub fn sums(self) -> usize {
        if self == KernelOp::BrayCurtis { 2 } else { 1 }
    }

    /// The power-sum kernel for minkowski's `p`, where there is one.
    pub fn power_sum(p: f64) -> Option<KernelOp> {
        POWERS
            .clone()
            .find(|&k| f64::from(k) == p)
            .map(KernelOp::PowerSum)
    }
}

/// A micro-kernel and its tile.
#[derive(Clone, Copy)]
pub(crate) struct DistKernel<T: 'static> {
    pub mr: usize,
    pub nr: usize,
    pub run: DistKernelFn<T>,
    pub isa: &'static str,
}

/// The largest `sums · mr · nr` of any kernel: the size of the tile buffer.
pub(crate) const MAX_TILE: usize = 8 * 48;
/// The widest tile (`nr`) of any kernel.
pub(crate) const MAX_NR: usize = 48;

/// f32 and f64, the precisions the kernels compute in.
pub(crate) trait DistFloat:
    crate::dtype::Element + num_traits::Float + Default + Send + Sync + bytemuck::Pod
{
    /// The kernel for `op` on the running CPU.
    fn dist_kernel(op: KernelOp) -> DistKernel<Self>;
}

/// One kernel per op, in [`index`] order.
type KernelSet<T> = [DistKernel<T>; 11];

fn index(op: KernelOp) -> usize {
    match op {
        KernelOp::SqEuclidean => 0,
        KernelOp::Cityblock => 1,
        KernelOp::Chebyshev => 2,
        KernelOp::Dot => 3,
        KernelOp::BrayCurtis => 4,
        KernelOp::PowerSum(p) => {
            assert!(POWERS.contains(&p), "no power-sum kernel for p = {p}");
            5 + usize::from(p - POWERS.start())
        }
    }
}

/// `DistFloat` for `$t`: the kernel set (a module of [`x86_set`]/[`wide_set`]) of the running
/// CPU's level, with its tile; Bray–Curtis' has half as many rows.
macro_rules! dist_float {
    ($t:ty: $($(#[$cfg:meta])? $level:pat => $($m:ident)::+ $isa:literal ($mr:expr, $nr:expr);)*) => {
        impl DistFloat for $t {
            fn dist_kernel(op: KernelOp) -> DistKernel<$t> {
                static SET: OnceLock<KernelSet<$t>> = OnceLock::new();
                SET.get_or_init(|| match simd_level() {
                    $($(#[$cfg])* $level => {
                        use $($m)::+ as k;
                        let kernel = |mr, run| DistKernel { mr, nr: $nr, run, isa: $isa };
                        [
                            kernel($mr, k::sq), kernel($mr, k::cb), kernel($mr, k::ch),
                            kernel($mr, k::dot), kernel($mr / 2, k::bc), kernel($mr, k::pow3),
                            kernel($mr, k::pow4), kernel($mr, k::pow5), kernel($mr, k::pow6),
                            kernel($mr, k::pow7), kernel($mr, k::pow8),
                        ]
                    })*
                })[index(op)]
            }
        }
    };
}

dist_float!(f64:
    #[cfg(target_arch = "x86_64")]
    SimdLevel::Avx512 => x86::f64_avx512 "avx512" (8, 24);
    #[cfg(target_arch = "x86_64")]
    SimdLevel::Avx2 => x86::f64_avx2 "avx2" (6, 8);
    _ => portable::f64_wide "portable" (4, 8);
);
dist_float!(f32:
    #[cfg(target_arch = "x86_64")]
    SimdLevel::Avx512 => x86::f32_avx512 "avx512" (8, 48);
    #[cfg(target_arch = "x86_64")]
    SimdLevel::Avx2 => x86::f32_avx2 "avx2" (6, 16);
    _ => portable::f32_wide "portable" (4, 16);
);

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// One kernel: `$mr` broadcast rows × `$nv` vectors × `$sums` accumulators;
    /// `|acc, a, b| step` is the metric's inner operation on vectors (`a` broadcast from XA,
    /// `b` loaded from XB), from the accumulators `[acc; $sums]` to their next values.
    macro_rules! x86_dist_kernel {
        ($name:ident, $T:ty, $feat:literal, $lanes:expr, $mr:expr, $nv:expr, $sums:expr,
         $zero:ident, $load:ident, $store:ident, $set1:ident,
         |$acc:ident, $a:ident, $b:ident| $step:expr) => {
            #[target_feature(enable = $feat)]
            pub(crate) unsafe fn $name(d: usize, a: *const $T, b: *const $T, tile: *mut $T) {
                // SAFETY: the caller guarantees the panels' lengths and 64-byte alignment (so
                // every load of `$lanes` lanes at a multiple of `$lanes` is aligned) and a
                // writable, aligned tile of `$sums` parts (see `DistKernelFn`).
                unsafe {
                    let mut acc = [[[$zero(); $sums]; $nv]; $mr];
                    let (mut pa, mut pb) = (a, b);
                    for _ in 0..d {
                        let mut bv = [$zero(); $nv];
                        for (v, bv) in bv.iter_mut().enumerate() {
                            *bv = $load(pb.add(v * $lanes));
                        }
                        for (i, row) in acc.iter_mut().enumerate() {
                            let $a = $set1(*pa.add(i));
                            for (slot, &$b) in row.iter_mut().zip(&bv) {
                                let $acc = *slot;
                                *slot = $step;
                            }
                        }
                        pa = pa.add($mr);
                        pb = pb.add($nv * $lanes);
                    }
                    for (i, row) in acc.iter().enumerate() {
                        for (v, sums) in row.iter().enumerate() {
                            for (s, &r) in sums.iter().enumerate() {
                                $store(tile.add(((s * $mr + i) * $nv + v) * $lanes), r);
                            }
                        }
                    }
                }
            }
        };
    }

    /// The kernels of one instruction set and element type, as module `$module`: `$mr` rows
    /// × `$nv` vectors, Bray–Curtis' two sums on half the rows.
    macro_rules! x86_set {
        ($module:ident, $feat:literal, $T:ty, $lanes:expr, $mr:expr, $nv:expr,
         $zero:ident, $load:ident, $store:ident, $set1:ident, $sub:ident, $fma:ident,
         $add:ident, $mul:ident, $abs:ident, $max:ident) => {
            pub(super) mod $module {
                use super::*;
                x86_set!(@each $feat, $T, $lanes, $nv, $zero, $load, $store, $set1;
                    sq, $mr, 1, |acc, a, b| {
                        let t = $sub(b, a);
                        [$fma(t, t, acc[0])]
                    };
                    cb, $mr, 1, |acc, a, b| [$add(acc[0], $abs($sub(b, a)))];
                    ch, $mr, 1, |acc, a, b| [$max($abs($sub(b, a)), acc[0])];
                    dot, $mr, 1, |acc, a, b| [$fma(a, b, acc[0])];
                    bc, $mr / 2, 2, |acc, a, b| {
                        [$add(acc[0], $abs($sub(b, a))), $add(acc[1], $abs($add(b, a)))]
                    };
                    // |t|^p as x·y, the last product fused into the accumulation.
                    pow3, $mr, 1, |acc, a, b| {
                        let u = $abs($sub(b, a));
                        [$fma($mul(u, u), u, acc[0])]
                    };
                    pow4, $mr, 1, |acc, a, b| {
                        let t = $sub(b, a);
                        let t2 = $mul(t, t);
                        [$fma(t2, t2, acc[0])]
                    };
                    pow5, $mr, 1, |acc, a, b| {
                        let t = $sub(b, a);
                        let t2 = $mul(t, t);
                        [$fma($mul(t2, t2), $abs(t), acc[0])]
                    };
                    pow6, $mr, 1, |acc, a, b| {
                        let t = $sub(b, a);
                        let t2 = $mul(t, t);
                        [$fma($mul(t2, t2), t2, acc[0])]
                    };
                    pow7, $mr, 1, |acc, a, b| {
                        let u = $abs($sub(b, a));
                        let t2 = $mul(u, u);
                        [$fma($mul(t2, t2), $mul(t2, u), acc[0])]
                    };
                    pow8, $mr, 1, |acc, a, b| {
                        let t = $sub(b, a);
                        let t2 = $mul(t, t);
                        let t4 = $mul(t2, t2);
                        [$fma(t4, t4, acc[0])]
                    };
                );
            }
        };
        (@each $feat:literal, $T:ty, $lanes:expr, $nv:expr, $zero:ident, $load:ident,
         $store:ident, $set1:ident;
         $($name:ident, $mr:expr, $sums:expr, |$acc:ident, $a:ident, $b:ident| $step:expr;)*) => {
            $(x86_dist_kernel!($name, $T, $feat, $lanes, $mr, $nv, $sums, $zero, $load, $store,
                $set1, |$acc, $a, $b| $step);)*
        };
    }
    x86_set! {
        f64_avx512, "avx512f", f64, 8, 8, 3,
        _mm512_setzero_pd, _mm512_load_pd, _mm512_store_pd, _mm512_set1_pd, _mm512_sub_pd,
        _mm512_fmadd_pd, _mm512_add_pd, _mm512_mul_pd, _mm512_abs_pd, _mm512_max_pd
    }
    x86_set! {
        f32_avx512, "avx512f", f32, 16, 8, 3,
        _mm512_setzero_ps, _mm512_load_ps, _mm512_store_ps, _mm512_set1_ps, _mm512_sub_ps,
        _mm512_fmadd_ps, _mm512_add_ps, _mm512_mul_ps, _mm512_abs_ps, _mm512_max_ps
    }

    /// `|x|` on AVX2: clear the sign bit.
    #[inline(always)]
    unsafe fn abs256_pd(x: __m256d) -> __m256d {
        // SAFETY: only called from kernels compiled with AVX2 enabled.
        unsafe { _mm256_andnot_pd(_mm256_set1_pd(-0.0), x) }
    }
    #[inline(always)]
    unsafe fn abs256_ps(x: __m256) -> __m256 {
        // SAFETY: as above.
        unsafe { _mm256_andnot_ps(_mm256_set1_ps(-0.0), x) }
    }

    x86_set! {
        f64_avx2, "avx2,fma", f64, 4, 6, 2,
        _mm256_setzero_pd, _mm256_load_pd, _mm256_store_pd, _mm256_set1_pd, _mm256_sub_pd,
        _mm256_fmadd_pd, _mm256_add_pd, _mm256_mul_pd, abs256_pd, _mm256_max_pd
    }
    x86_set! {
        f32_avx2, "avx2,fma", f32, 8, 6, 2,
        _mm256_setzero_ps, _mm256_load_ps, _mm256_store_ps, _mm256_set1_ps, _mm256_sub_ps,
        _mm256_fmadd_ps, _mm256_add_ps, _mm256_mul_ps, abs256_ps, _mm256_max_ps
    }
}

/// The fallback for CPUs without AVX2 (and other architectures), in `wide`'s portable vectors.
mod portable {
    use wide::{f32x8, f64x4};

    macro_rules! wide_dist_kernel {
        ($name:ident, $T:ty, $V:ty, $lanes:expr, $mr:expr, $nv:expr, $sums:expr,
         |$acc:ident, $a:ident, $b:ident| $step:expr) => {
            pub(crate) unsafe fn $name(d: usize, a: *const $T, b: *const $T, tile: *mut $T) {
                // SAFETY: as for the x86 kernels (see `DistKernelFn`); reads and writes go
                // through unaligned array accesses, so no alignment is assumed.
                unsafe {
                    let mut acc = [[[<$V>::splat(0.0); $sums]; $nv]; $mr];
                    let (mut pa, mut pb) = (a, b);
                    for _ in 0..d {
                        let mut bv = [<$V>::splat(0.0); $nv];
                        for (v, bv) in bv.iter_mut().enumerate() {
                            *bv = <$V>::new(
                                pb.add(v * $lanes).cast::<[$T; $lanes]>().read_unaligned(),
                            );
                        }
                        for (i, row) in acc.iter_mut().enumerate() {
                            let $a = <$V>::splat(*pa.add(i));
                            for (slot, &$b) in row.iter_mut().zip(&bv) {
                                let $acc = *slot;
                                *slot = $step;
                            }
                        }
                        pa = pa.add($mr);
                        pb = pb.add($nv * $lanes);
                    }
                    for (i, row) in acc.iter().enumerate() {
                        for (v, sums) in row.iter().enumerate() {
                            for (s, r) in sums.iter().enumerate() {
                                let at = ((s * $mr + i) * $nv + v) * $lanes;
                                let p = tile.add(at).cast::<[$T; $lanes]>();
                                p.write_unaligned(r.to_array());
                            }
                        }
                    }
                }
            }
        };
    }

    /// The kernels in `wide`'s vectors `$V`, as module `$module`.
    macro_rules! wide_set {
        ($module:ident, $T:ty, $V:ty, $lanes:expr) => {
            pub(super) mod $module {
                use super::*;
                wide_dist_kernel!(sq, $T, $V, $lanes, 4, 2, 1, |acc, a, b| {
                    let t = b - a;
                    [t.mul_add(t, acc[0])]
                });
                wide_dist_kernel!(cb, $T, $V, $lanes, 4, 2, 1, |acc, a, b| [
                    acc[0] + (b - a).abs()
                ]);
                // `max` returns `acc` when the new term is NaN, as the x86 kernels do.
                wide_dist_kernel!(ch, $T, $V, $lanes, 4, 2, 1, |acc, a, b| [(b - a)
                    .abs()
                    .max(acc[0])]);
                wide_dist_kernel!(dot, $T, $V, $lanes, 4, 2, 1, |acc, a, b| [
                    a.mul_add(b, acc[0])
                ]);
                wide_dist_kernel!(bc, $T, $V, $lanes, 2, 2, 2, |acc, a, b| [
                    acc[0] + (b - a).abs(),
                    acc[1] + (b + a).abs()
                ]);
                wide_dist_kernel!(pow3, $T, $V, $lanes, 4, 2, 1, |acc, a, b| {
                    let u = (b - a).abs();
                    [(u * u).mul_add(u, acc[0])]
                });
                wide_dist_kernel!(pow4, $T, $V, $lanes, 4, 2, 1, |acc, a, b| {
                    let t2 = (b - a) * (b - a);
                    [t2.mul_add(t2, acc[0])]
                });
                wide_dist_kernel!(pow5, $T, $V, $lanes, 4, 2, 1, |acc, a, b| {
                    let t2 = (b - a) * (b - a);
                    [(t2 * t2).mul_add((b - a).abs(), acc[0])]
                });
                wide_dist_kernel!(pow6, $T, $V, $lanes, 4, 2, 1, |acc, a, b| {
                    let t2 = (b - a) * (b - a);
                    [(t2 * t2).mul_add(t2, acc[0])]
                });
                wide_dist_kernel!(pow7, $T, $V, $lanes, 4, 2, 1, |acc, a, b| {
                    let u = (b - a).abs();
                    let t2 = u * u;
                    [(t2 * t2).mul_add(t2 * u, acc[0])]
                });
                wide_dist_kernel!(pow8, $T, $V, $lanes, 4, 2, 1, |acc, a, b| {
                    let t2 = (b - a) * (b - a);
                    let t4 = t2 * t2;
                    [t4.mul_add(t4, acc[0])]
                });
            }
        };
    }
    wide_set!(f64_wide, f64, f64x4, 4);
    wide_set!(f32_wide, f32, f32x8, 8);
}
