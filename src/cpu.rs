//! Run-time CPU dispatch: which instruction set the hot loops (ufunc inner loops, GEMM and
//! distance micro-kernels) use on the running CPU.
//!
//! A default `cargo build --release` targets baseline x86-64 (SSE2). The same plain Rust loop,
//! compiled inside a `#[target_feature(enable = "avx512f,...")]` function, auto-vectorises to
//! zmm registers; `wide` cannot do that (it picks its instructions at compile time), so the hot
//! loops are written once as plain slice loops and cloned per instruction set here.

use std::sync::OnceLock;

pub(crate) mod nontemporal;

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

/// The level for memory-bound elementwise loops (binary ufuncs, `-a`, `abs`, `floor`): AVX2 even where
/// AVX-512 exists: in L2, ymm beat zmm at aligned addresses and by more at unaligned ones
/// (each zmm access then splits a cache line); BENCHMARKS.md, "Measurements behind choices in the code". Compute-bound loops (exp, reductions, distances) keep zmm.
pub fn streaming_level() -> SimdLevel {
    match simd_level() {
        SimdLevel::Avx512 => SimdLevel::Avx2,
        other => other,
    }
}

/// Defines `$name`, which runs `$body` (a function of slices, marked `#[inline(always)]`)
/// compiled for AVX-512, AVX2+FMA or the baseline, chosen by [`simd_level`]. With a leading
/// `streaming;` the choice is [`streaming_level`] instead.
///
/// Every generic parameter is passed explicitly (`$body::<T, ...>`), so bodies may have
/// parameters that do not mention them (raw pointers).
macro_rules! dispatched {
    (streaming; $($rest:tt)*) => {
        $crate::cpu::dispatched!(@level $crate::cpu::streaming_level; $($rest)*);
    };
    (@level $level:path; $(#[$m:meta])* $vis:vis fn $name:ident<$($g:ident $(: $bound:path)?),*>($($arg:ident: $ty:ty),*) $(-> $ret:ty)? => $body:ident) => {
        $(#[$m])*
        $vis fn $name<$($g $(: $bound)?),*>($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
            unsafe fn avx512<$($g $(: $bound)?),*>($($arg: $ty),*) $(-> $ret)? { $body::<$($g),*>($($arg),*) }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2<$($g $(: $bound)?),*>($($arg: $ty),*) $(-> $ret)? { $body::<$($g),*>($($arg),*) }
            match $level() {
                // SAFETY: simd_level() verified these features on the running CPU.
                #[cfg(target_arch = "x86_64")]
                $crate::cpu::SimdLevel::Avx512 => unsafe { avx512::<$($g),*>($($arg),*) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                $crate::cpu::SimdLevel::Avx2 => unsafe { avx2::<$($g),*>($($arg),*) },
                _ => $body::<$($g),*>($($arg),*),
            }
        }
    };
    // The same for an `unsafe fn` body: `$name` is `unsafe` with `$body`'s contract.
    (@level $level:path; $(#[$m:meta])* $vis:vis unsafe fn $name:ident<$($g:ident $(: $bound:path)?),*>($($arg:ident: $ty:ty),*) $(-> $ret:ty)? => $body:ident) => {
        $(#[$m])*
        $vis unsafe fn $name<$($g $(: $bound)?),*>($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
            unsafe fn avx512<$($g $(: $bound)?),*>($($arg: $ty),*) $(-> $ret)? {
                // SAFETY: the caller of `$name` upholds `$body`'s contract.
                unsafe { $body::<$($g),*>($($arg),*) }
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            unsafe fn avx2<$($g $(: $bound)?),*>($($arg: $ty),*) $(-> $ret)? {
                // SAFETY: as above.
                unsafe { $body::<$($g),*>($($arg),*) }
            }
            match $level() {
                // SAFETY: simd_level() verified these features on the running CPU; the caller
                // of `$name` upholds `$body`'s contract.
                #[cfg(target_arch = "x86_64")]
                $crate::cpu::SimdLevel::Avx512 => unsafe { avx512::<$($g),*>($($arg),*) },
                // SAFETY: as above.
                #[cfg(target_arch = "x86_64")]
                $crate::cpu::SimdLevel::Avx2 => unsafe { avx2::<$($g),*>($($arg),*) },
                // SAFETY: the caller upholds `$body`'s contract.
                _ => unsafe { $body::<$($g),*>($($arg),*) },
            }
        }
    };
    ($($rest:tt)*) => {
        $crate::cpu::dispatched!(@level $crate::cpu::simd_level; $($rest)*);
    };
}
pub(crate) use dispatched;
