//! Strided element copy between two layouts of the same shape, on the elementwise engine:
//! contiguous runs become `memcpy`, transposed sources go through the engine's tiles, large
//! copies split across threads.

use super::elementwise::{self, Kernel};
use crate::layout::Layout;

/// Copies one element type's worth of bytes per element.
struct CopyKernel<W>(std::marker::PhantomData<W>);

impl<W: Copy + Send + Sync> Kernel<1> for CopyKernel<W> {
    #[inline]
    unsafe fn run(&self, out: *mut u8, os: isize, ins: [*const u8; 1], is: [isize; 1], n: usize) {
        let w = std::mem::size_of::<W>() as isize;
        // SAFETY: the engine guarantees `n` in-bounds positions for both operands, disjoint.
        unsafe {
            if os == w && is[0] == w {
                std::ptr::copy_nonoverlapping(ins[0], out, n * w as usize);
            } else {
                for i in 0..n as isize {
                    let v = (ins[0].offset(i * is[0]) as *const W).read_unaligned();
                    (out.offset(i * os) as *mut W).write_unaligned(v);
                }
            }
        }
    }
    fn input_sizes(&self) -> [usize; 1] {
        [size_of::<W>()]
    }
}

/// Copies every element of `src_layout` (over the buffer at `src`) to the same index of
/// `dst_layout` (over the buffer at `dst`).
///
/// # Safety
/// - Both layouts have the same shape and are in bounds of their buffers for `itemsize`-byte
///   elements (`Layout::check_in_buffer`).
/// - `dst_layout` maps distinct indices to disjoint bytes, `dst` is valid for writes of those
///   bytes, and no one else accesses them during the call.
/// - The destination bytes do not overlap the source bytes.
pub unsafe fn copy_strided(
    dst: *mut u8,
    dst_layout: &Layout,
    src: *const u8,
    src_layout: &Layout,
    itemsize: usize,
) {
    debug_assert_eq!(dst_layout.shape, src_layout.shape);
    if dst_layout.shape.contains(&0) {
        return;
    }
    // SAFETY: offsets of non-empty in-bounds layouts are inside their buffers.
    let (d, s) = unsafe { (dst.add(dst_layout.offset), src.add(src_layout.offset)) };
    let shape = &dst_layout.shape;
    let ins = [(s, &src_layout.strides[..])];
    let bytes = 2 * itemsize;
    // SAFETY: forwarded from the caller; the item size selects an element type of that size.
    unsafe {
        match itemsize {
            1 => elementwise::run(
                shape,
                d,
                &dst_layout.strides,
                ins,
                bytes,
                &CopyKernel::<u8>(Default::default()),
            ),
            2 => elementwise::run(
                shape,
                d,
                &dst_layout.strides,
                ins,
                bytes,
                &CopyKernel::<u16>(Default::default()),
            ),
            4 => elementwise::run(
                shape,
                d,
                &dst_layout.strides,
                ins,
                bytes,
                &CopyKernel::<u32>(Default::default()),
            ),
            8 => elementwise::run(
                shape,
                d,
                &dst_layout.strides,
                ins,
                bytes,
                &CopyKernel::<u64>(Default::default()),
            ),
            _ => unreachable!("dtypes have item sizes 1, 2, 4 or 8"),
        }
    }
}
