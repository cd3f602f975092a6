//! Raw, 64-byte aligned, reference-counted storage for array data.
//!
//! A `Buffer` is only bytes: it knows nothing of shapes or dtypes. Arrays share one through an
//! `Arc`; writing requires `&mut Buffer`, which `Arc::get_mut` hands out only to the sole owner,
//! so a write can never race with a read through another array (see `array::views`).

use std::alloc::{self, Layout};
use std::ptr::NonNull;

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
/// consolidate the free lists (6% of a 64×64 `a + b`, measured with perf). Over-allocating by
/// `BUFFER_ALIGN - MALLOC_ALIGN` bytes and rounding the pointer up avoids both.
const MALLOC_ALIGN: usize = 16;
const HEAP_SLACK: usize = BUFFER_ALIGN - MALLOC_ALIGN;

enum Storage {
    /// `ptr` is `lead` bytes into a `len + HEAP_SLACK` byte block from the system allocator
    /// (align `MALLOC_ALIGN`), rounded up to `BUFFER_ALIGN`; `len == 0` uses an aligned
    /// dangling pointer and no block.
    Heap {
        ptr: NonNull<u8>,
        len: usize,
        lead: usize,
    },
    /// Large zeroed buffers (page aligned).
    Anon(memmap2::MmapMut),
    /// A read-only file mapping; the array's bytes are `map[start..start + len]`.
    File {
        map: memmap2::Mmap,
        start: usize,
        len: usize,
    },
}

pub struct Buffer {
    storage: Storage,
}

// SAFETY: the Heap pointer is uniquely owned by this Buffer (like a Box<[u8]>); shared access
// only reads, and mutation needs `&mut Buffer`. The memmap variants are Send + Sync themselves.
unsafe impl Send for Buffer {}
// SAFETY: see above; `&Buffer` only exposes a `*const u8` for reading.
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
        if len == 0 {
            let dangling = NonNull::new(std::ptr::without_provenance_mut::<u8>(BUFFER_ALIGN))
                .expect("BUFFER_ALIGN is nonzero");
            return Ok(Buffer {
                storage: Storage::Heap {
                    ptr: dangling,
                    len: 0,
                    lead: 0,
                },
            });
        }
        if len >= HUGE_PAGE_THRESHOLD {
            if !zero
                && let Ok(mut pool) = POOL.lock()
                && let Some(i) = pool.iter().position(|m| m.len() == len)
            {
                return Ok(Buffer {
                    storage: Storage::Anon(pool.swap_remove(i)),
                });
            }
            let map = memmap2::MmapMut::map_anon(len).map_err(|e| {
                Error::invalid(format!("could not allocate {len} bytes for an array: {e}"))
            })?;
            #[cfg(target_os = "linux")]
            {
                // Advice only: a kernel without THP ignores it, which is fine.
                let _ = map.advise(memmap2::Advice::HugePage);
            }
            return Ok(Buffer {
                storage: Storage::Anon(map),
            });
        }
        let layout = heap_layout(len)?;
        // SAFETY: layout has nonzero size (len > 0 checked above). Uninitialised bytes are only
        // requested by `for_overwrite`, whose caller writes them all before any read.
        let block = unsafe {
            if zero {
                alloc::alloc_zeroed(layout)
            } else {
                alloc::alloc(layout)
            }
        };
        let block = NonNull::new(block).ok_or_else(|| {
            Error::invalid(format!("could not allocate {len} bytes for an array"))
        })?;
        // The block is MALLOC_ALIGN-aligned, so rounding up to BUFFER_ALIGN moves at most
        // HEAP_SLACK bytes.
        let lead = block.as_ptr().addr().wrapping_neg() % BUFFER_ALIGN;
        debug_assert!(lead <= HEAP_SLACK);
        // SAFETY: lead <= HEAP_SLACK, so `lead..lead + len` lies inside the block.
        let ptr = unsafe { block.add(lead) };
        Ok(Buffer {
            storage: Storage::Heap { ptr, len, lead },
        })
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
        Ok(Buffer {
            storage: Storage::File { map, start, len },
        })
    }

    pub fn len(&self) -> usize {
        match &self.storage {
            Storage::Heap { len, .. } => *len,
            Storage::Anon(m) => m.len(),
            Storage::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True for a read-only memory map of a file.
    pub fn is_file_mapped(&self) -> bool {
        matches!(self.storage, Storage::File { .. })
    }

    /// Start of the bytes. Valid for reads of `len()` bytes while `self` lives.
    pub fn as_ptr(&self) -> *const u8 {
        match &self.storage {
            Storage::Heap { ptr, .. } => ptr.as_ptr(),
            Storage::Anon(m) => m.as_ptr(),
            // SAFETY: `start <= map.len()` was checked in `from_file_map`.
            Storage::File { map, start, .. } => unsafe { map.as_ptr().add(*start) },
        }
    }

    /// Start of the bytes for writing, or `None` for a read-only file map.
    pub fn as_mut_ptr(&mut self) -> Option<*mut u8> {
        match &mut self.storage {
            Storage::Heap { ptr, .. } => Some(ptr.as_ptr()),
            Storage::Anon(m) => Some(m.as_mut_ptr()),
            Storage::File { .. } => None,
        }
    }

    /// The bytes as a slice.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: `as_ptr` is valid for `len` initialised bytes (zeroed at allocation or mapped).
        unsafe { std::slice::from_raw_parts(self.as_ptr(), self.len()) }
    }

    /// The bytes as a mutable slice, or `None` for a read-only file map.
    pub fn as_bytes_mut(&mut self) -> Option<&mut [u8]> {
        let len = self.len();
        // SAFETY: exclusive borrow of self; pointer valid for `len` initialised bytes.
        self.as_mut_ptr()
            .map(|p| unsafe { std::slice::from_raw_parts_mut(p, len) })
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if let Storage::Anon(map) = &self.storage
            && let Ok(mut pool) = POOL.lock()
        {
            let held: usize = pool.iter().map(|m| m.len()).sum();
            if pool.len() < POOL_MAX_ENTRIES && held + map.len() <= POOL_MAX_BYTES {
                let empty = Storage::Heap {
                    ptr: NonNull::dangling(),
                    len: 0,
                    lead: 0,
                };
                if let Storage::Anon(map) = std::mem::replace(&mut self.storage, empty) {
                    pool.push(map);
                }
                return;
            }
        }
        if let Storage::Heap { ptr, len, lead } = self.storage
            && len > 0
        {
            // SAFETY: `ptr - lead` is the block `allocate` got for `heap_layout(len)`, which
            // succeeded then and gives the same layout now.
            unsafe {
                alloc::dealloc(
                    ptr.as_ptr().sub(lead),
                    heap_layout(len).expect("checked when allocated"),
                )
            };
        }
    }
}

/// The system allocation behind a heap buffer of `len > 0` bytes.
fn heap_layout(len: usize) -> Result<Layout> {
    len.checked_add(HEAP_SLACK)
        .and_then(|n| Layout::from_size_align(n, MALLOC_ALIGN).ok())
        .ok_or_else(|| Error::overflow(format!("buffer of {len} bytes")))
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.storage {
            Storage::Heap { .. } => "heap",
            Storage::Anon(_) => "anonymous map",
            Storage::File { .. } => "file map",
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
    #[cfg_attr(miri, ignore = "anonymous mmap is not emulated by Miri")]
    fn absurd_allocation_is_an_error() {
        assert!(Buffer::zeroed(usize::MAX / 2).is_err());
    }
}
