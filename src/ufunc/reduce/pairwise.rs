//! NumPy's pairwise summation of a contiguous run.

use super::*;

/// NumPy's pairwise summation (`pairwise_sum` in loops_utils.h.src): runs of up to 128 are
/// summed with independent accumulators, longer runs split in halves (rounded down to a
/// multiple of 8) recursively. Error grows as O(log n), not O(n).
///
/// NumPy combines its eight accumulators as `((r0 + r1) + (r2 + r3)) + ...`; that adjacent
/// pairing made LLVM vectorise across rows with shuffles (2× slower on 64-element rows), so
/// the lanes here combine as `r[k] + r[k + w]`, and sixteen of them (two vectors of f64) hide
/// the add latency. Same error bound; the last bits may differ from NumPy's.
#[inline(always)]
pub(super) fn pairwise_body<T: Scalar>(a: &[T]) -> T {
    let n = a.len();
    if n < 8 {
        return a.iter().fold(T::ZERO, |s, &x| s.add(x));
    }
    if n < 16 {
        return block_sum::<T, 8>(a);
    }
    if n <= 128 {
        return block_sum::<T, 16>(a);
    }
    let mut n2 = n / 2;
    n2 -= n2 % 8;
    // Recursing through the dispatched entry keeps this function non-recursive, so it inlines
    // into its vectorised callers (a self-recursive body was compiled once, for the baseline).
    pairwise_sum(&a[..n2]).add(pairwise_sum(&a[n2..]))
}

/// Sum of `L <= a.len()` lanes accumulated in steps of `L`, lanes folded as a balanced tree,
/// then the `a.len() % L` trailing elements.
#[inline(always)]
fn block_sum<T: Scalar, const L: usize>(a: &[T]) -> T {
    let n = a.len();
    let (head, tail) = a.split_at(n - n % L);
    let mut r = [T::ZERO; L];
    r.copy_from_slice(&head[..L]);
    for c in head[L..].chunks_exact(L) {
        for k in 0..L {
            r[k] = r[k].add(c[k]);
        }
    }
    let mut w = L;
    while w > 1 {
        w /= 2;
        for k in 0..w {
            r[k] = r[k].add(r[k + w]);
        }
    }
    tail.iter().fold(r[0], |s, &x| s.add(x))
}

dispatched!(
    /// Pairwise sum of a contiguous run, vectorised for the running CPU.
    pub fn pairwise_sum<T: Scalar>(a: &[T]) -> T => pairwise_body
);
