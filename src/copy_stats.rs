//! Copy accounting: a per-thread count of buffer allocations and bytes copied, so tests can
//! assert that an operation only changed metadata.
//!
//! Counters are recorded on the thread that *asks* for the work (operations record their totals
//! before handing work to rayon), so a scope sees the copies of everything it called, whatever
//! threads did the moving.

use std::cell::Cell;

/// What a piece of code allocated and copied. Returned by [`CopyStats::scope`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CopyStats {
    /// Data buffers allocated (zero-sized buffers included).
    pub allocations: u64,
    /// Bytes of those buffers.
    pub bytes_allocated: u64,
    /// Bytes of array data read from one buffer and written into another.
    pub bytes_copied: u64,
}

thread_local! {
    static TOTALS: Cell<CopyStats> = const { Cell::new(CopyStats { allocations: 0, bytes_allocated: 0, bytes_copied: 0 }) };
}

impl CopyStats {
    /// Runs `f` and returns its result with what it allocated and copied on this thread.
    /// Scopes nest: an inner scope's work also counts in the outer one.
    ///
    /// ```
    /// use ndstride::{CopyStats, NdArray, DType};
    /// let a = NdArray::zeros(&[4, 6], DType::F64).unwrap();
    /// let (t, stats) = CopyStats::scope(|| a.t());
    /// assert!(stats.is_metadata_only());
    /// assert_eq!(t.shape(), &[6, 4]);
    /// ```
    pub fn scope<R>(f: impl FnOnce() -> R) -> (R, CopyStats) {
        let before = Self::thread_totals();
        let r = f();
        let after = Self::thread_totals();
        (
            r,
            CopyStats {
                allocations: after.allocations - before.allocations,
                bytes_allocated: after.bytes_allocated - before.bytes_allocated,
                bytes_copied: after.bytes_copied - before.bytes_copied,
            },
        )
    }

    /// Totals recorded on this thread since it started.
    pub fn thread_totals() -> CopyStats {
        TOTALS.with(|t| t.get())
    }

    /// True when nothing was allocated or copied: the operation only changed metadata.
    pub fn is_metadata_only(&self) -> bool {
        self.allocations == 0 && self.bytes_copied == 0
    }

    pub(crate) fn record_allocation(bytes: usize) {
        TOTALS.with(|t| {
            let mut s = t.get();
            s.allocations += 1;
            s.bytes_allocated += bytes as u64;
            t.set(s);
        });
    }

    pub(crate) fn record_copy(bytes: usize) {
        TOTALS.with(|t| {
            let mut s = t.get();
            s.bytes_copied += bytes as u64;
            t.set(s);
        });
    }
}
