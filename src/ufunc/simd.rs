//! Contiguous elementwise inner loops, compiled per instruction set (see [`crate::cpu`]).

use crate::cpu::dispatched;
pub use crate::cpu::{SimdLevel, simd_level};

#[inline(always)]
fn map1_body<A: Copy, O, F: Fn(A) -> O>(a: &[A], o: &mut [O], f: &F) {
    for (o, &a) in o.iter_mut().zip(a) {
        *o = f(a);
    }
}

#[inline(always)]
fn map2_body<A: Copy, B: Copy, O, F: Fn(A, B) -> O>(a: &[A], b: &[B], o: &mut [O], f: &F) {
    for ((o, &a), &b) in o.iter_mut().zip(a).zip(b) {
        *o = f(a, b);
    }
}

dispatched!(
    /// `o[i] = f(a[i])` for compute-bound `f` (exp, log, sqrt, ...): the widest vectors.
    pub fn map1<A: Copy, O: Copy, F: Fn(A) -> O>(a: &[A], o: &mut [O], f: &F) => map1_body
);
dispatched!(streaming;
    /// `o[i] = f(a[i])` for cheap `f` (negation, abs, floor, isnan): limited by memory, so at most
    /// 256-bit vectors (see [`crate::cpu::streaming_level`]).
    pub fn map1_streaming<A: Copy, O: Copy, F: Fn(A) -> O>(a: &[A], o: &mut [O], f: &F) => map1_body
);
dispatched!(streaming;
    /// `o[i] = f(a[i], b[i])`, at most 256-bit vectors (binary ufuncs are memory-bound).
    pub fn map2_streaming<A: Copy, B: Copy, O: Copy, F: Fn(A, B) -> O>(a: &[A], b: &[B], o: &mut [O], f: &F) => map2_body
);
