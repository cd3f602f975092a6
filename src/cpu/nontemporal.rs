//! Non-temporal ("streaming") stores: an output far larger than the caches is written around
//! them, which skips the read-for-ownership of every output line (the line is not fetched
//! from memory only to be overwritten) and leaves the inputs' lines in the caches.
//!
//! The stores are weakly ordered: a thread that streamed calls [`stream_fence`] before it tells
//! another thread that the output is ready.

/// Outputs at least this large are written with non-temporal stores: far larger than a core's
/// L2, so their lines would be evicted before anyone reads them. A 4096² f64 `a + b` splits
/// into 16 MiB runs; a 4096² f64 distance matrix is 128 MiB.
pub const NONTEMPORAL_MIN_BYTES: usize = 8 << 20;

/// The cache line: streamed runs are cut to whole lines (a partly streamed line costs a
/// partial write-combining flush).
pub const LINE_BYTES: usize = 64;

/// `dst.copy_from_slice(src)` with non-temporal stores, 16 bytes at a time (`u128` slices are
/// 16-byte aligned on x86-64). An ordinary copy off x86-64 and under Miri, which cannot run the
/// streaming store and models it as an ordinary one.
pub fn stream_copy(dst: &mut [u128], src: &[u128]) {
    assert_eq!(dst.len(), src.len(), "stream_copy of unequal lengths");
    #[cfg(any(not(target_arch = "x86_64"), miri))]
    dst.copy_from_slice(src);
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    for (d, s) in dst.iter_mut().zip(src) {
        use std::arch::x86_64::{__m128i, _mm_load_si128, _mm_stream_si128};
        const _: () = assert!(align_of::<u128>() == 16);
        // SAFETY: SSE2 is part of x86-64; `d` and `s` are valid, 16-byte aligned references
        // to 16 bytes each (the assertion above), and `d` is exclusive.
        unsafe {
            _mm_stream_si128(
                (d as *mut u128).cast::<__m128i>(),
                _mm_load_si128((s as *const u128).cast::<__m128i>()),
            )
        };
    }
}

/// Orders this thread's earlier streaming stores before its later stores, so that whatever
/// then signals completion (a join, a channel) publishes the streamed data too.
pub fn stream_fence() {
    // (Not under Miri, which has no `sfence`; it models streaming stores as ordinary ones.)
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    // SAFETY: SSE2 is part of x86-64; `sfence` has no operands.
    unsafe {
        std::arch::x86_64::_mm_sfence()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_copy_copies_every_byte() {
        let src: Vec<u128> = (0..37u128)
            .map(|k| k * 0x0123_4567_89ab_cdef_u128 + k)
            .collect();
        let mut dst = vec![0u128; 37];
        stream_copy(&mut dst, &src);
        stream_fence();
        assert_eq!(dst, src);
    }

    #[test]
    #[should_panic(expected = "unequal lengths")]
    fn stream_copy_refuses_unequal_lengths() {
        stream_copy(&mut [0u128; 2], &[1u128; 3]);
    }
}
