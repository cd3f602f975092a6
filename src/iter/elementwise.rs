//! The one strided loop driver behind copies, ufuncs and in-place operations.
//!
//! Given an output and `N` inputs over one (already broadcast) shape, it plans the axes
//! (`plan_axes`: length-1 axes dropped, ordered by the output's strides, contiguous axes
//! merged), then calls an inner-loop kernel on runs of elements with per-operand byte strides:
//! - little work over operands that each walk their elements in one stride is one run, and
//!   over two axes one run per row, without planning;
//! - otherwise usually one run per position of the outer axes, along the innermost axis;
//! - when an input is transposed relative to the output (its step along the inner axis jumps
//!   through memory while another axis is small), the two axes are walked in cache-sized tiles
//!   so every source cache line is used fully while it is in L1 (8-byte inputs re-ordered
//!   through a register transpose, the next tile prefetched);
//! - work of at least `PARALLEL_BYTES` is split across rayon threads along the outermost axis.

use rayon::prelude::*;

use super::plan::{AxisPlan, plan_axes};
use super::transpose_tile::{TileBuffer, prefetch, transpose_into};
use crate::cpu::{SimdLevel, simd_level};
use crate::iter::send_ptr::SendPtr;
use crate::layout::{Dims, Strides};

/// Tile edge for transposed operands: 32 lines of 64 bytes per operand stay in L1 (measured best
/// of 16/32/64/128 for f64 transposes on Zen 4, see BENCHMARKS.md).
pub const TILE: usize = 32;

/// Below this many bytes touched (all operands), work stays on the calling thread. Measured
/// for `a + b` f64 on the 2-core Zen 4 (BENCHMARKS.md): two threads lose 1.56× at 1176 KiB,
/// win 1.1× at 1536 KiB and 2.4× at 2400 KiB, so the crossover is taken at 1.5 MiB.
pub const PARALLEL_BYTES: usize = 3 << 19;

