//! Run-time CPU dispatch: which instruction set the hot loops (ufunc inner loops, GEMM and
//! distance micro-kernels) use on the running CPU.
//!
//! A default `cargo build --release` targets baseline x86-64 (SSE2). The same plain Rust loop,
//! compiled inside a `#[target_feature(enable = "avx512f,...")]` function, auto-vectorises to
//! zmm registers; `wide` cannot do that (it picks its instructions at compile time), so the hot
//! loops are written once as plain slice loops and cloned per instruction set here.

use std::sync::OnceLock;

/// The widest instruction set the running CPU offers, detected once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimdLevel {
    Avx512,
    Avx2,
    Portable,
}

/// The level in use: the CPU's best, or a lower one named by the environment variable
/// `NDSTRIDE_SIMD` (`avx2` or `portable`), for comparing instruction sets.
pub fn simd_level() -> SimdLevel {
    static LEVEL: OnceLock<SimdLevel> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let best = detect();
        match std::env::var("NDSTRIDE_SIMD").as_deref() {
            Ok("portable") => SimdLevel::Portable,
            Ok("avx2") if best != SimdLevel::Portable => SimdLevel::Avx2,
            _ => best,
        }
    })
}

fn detect() -> SimdLevel {
    {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::arch::is_x86_feature_detected!("avx512vl")
            {
                return SimdLevel::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return SimdLevel::Avx2;
            }
        }
        SimdLevel::Portable
    }
}

/// Defines `$name`, which runs `$body` (a function of slices, marked `#[inline(always)]`)
/// compiled for AVX-512, AVX2+FMA or the baseline, chosen by [`simd_level`].
macro_rules! dispatched {
    ($(#[$m:meta])* $vis:vis fn $name:ident<$($g:ident $(: $bound:path)?),*>($($arg:ident: $ty:ty),*) $(-> $ret:ty)? => $body:ident) => {
        $(#[$m])*
        $vis fn $name<$($g $(: $bound)?),*>($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
            unsafe fn avx512<$($g $(: $bound)?),*>($($arg: $ty),*) $(-> $ret)? { $body($($arg),*) }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2<$($g $(: $bound)?),*>($($arg: $ty),*) $(-> $ret)? { $body($($arg),*) }
            match $crate::cpu::simd_level() {
                // SAFETY: simd_level() verified these features on the running CPU.
                #[cfg(target_arch = "x86_64")]
                $crate::cpu::SimdLevel::Avx512 => unsafe { avx512($($arg),*) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                $crate::cpu::SimdLevel::Avx2 => unsafe { avx2($($arg),*) },
                _ => $body($($arg),*),
            }
        }
    };
    // The same for an `unsafe fn` body: `$name` is `unsafe` with `$body`'s contract.
    ($(#[$m:meta])* $vis:vis unsafe fn $name:ident<$($g:ident $(: $bound:path)?),*>($($arg:ident: $ty:ty),*) $(-> $ret:ty)? => $body:ident) => {
        $(#[$m])*
        $vis unsafe fn $name<$($g $(: $bound)?),*>($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
            unsafe fn avx512<$($g $(: $bound)?),*>($($arg: $ty),*) $(-> $ret)? {
                // SAFETY: the caller of `$name` upholds `$body`'s contract.
                unsafe { $body($($arg),*) }
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2<$($g $(: $bound)?),*>($($arg: $ty),*) $(-> $ret)? {
                // SAFETY: as above.
                unsafe { $body($($arg),*) }
            }
            match $crate::cpu::simd_level() {
                // SAFETY: simd_level() verified these features on the running CPU; the caller
                // of `$name` upholds `$body`'s contract.
                #[cfg(target_arch = "x86_64")]
                $crate::cpu::SimdLevel::Avx512 => unsafe { avx512($($arg),*) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                $crate::cpu::SimdLevel::Avx2 => unsafe { avx2($($arg),*) },
                // SAFETY: the caller upholds `$body`'s contract.
                _ => unsafe { $body($($arg),*) },
            }
        }
    };
}
pub(crate) use dispatched;
