//! Do two arrays share memory? Exactly (`shares_memory`) or by extents (`may_share_memory`).

use crate::buffer::Buffer;

use super::NdArray;
use crate::layout::{Overlap, solve_overlap};

/// Search nodes `shares_memory` may spend before giving up; NumPy's exact solver is unbounded,
/// which can take exponential time on adversarial strides.
pub const SHARES_MEMORY_MAX_WORK: u64 = 1 << 22;

/// True when some byte is reachable from both arrays (NumPy's `np.shares_memory`), decided
/// exactly by NumPy's bounded Diophantine solver. If the problem exceeds
/// [`SHARES_MEMORY_MAX_WORK`] search steps the answer is the conservative `true`; call
/// [`shares_memory_bounded`] to see `Overlap::TooHard` instead.
pub fn shares_memory(a: &NdArray, b: &NdArray) -> bool {
    shares_memory_bounded(a, b, Some(SHARES_MEMORY_MAX_WORK)) != Overlap::No
}

/// The exact overlap question with an explicit work bound (`None`: unbounded).
pub fn shares_memory_bounded(a: &NdArray, b: &NdArray, max_work: Option<u64>) -> Overlap {
    if !Buffer::same(&a.buffer, &b.buffer) {
        return Overlap::No;
    }
    solve_overlap(&a.layout, a.itemsize(), &b.layout, b.itemsize(), max_work)
}

/// True when the byte ranges the arrays span intersect (NumPy's `np.may_share_memory`): cheap,
/// and may say `true` for interleaved arrays that never touch the same byte.
pub fn may_share_memory(a: &NdArray, b: &NdArray) -> bool {
    shares_memory_bounded(a, b, Some(0)) != Overlap::No
}
