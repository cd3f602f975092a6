//! Cache-line-aligned scratch buffers for packed panels, kept per thread between calls so a
//! GEMM does not pay for allocating and faulting in its packing buffers every time. The cost:
//! each thread that ran a large product keeps up to `mc · kc` + `kc · nc` elements (about
//! 8.7 MiB for f64) until it exits.

use std::cell::RefCell;

/// One cache line; a `Vec<Line>` is a 64-byte-aligned byte buffer.
#[repr(C, align(64))]
#[derive(Clone, Copy, bytemuck::Zeroable, bytemuck::Pod)]
struct Line([u8; 64]);

/// Which of the thread's buffers: the shared packed B block, or the thread's own A block.
#[derive(Clone, Copy)]
pub(crate) enum Slot {
    PackedB = 0,
    PackedA = 1,
}

thread_local! {
    static SCRATCH: RefCell<[Vec<Line>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// Runs `f` with a 64-byte-aligned slice of at least `len` elements of `T` (contents
/// unspecified). Re-entrant: a nested call for a slot already lent out gets a fresh buffer.
pub(crate) fn with_scratch<T: bytemuck::Pod, R>(
    slot: Slot,
    len: usize,
    f: impl FnOnce(&mut [T]) -> R,
) -> R {
    let bytes = len * size_of::<T>();
    let lines = bytes.div_ceil(64);
    let mut buf = SCRATCH.with(|s| std::mem::take(&mut s.borrow_mut()[slot as usize]));
    if buf.len() < lines {
        buf = vec![Line([0; 64]); lines];
    }
    let out = f(&mut bytemuck::cast_slice_mut::<Line, T>(&mut buf)[..len]);
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        // Keep the larger buffer if a nested call left one behind.
        if s[slot as usize].len() < buf.len() {
            s[slot as usize] = buf;
        }
    });
    out
}
