//! Raw, 64-byte aligned, reference-counted storage for array data.
//!
//! A `Buffer` is only bytes: it knows nothing of shapes or dtypes. Arrays share one by cloning
//! the handle (a count, like `Arc`, kept in front of the bytes); writing requires
//! `&mut Buffer` of the sole handle, so a write can never race with a read through another
//! array (see `array::views`).

use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering, fence};

use crate::copy_stats::CopyStats;
use crate::error::{Error, Result};

/// Alignment of every heap buffer: a cache line, and enough for any SIMD load.
pub const BUFFER_ALIGN: usize = 64;

/// Buffers at least this large come from an anonymous memory map advised to use transparent
/// huge pages: a fresh 128 MiB output then faults in 64 times rather than 32768 times. Below it
/// the system allocator serves them; glibc recycles freed blocks up to 32 MiB without returning
/// them to the kernel, which beats any fault (measured in BENCHMARKS.md).
const HUGE_PAGE_THRESHOLD: usize = 32 << 20;

/// Large anonymous maps kept after their buffer is dropped, for reuse by the next output of
/// the same size: reusing skips both the page faults and the kernel zeroing pages, which is
/// what made a fresh `a + b` of 128 MiB cost a third more than one into a preallocated output.
/// Only outputs that overwrite every byte (`for_overwrite`) take from the pool.
static POOL: std::sync::Mutex<Vec<memmap2::MmapMut>> = std::sync::Mutex::new(Vec::new());
/// At most this much memory is held for reuse.
const POOL_MAX_BYTES: usize = 1 << 30;
const POOL_MAX_ENTRIES: usize = 4;

/// Returns the memory held for reuse by dropped large buffers to the system.
pub fn release_pooled_memory() {
    if let Ok(mut pool) = POOL.lock() {
        pool.clear();
    }
}

/// Alignment asked of the system allocator: what glibc's `malloc` gives anyway. Asking for
/// `BUFFER_ALIGN` directly goes through `posix_memalign`, which splits off and frees the
/// unaligned head of each block; those small fragments then make the next large `malloc`
/// consolidate the free lists (seen in perf profiles of a 64×64 `a + b`). Over-allocating by
/// `BUFFER_ALIGN - MALLOC_ALIGN` bytes and rounding the pointer up avoids both.
const MALLOC_ALIGN: usize = 16;
const HEAP_SLACK: usize = BUFFER_ALIGN - MALLOC_ALIGN;

/// Bytes in front of the data for the [`Header`]: a multiple of `BUFFER_ALIGN`, so the data
/// that follow the header stay aligned.
const HEADER_SIZE: usize = BUFFER_ALIGN;
/// Zeroed buffers up to this many bytes come from `malloc` and a `memset` rather than `calloc`.
const SMALL_ZEROED_BYTES: usize = 16 << 10;
const _: () =
    assert!(size_of::<Header>() <= HEADER_SIZE && HEADER_SIZE.is_multiple_of(BUFFER_ALIGN));

/// What every buffer's block starts with. The handle count lives in the same system block as
/// the data (one `malloc` per array rather than two, as an `Arc<Buffer>` needed; the second
/// was a visible part of making a small array in perf profiles).
struct Header {
    /// Handles sharing the buffer.
    handles: AtomicUsize,
    /// Bytes from the start of the system block to the header (alignment round-up).
    lead: usize,
    storage: Storage,
}

enum Storage {
    /// `len` bytes right after the header, in the header's block.
    Inline { len: usize },
    /// Large zeroed or pooled buffers (page aligned); the block holds only the header.
    Anon(memmap2::MmapMut),
    /// A read-only file mapping; the array's bytes are `map[start..start + len]`.
    File {
        map: memmap2::Mmap,
        start: usize,
        len: usize,
    },
    /// Memory this crate did not allocate (a NumPy array, a `Vec`, an `ndarray` array): `len`
    /// bytes at `ptr`, valid while `owner` lives; the block holds only the header.
    Foreign {
        ptr: NonNull<u8>,
        len: usize,
        writable: bool,
        /// Dropped with the last handle, which releases the memory to whoever lent it.
        _owner: Owner,
    },
}

