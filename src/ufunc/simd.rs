//! Contiguous elementwise inner loops, compiled per instruction set (see [`crate::cpu`]).

use crate::cpu::dispatched;
/// Kept here for dependents: the threshold moved to the CPU layer, shared with the distance
/// outputs.
pub use crate::cpu::nontemporal::NONTEMPORAL_MIN_BYTES;
use crate::cpu::nontemporal::{stream_copy, stream_fence};
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

/// Results are computed into an L1-resident block of this many bytes, then streamed out.
const NONTEMPORAL_BLOCK: usize = 4096;

/// `o[i] = f(a[i], b[i])` like [`map2_streaming`], with the output written by non-temporal
/// stores: each block is computed into a small buffer by the vectorised loop, then copied out
/// 16 bytes at a time around the caches, which beats plain stores on outputs larger than
/// the caches (BENCHMARKS.md, "Measurements behind choices in the code").
///
/// Falls back to `map2_streaming` off x86-64 and for element sizes that do not divide 16.
pub fn map2_nontemporal<A: Copy, B: Copy, O: bytemuck::Pod, F: Fn(A, B) -> O>(
    a: &[A],
    b: &[B],
    o: &mut [O],
    f: &F,
) {
    let size = size_of::<O>();
    if !cfg!(target_arch = "x86_64") || size == 0 || 16 % size != 0 {
        return map2_streaming(a, b, o, f);
    }
    // Elements before the first 16-byte aligned output address go the ordinary way.
    let misalign = (o.as_ptr() as usize) % 16;
    let head = if misalign == 0 {
        0
    } else {
        ((16 - misalign) / size).min(o.len())
    };
    let (o_head, o_rest) = o.split_at_mut(head);
    map2_streaming(&a[..head], &b[..head], o_head, f);
    let per_block = NONTEMPORAL_BLOCK / size;
    let mut buf = [0u128; NONTEMPORAL_BLOCK / 16];
    let (a, b) = (&a[head..], &b[head..]);
    let mut start = 0;
    while start + per_block <= o_rest.len() {
        let end = start + per_block;
        map2_streaming(
            &a[start..end],
            &b[start..end],
            bytemuck::cast_slice_mut(&mut buf),
            f,
        );
        stream_copy(bytemuck::cast_slice_mut(&mut o_rest[start..end]), &buf);
        start = end;
    }
    map2_streaming(&a[start..], &b[start..], &mut o_rest[start..], f);
    stream_fence();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nontemporal_matches_the_plain_loop_at_every_alignment_and_length() {
        let a: Vec<f64> = (0..3000).map(|i| i as f64 * 0.5).collect();
        let b: Vec<f64> = (0..3000).map(|i| 1.0 / (i + 1) as f64).collect();
        for skip in 0..3 {
            let lengths = if cfg!(miri) {
                vec![0, 513, 1030]
            } else {
                vec![0, 1, 2, 511, 512, 513, 1024, 2999 - skip]
            };
            for n in lengths {
                let mut o = vec![-1.0f64; n + skip];
                let f = |x: f64, y: f64| x * y - 1.0;
                map2_nontemporal(&a[..n], &b[..n], &mut o[skip..], &f);
                assert!(o[..skip].iter().all(|&x| x == -1.0));
                for i in 0..n {
                    assert_eq!(o[skip + i], f(a[i], b[i]), "n {n} skip {skip} at {i}");
                }
            }
        }
        // One-byte outputs (comparisons) at every misalignment of the first byte.
        // Miri runs a sample (every misalignment takes it ten seconds).
        let skips: Vec<usize> = if cfg!(miri) {
            vec![0, 5]
        } else {
            (0..17).collect()
        };
        for skip in skips {
            let n = 5000 - skip;
            let x: Vec<i32> = (0..n as i32).collect();
            let y: Vec<i32> = (0..n as i32).map(|i| (i * 7) % 13).collect();
            let mut o = vec![9u8; n + skip];
            map2_nontemporal(&x, &y, &mut o[skip..], &|p: i32, q: i32| (p % 13 < q) as u8);
            assert!(o[..skip].iter().all(|&v| v == 9));
            assert!((0..n).all(|i| o[skip + i] == (x[i] % 13 < y[i]) as u8));
        }
    }
}
