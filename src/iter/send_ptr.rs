//! A raw pointer (or an array of them) shared with worker threads: the parallel loops split
//! their output into disjoint parts and hand every worker the same base pointer.

/// `P` (a raw pointer, or an array of them) that may cross threads.
#[derive(Clone, Copy)]
pub(crate) struct SendPtr<P>(pub P);

// SAFETY: a `SendPtr` is made only by loops whose workers write disjoint elements through it
// and only read the memory they share (each loop says how it splits); the wrapper itself is
// plain data.
unsafe impl<P> Send for SendPtr<P> {}
// SAFETY: as above.
unsafe impl<P> Sync for SendPtr<P> {}

impl<P: Copy> SendPtr<P> {
    /// Through a method, closures capture the whole (Send) wrapper, not the raw field.
    #[inline(always)]
    pub fn get(self) -> P {
        self.0
    }
}