/// Whatever keeps foreign memory alive. It is only ever dropped, never read, so a panic
/// elsewhere cannot leave it observed half-updated: arrays stay unwind-safe whatever it is.
struct Owner(#[allow(dead_code)] Box<dyn Send + Sync>);
impl std::panic::UnwindSafe for Owner {}
impl std::panic::RefUnwindSafe for Owner {}

/// One handle to a reference-counted buffer. Cloning makes another handle to the same bytes;
/// the bytes are freed with the last handle.
pub struct Buffer {
    /// Points at an initialised `Header` at the start of a block from `allocate_block`, kept
    /// alive while `handles > 0`.
    header: NonNull<Header>,
}

// SAFETY: the bytes are only written through `&mut Buffer` while it is the sole handle
// (`as_mut_ptr` checks the count), so no other thread can read them meanwhile; the count is
// atomic, the storage's memory maps are Send + Sync themselves, and a foreign owner is
// Send + Sync by `from_foreign`'s bound (whose contract keeps other writers away).
unsafe impl Send for Buffer {}
// SAFETY: see above; `&Buffer` only reads the bytes and the header.
unsafe impl Sync for Buffer {}

impl Buffer {
    /// A zero-filled buffer of `len` bytes. Fails (rather than aborting) when memory is short.
    pub fn zeroed(len: usize) -> Result<Buffer> {
        Self::allocate(len, true)
    }

    /// A buffer whose bytes may be uninitialised, for outputs that are written in full before
    /// anything reads them (it skips a `memset` of the whole output).
    ///
    /// # Safety
    /// The caller writes every byte before the buffer is read through any safe API.
    pub unsafe fn for_overwrite(len: usize) -> Result<Buffer> {
        Self::allocate(len, false)
    }

    fn allocate(len: usize, zero: bool) -> Result<Buffer> {
        CopyStats::record_allocation(len);
        if len >= HUGE_PAGE_THRESHOLD {
            if !zero
                && let Ok(mut pool) = POOL.lock()
                && let Some(i) = pool.iter().position(|m| m.len() == len)
            {
                let map = pool.swap_remove(i);
                return Self::with_header(0, false, Storage::Anon(map));
            }
            let map = memmap2::MmapMut::map_anon(len)
                .map_err(|e| Error::out_of_memory(len, format!("an array ({e})")))?;
            #[cfg(target_os = "linux")]
            {
                // Advice only: a kernel without THP ignores it, which is fine.
                let _ = map.advise(memmap2::Advice::HugePage);
            }
            return Self::with_header(0, false, Storage::Anon(map));
        }
        Self::with_header(len, zero, Storage::Inline { len })
    }

    /// Allocates a block for the header and `inline_len` data bytes after it (zeroed or
    /// not), and writes the header with one handle.
    fn with_header(inline_len: usize, zero: bool, storage: Storage) -> Result<Buffer> {
        let layout = block_layout(inline_len)?;
        // Small blocks are zeroed by hand: glibc's `calloc` skips the per-thread cache that
        // serves `malloc`, and took longer than the `memset` it saves (perf of a 2×2 `zeros`
        // and of small reductions, BENCHMARKS.md "1×1 to 64×64 against ndarray").
        let zero_here = zero && inline_len <= SMALL_ZEROED_BYTES;
        // SAFETY: the layout has nonzero size (it includes the header). Uninitialised data
        // bytes are only requested by `for_overwrite`, whose caller writes them all first,
        // and by small zeroed buffers, whose data bytes are zeroed below before any use.
        let block = unsafe {
            if zero && !zero_here {
                alloc::alloc_zeroed(layout)
            } else {
                alloc::alloc(layout)
            }
        };
        let Some(block) = NonNull::new(block) else {
            // Dropping `storage` here releases a memory map that came with it.
            return Err(Error::out_of_memory(inline_len, "an array"));
        };
        // The block is MALLOC_ALIGN-aligned, so rounding up to BUFFER_ALIGN moves at most
        // HEAP_SLACK bytes.
        let lead = block.as_ptr().addr().wrapping_neg() % BUFFER_ALIGN;
        debug_assert!(lead <= HEAP_SLACK);
        // SAFETY: lead <= HEAP_SLACK, so the header (HEADER_SIZE bytes, BUFFER_ALIGN-aligned,
        // which satisfies `Header`'s alignment) and the inline bytes after it lie inside the
        // block.
        let header = unsafe {
            let header = block.add(lead).cast::<Header>();
            header.write(Header {
                handles: AtomicUsize::new(1),
                lead,
                storage,
            });
            if zero_here {
                header
                    .cast::<u8>()
                    .add(HEADER_SIZE)
                    .write_bytes(0, inline_len);
            }
            header
        };
        Ok(Buffer { header })
    }

    /// Wraps a read-only file mapping; the data are `map[start..start + len]`.
    pub fn from_file_map(map: memmap2::Mmap, start: usize, len: usize) -> Result<Buffer> {
        let end = start
            .checked_add(len)
            .ok_or_else(|| Error::overflow("mapped range"))?;
        if end > map.len() {
            return Err(Error::npy(format!(
                "file holds {} data bytes but the header needs {len}",
                map.len().saturating_sub(start)
            )));
        }
        Self::with_header(0, false, Storage::File { map, start, len })
    }

    /// Wraps `len` bytes at `ptr` that this crate did not allocate, without copying them.
    /// `owner` is whatever keeps that memory alive (a Python object, a `Vec`, an `ndarray`
    /// array); it is dropped when the last handle drops, on whichever thread that is. The
    /// bytes are read-only unless `writable`; a writable foreign buffer is written, like any
    /// buffer, only through the sole handle.
    ///
    /// Nothing here assumes [`BUFFER_ALIGN`]: the crate's kernels read every operand through
    /// alignment checks or unaligned loads (memory maps need that already).
    ///
    /// # Safety
    /// For as long as `owner` is alive:
    /// - `ptr` is valid for reads of `len` bytes (any pointer, null included, when `len` is 0),
    ///   and those bytes are initialised;
    /// - no code outside this buffer's handles writes those bytes;
    /// - if `writable`, `ptr` is also valid for writes of `len` bytes, and no code outside this
    ///   buffer's handles reads them while a handle may write (no other live reference into
    ///   the memory is used meanwhile).
    pub unsafe fn from_foreign<O: Send + Sync + 'static>(
        ptr: *const u8,
        len: usize,
        owner: O,
        writable: bool,
    ) -> Result<Buffer> {
        if len > isize::MAX as usize {
            return Err(Error::overflow(format!("foreign buffer of {len} bytes")));
        }
        let ptr = match NonNull::new(ptr.cast_mut()) {
            Some(p) => p,
            None if len == 0 => NonNull::dangling(),
            None => {
                return Err(Error::invalid(format!(
                    "a foreign buffer of {len} bytes at address 0"
                )));
            }
        };
        Self::with_header(
            0,
            false,
            Storage::Foreign {
                ptr,
                len,
                writable,
                _owner: Owner(Box::new(owner)),
            },
        )
    }

    fn header(&self) -> &Header {
        // SAFETY: the header stays initialised and allocated while this handle exists.
        unsafe { self.header.as_ref() }
    }

    pub fn len(&self) -> usize {
        match &self.header().storage {
            Storage::Inline { len } => *len,
            Storage::Anon(m) => m.len(),
            Storage::File { len, .. } => *len,
            Storage::Foreign { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True for a read-only memory map of a file.
    pub fn is_file_mapped(&self) -> bool {
        matches!(self.header().storage, Storage::File { .. })
    }

    /// True for memory lent to the crate ([`Buffer::from_foreign`]).
    pub fn is_foreign(&self) -> bool {
        matches!(self.header().storage, Storage::Foreign { .. })
    }

    /// True when no handle may write the bytes: a file map, or foreign memory lent read-only.
    pub fn is_read_only(&self) -> bool {
        match &self.header().storage {
            Storage::File { .. } => true,
            Storage::Foreign { writable, .. } => !writable,
            _ => false,
        }
    }

    /// How many handles share the buffer (this one included).
    pub fn handles(&self) -> usize {
        // Acquire pairs with the Release of dropped handles: a count of 1 then means their
        // reads of the bytes are over.
        self.header().handles.load(Ordering::Acquire)
    }

    /// Whether `a` and `b` are handles to the same buffer.
    pub fn same(a: &Buffer, b: &Buffer) -> bool {
        a.header == b.header
    }

    /// Start of the bytes. Valid for reads of `len()` bytes while `self` lives.
    pub fn as_ptr(&self) -> *const u8 {
        match &self.header().storage {
            // SAFETY: the inline bytes start HEADER_SIZE bytes after the header, in its block.
            Storage::Inline { .. } => unsafe { self.header.cast::<u8>().add(HEADER_SIZE) }
                .as_ptr()
                .cast_const(),
            Storage::Anon(m) => m.as_ptr(),
            // SAFETY: `start <= map.len()` was checked in `from_file_map`.
            Storage::File { map, start, .. } => unsafe { map.as_ptr().add(*start) },
            Storage::Foreign { ptr, .. } => ptr.as_ptr().cast_const(),
        }
    }

    /// Start of the bytes for writing: `None` for read-only memory (a file map, foreign memory
    /// lent read-only), or while other handles share the buffer (a write would be visible
    /// through them).
    pub fn as_mut_ptr(&mut self) -> Option<*mut u8> {
        if self.handles() != 1 || self.is_read_only() {
            return None;
        }
        // The sole handle, borrowed mutably: nothing else can reach the bytes.
        Some(self.as_ptr().cast_mut())
    }

    /// The bytes as a slice.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: `as_ptr` is valid for `len` initialised bytes (zeroed at allocation, written
        // in full by a `for_overwrite` caller, or mapped).
        unsafe { std::slice::from_raw_parts(self.as_ptr(), self.len()) }
    }

    /// The bytes as a mutable slice, or `None` as for [`as_mut_ptr`](Self::as_mut_ptr).
    pub fn as_bytes_mut(&mut self) -> Option<&mut [u8]> {
        let len = self.len();
        // SAFETY: the sole handle, exclusively borrowed; pointer valid for `len` initialised
        // bytes.
        self.as_mut_ptr()
            .map(|p| unsafe { std::slice::from_raw_parts_mut(p, len) })
    }
}

impl Clone for Buffer {
    /// Another handle to the same bytes (no copy).
    fn clone(&self) -> Buffer {
        // Relaxed, as in `Arc`: the new handle comes from a live one, which keeps the buffer
        // alive, and no data are published by counting.
        let before = self.header().handles.fetch_add(1, Ordering::Relaxed);
        if before > isize::MAX as usize {
            // Leaked handles by the billions: overflow would free a live buffer.
            std::process::abort();
        }
        Buffer {
            header: self.header,
        }
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        // The sole handle (the common case: a temporary array) frees without an atomic
        // read-modify-write: no other handle exists to clone it meanwhile, and the Acquire
        // load sees every read made through handles dropped before.
        if self.handles() != 1 {
            // Release publishes this handle's reads; the last handle's Acquire fence sees
            // them all before the bytes are freed (the `Arc` protocol).
            if self.header().handles.fetch_sub(1, Ordering::Release) != 1 {
                return;
            }
            fence(Ordering::Acquire);
        }
        // SAFETY: this was the last handle, so nothing else reads the header: it is moved out
        // once, and the block (`lead` bytes before it, of the layout it was allocated with)
        // is freed after.
        let (storage, block) = unsafe {
            let Header { lead, storage, .. } = self.header.read();
            (storage, self.header.cast::<u8>().sub(lead))
        };
        let inline_len = match storage {
            Storage::Inline { len } => len,
            Storage::Anon(map) => {
                if let Ok(mut pool) = POOL.lock() {
                    let held: usize = pool.iter().map(|m| m.len()).sum();
                    if pool.len() < POOL_MAX_ENTRIES && held + map.len() <= POOL_MAX_BYTES {
                        pool.push(map);
                    }
                }
                0
            }
            // Dropping the owner here gives the memory back to whoever lent it.
            Storage::File { .. } | Storage::Foreign { .. } => 0,
        };
        // SAFETY: `block` came from `with_header` with `block_layout(inline_len)`, which
        // succeeded then and gives the same layout now.
        unsafe {
            alloc::dealloc(
                block.as_ptr(),
                block_layout(inline_len).expect("checked when allocated"),
            )
        };
    }
}

/// The system allocation behind a buffer with `inline_len` data bytes after its header.
fn block_layout(inline_len: usize) -> Result<Layout> {
    inline_len
        .checked_add(HEADER_SIZE + HEAP_SLACK)
        .and_then(|n| Layout::from_size_align(n, MALLOC_ALIGN).ok())
        .ok_or_else(|| Error::overflow(format!("buffer of {inline_len} bytes")))
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.header().storage {
            Storage::Inline { .. } => "heap",
            Storage::Anon(_) => "anonymous map",
            Storage::File { .. } => "file map",
            Storage::Foreign { writable: true, .. } => "foreign, writable",
            Storage::Foreign { .. } => "foreign, read-only",
        };
        write!(f, "Buffer({} bytes, {kind})", self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_is_aligned_and_zero() {
        for len in [0usize, 1, 63, 64, 1000] {
            let b = Buffer::zeroed(len).unwrap();
            assert_eq!(b.len(), len);
            assert_eq!(b.as_ptr() as usize % BUFFER_ALIGN, 0);
            assert!(b.as_bytes().iter().all(|&x| x == 0));
        }
    }

    #[test]
    fn handles_share_bytes_and_writes_need_the_sole_handle() {
        let mut a = Buffer::zeroed(100).unwrap();
        a.as_bytes_mut().unwrap()[7] = 42;
        let b = a.clone();
        assert_eq!((a.handles(), b.handles()), (2, 2));
        assert!(Buffer::same(&a, &b) && b.as_bytes()[7] == 42);
        assert!(a.as_mut_ptr().is_none(), "shared: no writes");
        let c = std::thread::spawn(move || b.as_bytes()[7]).join().unwrap();
        assert_eq!((c, a.handles()), (42, 1));
        assert!(a.as_mut_ptr().is_some(), "sole handle again");
        assert!(!Buffer::same(&a, &Buffer::zeroed(100).unwrap()));
    }

    /// Counts how often it is dropped, to prove a foreign owner is released exactly once.
    struct Lender {
        data: Vec<f64>,
        drops: std::sync::Arc<AtomicUsize>,
    }
    impl Drop for Lender {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn lend(values: Vec<f64>, writable: bool) -> (Buffer, std::sync::Arc<AtomicUsize>) {
        let drops = std::sync::Arc::new(AtomicUsize::new(0));
        let mut lender = Lender {
            data: values,
            drops: drops.clone(),
        };
        // `as_mut_ptr`: the pointer is written through when the buffer is writable.
        let (ptr, len) = (lender.data.as_mut_ptr().cast::<u8>(), lender.data.len() * 8);
        // SAFETY: the Vec's heap block does not move when the `Lender` is moved into the
        // buffer, stays alive with it, and nothing else touches it.
        let b = unsafe { Buffer::from_foreign(ptr, len, lender, writable) }.unwrap();
        (b, drops)
    }

    #[test]
    fn foreign_memory_is_shared_and_its_owner_dropped_once() {
        let (a, drops) = lend(vec![1.0, 2.0, 3.0], false);
        assert_eq!(a.len(), 24);
        assert!(a.is_foreign() && a.is_read_only());
        assert_eq!(&a.as_bytes()[8..16], &2.0f64.to_ne_bytes());
        let b = a.clone();
        let c = std::thread::spawn(move || b.as_bytes()[8..16].to_vec())
            .join()
            .unwrap();
        assert_eq!(c, 2.0f64.to_ne_bytes());
        assert_eq!(drops.load(Ordering::SeqCst), 0, "a handle is still alive");
        let mut a = a;
        assert!(a.as_mut_ptr().is_none(), "lent read-only: no writes");
        drop(a);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "released with the last handle"
        );
    }

    #[test]
    fn writable_foreign_memory_is_written_by_the_sole_handle() {
        let (mut a, drops) = lend(vec![0.0; 4], true);
        assert!(!a.is_read_only());
        a.as_bytes_mut().unwrap()[..8].copy_from_slice(&5.0f64.to_ne_bytes());
        let b = a.clone();
        assert!(a.as_mut_ptr().is_none(), "shared: no writes");
        drop(b);
        assert_eq!(&a.as_bytes()[..8], &5.0f64.to_ne_bytes());
        drop(a);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn empty_foreign_memory_may_have_a_null_pointer() {
        // SAFETY: zero bytes are read.
        let b = unsafe { Buffer::from_foreign(std::ptr::null(), 0, (), false) }.unwrap();
        assert!(b.is_empty() && b.as_bytes().is_empty());
        // SAFETY: never dereferenced: the call fails first.
        let bad = unsafe { Buffer::from_foreign(std::ptr::null(), 8, (), false) };
        assert!(bad.is_err());
    }

    #[test]
    #[cfg_attr(miri, ignore = "anonymous mmap is not emulated by Miri")]
    fn absurd_allocation_is_an_error() {
        assert!(Buffer::zeroed(usize::MAX / 2).is_err());
    }
}