thread_local! {
    static TILE_BUFFERS: std::cell::Cell<Vec<TileBuffer>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Tiles prefetch their successors only above this many bytes touched: the L2 size of a
/// Zen 4 core (1 MiB), below which the operands are cache-resident after the first call.
const PREFETCH_MIN_BYTES: usize = 1 << 20;

/// An inner loop: `n` elements at `out + i*out_stride` and `ins[k] + i*in_strides[k]`.
pub trait Kernel<const N: usize>: Sync {
    /// # Safety
    /// All `n` positions of every operand are in bounds; the output positions are exclusively
    /// the caller's and do not overlap the inputs.
    unsafe fn run(
        &self,
        out: *mut u8,
        out_stride: isize,
        ins: [*const u8; N],
        in_strides: [isize; N],
        n: usize,
    );

    /// The element size of each input in bytes, where the kernel knows it: an 8-byte input
    /// that is transposed relative to the output is then re-ordered tile by tile
    /// (`iter::transpose_tile`) instead of read one element per cache line. 0: unknown.
    fn input_sizes(&self) -> [usize; N] {
        [0; N]
    }
}

/// Runs `kernel` over every element of `shape`.
///
/// `out` and `ins[k]` point at element zero; strides are in bytes. `bytes_per_element` (all
/// operands together) sizes the parallel split.
///
/// # Safety
/// - Every index of `shape` is in bounds for every operand.
/// - The output maps distinct indices to disjoint bytes, no one else accesses them during the
///   call, and they do not overlap any input's bytes.
pub unsafe fn run<const N: usize, K: Kernel<N>>(
    shape: &[usize],
    out: *mut u8,
    out_strides: &[isize],
    ins: [(*const u8, &[isize]); N],
    bytes_per_element: usize,
    kernel: &K,
) {
    if shape.contains(&0) {
        return;
    }
    // Little work over operands that each walk their elements in one stride (packed arrays of
    // the same order, the usual small call): nothing to plan, one run. Planning (sorting and
    // merging axes, moving the plan around) costs more than a tiny call's arithmetic
    // (BENCHMARKS.md, "1×1 to 64×64").
    let size: usize = shape.iter().product();
    let small = size.saturating_mul(bytes_per_element) < PARALLEL_BYTES;
    if small
        && let Some(out_step) = single_stride(shape, out_strides)
        && let Some(in_steps) = ins
            .iter()
            .try_fold(([0isize; N], 0), |(mut steps, k), (_, st)| {
                steps[k] = single_stride(shape, st)?;
                Some((steps, k + 1))
            })
    {
        // SAFETY: forwarded from the caller: element i of the run is the i-th index of
        // `shape` in C order, at `i * step` from element zero for every operand.
        unsafe {
            kernel.run(
                out,
                out_step,
                std::array::from_fn(|k| ins[k].0),
                in_steps.0,
                size,
            )
        };
        return;
    }
    // SAFETY: forwarded from the caller.
    if small && unsafe { run_two_axes(shape, out, out_strides, &ins, kernel) } {
        return;
    }
    let mut all: smallvec::SmallVec<[&[isize]; 4]> = smallvec::SmallVec::with_capacity(N + 1);
    all.push(out_strides);
    all.extend(ins.iter().map(|(_, s)| *s));
    let plan = plan_axes(shape, &all);
    let in_ptrs: [*const u8; N] = std::array::from_fn(|k| ins[k].0);
    let total = plan.size().saturating_mul(bytes_per_element);
    if total >= PARALLEL_BYTES
        && plan.ndim() >= 1
        && plan.shape[0] >= 2
        && rayon::current_num_threads() > 1
    {
        let n0 = plan.shape[0];
        let per = n0
            .div_ceil(4 * rayon::current_num_threads())
            .next_multiple_of(TILE)
            .min(n0);
        let (outp, inp) = (SendPtr(out), SendPtr(in_ptrs));
        (0..n0.div_ceil(per)).into_par_iter().for_each(|c| {
            let (outp, inp) = (outp, inp);
            let lo = c * per;
            let mut sub = plan.clone();
            sub.shape[0] = per.min(n0 - lo);
            // SAFETY: row `lo` of axis 0 is in bounds for every operand; chunks own disjoint
            // output rows.
            unsafe {
                let o = outp.0.offset(lo as isize * plan.strides[0][0]);
                let i: [*const u8; N] =
                    std::array::from_fn(|k| inp.0[k].offset(lo as isize * plan.strides[k + 1][0]));
                run_planned(&sub, o, i, kernel);
            }
        });
    } else {
        // SAFETY: forwarded from the caller.
        unsafe { run_planned(&plan, out, in_ptrs, kernel) };
    }
}

/// Runs `kernel` over a shape of two axes longer than one, without planning: the axis along
/// which the output steps least is the inner one, as [`plan_axes`] would order them. Returns
/// false, having done nothing, for other shapes and where an input is transposed so that
/// [`run_planned`] would walk it in tiles: small transposed copies and ufuncs need no plan.
///
/// # Safety
/// As [`run`].
unsafe fn run_two_axes<const N: usize, K: Kernel<N>>(
    shape: &[usize],
    out: *mut u8,
    out_strides: &[isize],
    ins: &[(*const u8, &[isize]); N],
    kernel: &K,
) -> bool {
    let mut axes = (0..shape.len()).filter(|&a| shape[a] != 1);
    let (Some(a0), Some(a1), None) = (axes.next(), axes.next(), axes.next()) else {
        return false;
    };
    // Ties keep the original order (a1 inner), as the stable sort in `plan_axes` does.
    let (outer, inner) = if out_strides[a0].unsigned_abs() < out_strides[a1].unsigned_abs() {
        (a1, a0)
    } else {
        (a0, a1)
    };
    let tiled = ins
        .iter()
        .any(|(_, st)| st[inner].unsigned_abs() > 64 && st[outer].unsigned_abs() <= 64);
    if tiled {
        return false;
    }
    let in_steps: [isize; N] = std::array::from_fn(|k| ins[k].1[inner]);
    for r in 0..shape[outer] as isize {
        // SAFETY: row r of the outer axis is in bounds for every operand (the caller's
        // promise for every index of `shape`), and the run covers the inner axis.
        unsafe {
            kernel.run(
                out.offset(r * out_strides[outer]),
                out_strides[inner],
                std::array::from_fn(|k| ins[k].0.offset(r * ins[k].1[outer])),
                in_steps,
                shape[inner],
            )
        };
    }
    true
}

/// The one stride that walks every element of `shape` in C order with these strides, if there
/// is one: each axis (length-1 axes aside) steps exactly over the next inner one. `Some(0)` for
/// a single element.
#[inline]
fn single_stride(shape: &[usize], strides: &[isize]) -> Option<isize> {
    // (length, stride) of the axis last looked at, and the innermost axis' stride.
    let mut next: Option<(usize, isize)> = None;
    let mut innermost = 0;
    for (&d, &s) in shape.iter().zip(strides).rev() {
        if d == 1 {
            continue;
        }
        match next {
            Some((n, step)) if (step as i128) * (n as i128) != s as i128 => return None,
            Some(_) => {}
            None => innermost = s,
        }
        next = Some((d, s));
    }
    Some(innermost)
}

/// # Safety
/// As [`run`], for a planned shape.
unsafe fn run_planned<const N: usize, K: Kernel<N>>(
    plan: &AxisPlan,
    out: *mut u8,
    ins: [*const u8; N],
    kernel: &K,
) {
    let nd = plan.ndim();
    if nd == 0 {
        // SAFETY: a single in-bounds element.
        unsafe { kernel.run(out, 0, ins, [0; N], 1) };
        return;
    }
    let inner = nd - 1;
    let st = |op: usize, ax: usize| plan.strides[op][ax];
    // A transposed input: its inner step jumps (> one cache line) while another axis is small.
    let tile_axis = (1..=N).find_map(|op| {
        let fast = (0..nd).min_by_key(|&a| st(op, a).unsigned_abs())?;
        (fast != inner && st(op, inner).unsigned_abs() > 64 && st(op, fast).unsigned_abs() <= 64)
            .then_some(fast)
    });
    let outer: Dims = (0..nd)
        .filter(|&a| a != inner && Some(a) != tile_axis)
        .collect();
    let mut idx: Dims = smallvec::smallvec![0usize; outer.len()];
    let mut pos: Strides = smallvec::smallvec![0isize; N + 1];
    loop {
        // SAFETY: `pos` is the position of an in-bounds outer index for every operand.
        unsafe {
            let o = out.offset(pos[0]);
            let i: [*const u8; N] = std::array::from_fn(|k| ins[k].offset(pos[k + 1]));
            match tile_axis {
                Some(t) => run_tiles(plan, t, inner, o, i, kernel),
                None => kernel.run(
                    o,
                    st(0, inner),
                    i,
                    std::array::from_fn(|k| st(k + 1, inner)),
                    plan.shape[inner],
                ),
            }
        }
        // Odometer over the outer axes.
        let mut k = outer.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            let a = outer[k];
            idx[k] += 1;
            for (op, p) in pos.iter_mut().enumerate() {
                *p += st(op, a);
            }
            if idx[k] < plan.shape[a] {
                break;
            }
            for (op, p) in pos.iter_mut().enumerate() {
                *p -= st(op, a) * plan.shape[a] as isize;
            }
            idx[k] = 0;
        }
    }
}

