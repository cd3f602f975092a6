//! Strided element copy between two layouts of the same shape: contiguous runs become
//! `memcpy`, a transposed inner axis goes through cache-sized tiles, large copies split
//! across rayon threads along the outermost axis.

use rayon::prelude::*;

use super::plan::{AxisPlan, plan_axes};
use crate::layout::Layout;

/// Tile edge for the blocked transpose: a 32×32 tile of 8-byte elements is 8 KiB of source
/// lines plus 8 KiB of destination, well inside Zen 4's 32 KiB L1d.
const TILE: usize = 32;

/// Copies below this many bytes stay on the calling thread: splitting costs ~10 µs of rayon
/// wake-up, which a 1 MiB copy (~50 µs) can still amortise.
const PARALLEL_BYTES: usize = 1 << 20;

/// A raw pointer that may cross to rayon workers.
#[derive(Clone, Copy)]
struct SendPtr<P>(P);
// SAFETY: the workers write disjoint element sets of the destination (they own disjoint
// ranges of the outermost axis of an overlap-free layout) and only read the source.
unsafe impl<P> Send for SendPtr<P> {}
// SAFETY: as above.
unsafe impl<P> Sync for SendPtr<P> {}

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
    let plan = plan_axes(
        &dst_layout.shape,
        &[&dst_layout.strides, &src_layout.strides],
    );
    // SAFETY: offsets are inside the buffers (in-bounds layouts with at least one element).
    let (d0, s0) = unsafe { (dst.add(dst_layout.offset), src.add(src_layout.offset)) };
    let bytes = plan.size() * itemsize;
    if bytes >= PARALLEL_BYTES
        && plan.ndim() >= 1
        && plan.shape[0] >= 2
        && rayon::current_num_threads() > 1
    {
        let (d0, s0) = (SendPtr(d0), SendPtr(s0));
        let n0 = plan.shape[0];
        // Chunks in whole tiles, a few per thread so uneven cores still balance.
        let per = n0
            .div_ceil(4 * rayon::current_num_threads())
            .max(1)
            .next_multiple_of(TILE)
            .min(n0);
        (0..n0.div_ceil(per)).into_par_iter().for_each(|c| {
            let (d0, s0) = (d0, s0);
            let lo = c * per;
            let mut sub = plan.clone();
            sub.shape[0] = per.min(n0 - lo);
            // SAFETY: row `lo` of axis 0 is inside both layouts; the chunks own disjoint rows.
            unsafe {
                let d = d0.0.offset(lo as isize * plan.strides[0][0]);
                let s = s0.0.offset(lo as isize * plan.strides[1][0]);
                copy_planned(d, s, &sub, itemsize);
            }
        });
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { copy_planned(d0, s0, &plan, itemsize) };
    }
}

/// # Safety
/// `d` and `s` point at element zero of in-bounds layouts described by `plan`.
unsafe fn copy_planned(d: *mut u8, s: *const u8, plan: &AxisPlan, itemsize: usize) {
    // SAFETY (all arms): forwarded; the item size selects an element type of that size.
    unsafe {
        match itemsize {
            1 => copy_typed::<u8>(d, s, plan),
            2 => copy_typed::<u16>(d, s, plan),
            4 => copy_typed::<u32>(d, s, plan),
            8 => copy_typed::<u64>(d, s, plan),
            _ => unreachable!("dtypes have item sizes 1, 2, 4 or 8"),
        }
    }
}

/// # Safety
/// As `copy_planned`, with `size_of::<W>() == itemsize`.
unsafe fn copy_typed<W: Copy>(d: *mut u8, s: *const u8, plan: &AxisPlan) {
    let w = std::mem::size_of::<W>() as isize;
    let nd = plan.ndim();
    if nd == 0 {
        // SAFETY: one element at each pointer.
        unsafe { (d as *mut W).write_unaligned((s as *const W).read_unaligned()) };
        return;
    }
    let (ds, ss) = (&plan.strides[0], &plan.strides[1]);
    let inner = nd - 1;
    // The source axis with the smallest step, if it is not the output's inner axis and the
    // inner axis jumps through memory: tile those two axes so source lines are reused.
    let src_fast = (0..nd)
        .min_by_key(|&a| ss[a].unsigned_abs())
        .expect("nd > 0");
    let tiled =
        src_fast != inner && ss[inner].unsigned_abs() > 64 && ss[src_fast].unsigned_abs() <= 64;
    let outer_axes: Vec<usize> = (0..nd)
        .filter(|&a| a != inner && !(tiled && a == src_fast))
        .collect();
    let mut idx = vec![0usize; outer_axes.len()];
    let (mut dpos, mut spos) = (0isize, 0isize);
    loop {
        // SAFETY: (dpos, spos) is the position of an in-bounds outer index.
        unsafe {
            let (dp, sp) = (d.offset(dpos), s.offset(spos));
            if tiled {
                copy_tiles::<W>(
                    dp,
                    sp,
                    plan.shape[src_fast],
                    ds[src_fast],
                    ss[src_fast],
                    plan.shape[inner],
                    ds[inner],
                    ss[inner],
                );
            } else if ds[inner] == w && ss[inner] == w {
                std::ptr::copy_nonoverlapping(sp, dp, plan.shape[inner] * w as usize);
            } else {
                copy_run::<W>(dp, sp, plan.shape[inner], ds[inner], ss[inner]);
            }
        }
        // Odometer over the outer axes.
        let mut k = outer_axes.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            let a = outer_axes[k];
            idx[k] += 1;
            dpos += ds[a];
            spos += ss[a];
            if idx[k] < plan.shape[a] {
                break;
            }
            dpos -= ds[a] * plan.shape[a] as isize;
            spos -= ss[a] * plan.shape[a] as isize;
            idx[k] = 0;
        }
    }
}

/// # Safety
/// `n` elements at steps `dstep`/`sstep` are in bounds.
#[inline(always)]
unsafe fn copy_run<W: Copy>(d: *mut u8, s: *const u8, n: usize, dstep: isize, sstep: isize) {
    for i in 0..n as isize {
        // SAFETY: i < n.
        unsafe {
            (d.offset(i * dstep) as *mut W)
                .write_unaligned((s.offset(i * sstep) as *const W).read_unaligned())
        };
    }
}

/// Copies an `nr × nc` block where the source is fast along rows and the output along columns.
///
/// # Safety
/// Every `(r, c)` with `r < nr`, `c < nc` is in bounds of both layouts.
#[allow(clippy::too_many_arguments)]
unsafe fn copy_tiles<W: Copy>(
    d: *mut u8,
    s: *const u8,
    nr: usize,
    dr: isize,
    sr: isize,
    nc: usize,
    dc: isize,
    sc: isize,
) {
    for r0 in (0..nr).step_by(TILE) {
        let r1 = (r0 + TILE).min(nr);
        for c0 in (0..nc).step_by(TILE) {
            let c1 = (c0 + TILE).min(nc);
            for r in r0..r1 {
                // SAFETY: r < nr and c0..c1 within nc.
                unsafe {
                    let dp = d.offset(r as isize * dr + c0 as isize * dc);
                    let sp = s.offset(r as isize * sr + c0 as isize * sc);
                    copy_run::<W>(dp, sp, c1 - c0, dc, sc);
                }
            }
        }
    }
}