/// Walks axes `r` (small input step) and `c` (the output's inner axis) in `TILE × TILE` blocks,
/// calling the kernel on runs of up to `TILE` along `c`. On AVX2 and AVX-512, an input with
/// 8-byte elements that is contiguous along `r` is first transposed into a tile buffer, so the
/// kernel reads it contiguously; and every operand's next tile is prefetched.
///
/// # Safety
/// As [`run`].
unsafe fn run_tiles<const N: usize, K: Kernel<N>>(
    plan: &AxisPlan,
    r: usize,
    c: usize,
    out: *mut u8,
    ins: [*const u8; N],
    kernel: &K,
) {
    let (nr, nc) = (plan.shape[r], plan.shape[c]);
    let st = |op: usize, ax: usize| plan.strides[op][ax];
    let cs: [isize; N] = std::array::from_fn(|k| st(k + 1, c));
    // Inputs re-ordered through a tile buffer: 8-byte elements, contiguous along `r`.
    let sizes = kernel.input_sizes();
    let vector_transpose = cfg!(target_arch = "x86_64") && simd_level() != SimdLevel::Portable;
    let buffered: [bool; N] = std::array::from_fn(|k| {
        vector_transpose && sizes[k] == 8 && st(k + 1, r) == 8 && cs[k].unsigned_abs() > 64
    });
    // This thread's buffers from earlier calls (zeroing 8 KiB per operand per call was 4% of
    // a 64×64 `a + b.t()`); taken out of the cell, so a nested call would make its own.
    let mut bufs = TILE_BUFFERS.take();
    if bufs.len() < N {
        bufs.resize_with(N, TileBuffer::new);
    }
    // Prefetching pays for operands streamed from memory; on ones that fit in L2 its loops
    // are pure overhead (15% of a 64×64 `a + b.t()`).
    let touched = sizes.iter().sum::<usize>() + st(0, c).unsigned_abs();
    let prefetching = nr.saturating_mul(nc).saturating_mul(touched) > PREFETCH_MIN_BYTES;
    for r0 in (0..nr).step_by(TILE) {
        let rows = TILE.min(nr - r0);
        for c0 in (0..nc).step_by(TILE) {
            let len = TILE.min(nc - c0);
            let corner: [*const u8; N] = std::array::from_fn(|k| {
                // SAFETY: (r0, c0) is in bounds on both axes.
                unsafe { ins[k].offset(r0 as isize * st(k + 1, r) + c0 as isize * cs[k]) }
            });
            if prefetching && c0 + TILE < nc {
                // The next tile along c, while this one is worked on: its runs are far apart
                // (up to 2·TILE streams across as many pages), which the hardware prefetchers
                // do not follow in time. Fetching the output's lines too takes the
                // read-for-ownership of fresh output pages off the critical path.
                let next_len = TILE.min(nc - c0 - TILE);
                let step_c = TILE as isize;
                let oc = st(0, c);
                if oc > 0 && oc <= 16 {
                    let o =
                        out.wrapping_offset(r0 as isize * st(0, r) + (c0 as isize + step_c) * oc);
                    prefetch(o, st(0, r), next_len * oc as usize, rows);
                }
                for k in (0..N).filter(|&k| sizes[k] > 0) {
                    let next = corner[k].wrapping_offset(step_c * cs[k]);
                    let size = sizes[k] as isize;
                    if st(k + 1, r) == size {
                        prefetch(next, cs[k], rows * sizes[k], next_len);
                    } else if cs[k] == size {
                        prefetch(next, st(k + 1, r), next_len * sizes[k], rows);
                    }
                }
            }
            for k in (0..N).filter(|&k| buffered[k]) {
                // SAFETY: the tile's rows × len elements are in bounds for input k, which
                // is contiguous along r with 8-byte elements.
                unsafe { transpose_into(&mut bufs[k], corner[k], cs[k], rows, len) };
            }
            for ri in 0..rows {
                let i: [*const u8; N] = std::array::from_fn(|k| {
                    if buffered[k] {
                        bufs[k].0[ri * TILE..].as_ptr() as *const u8
                    } else {
                        // SAFETY: (r0 + ri, c0) is in bounds.
                        unsafe { corner[k].offset(ri as isize * st(k + 1, r)) }
                    }
                });
                let is: [isize; N] = std::array::from_fn(|k| if buffered[k] { 8 } else { cs[k] });
                // SAFETY: (r0 + ri, c0 .. c0 + len) is in bounds on both axes; buffered
                // inputs read `len` elements of their tile buffer's row ri.
                unsafe {
                    let o = out.offset((r0 + ri) as isize * st(0, r) + c0 as isize * st(0, c));
                    kernel.run(o, st(0, c), i, is, len);
                }
            }
        }
    }
    TILE_BUFFERS.set(bufs);
}
