//! The blocked GEMM driver, `C = A · B` for strided f32/f64 matrices.
//!
//! Threads split C into independent blocks of rows (or of columns, when rows are few) and
//! each runs the serial BLIS loop nest on its block, with its own packing buffers, so the
//! threads never wait for each other. (Sharing one packed block between the threads, as BLIS
//! does, lost time to the barriers it needs: BENCHMARKS.md, "Measurements behind choices in the code".) The serial loop nest has
//! BLIS's structure with A and B swapped, because our vector lanes run along C's rows:
//!
//! ```text
//! for ic in 0..m step mc            A block (mc × kc packed)
//!   for pc in 0..k step kc          depth
//!     pack A[ic.., pc..]
//!     for jc in 0..n step nc        B block (kc × nc packed, L2)
//!       pack B[pc.., jc..]
//!       for ir step mr:             A micro-panel (mr × kc) stays in L1
//!         for jr step nr:           B micro-panels stream from L2
//!           micro-kernel            register tile of C
//! ```
//! The first `pc` step overwrites C and later ones accumulate, so C needs no zeroing.
//! Tiles that are cut by C's edges, or whose columns are not unit-stride, go through a
//! scratch tile on the stack.
//!
//! Small products (up to `DIRECT_MAX_MULADDS`) whose B and C rows are unit-stride skip all of
//! this: the direct kernel (`direct.rs`) reads them in place, splitting C's rows between the
//! threads when the product is large enough for two.

use rayon::prelude::*;

use super::direct::DIRECT_MAX_MULADDS;
use super::kernels::{GemmFloat, GemmKernel, KernelFn, MAX_TILE};
use super::pack::{MatRef, pack_a_panel, pack_b_panel};
use super::scratch::{Slot, with_scratch};

/// A writable strided matrix (element units).
#[derive(Clone, Copy)]
pub(crate) struct MatMut<T> {
    pub ptr: *mut T,
    pub rs: isize,
    pub cs: isize,
}

impl<T> MatMut<T> {
    /// Pointer to element `(i, j)`.
    ///
    /// # Safety
    /// `(i, j)` is inside the matrix.
    #[inline(always)]
    pub unsafe fn at(self, i: usize, j: usize) -> *mut T {
        // SAFETY: the caller keeps (i, j) inside the matrix, whose elements are all in bounds.
        unsafe { self.ptr.offset(i as isize * self.rs + j as isize * self.cs) }
    }
}

// SAFETY: threads write disjoint tiles of the matrix (the work split below), and the caller of
// `gemm` guarantees nothing else reads or writes it meanwhile.
unsafe impl<T: Send> Send for MatMut<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for MatMut<T> {}

/// Products smaller than this many flops run on one thread: below it, waking a second thread
/// costs more than it saves. Not tuned finely: n = 64 (serial) and n = 256 (parallel) were
/// measured, the sizes between were not.
const PARALLEL_FLOPS: usize = 2 * 96 * 96 * 96;

/// `C (m × n) = A (m × k) · B (k × n)`, using up to `threads` threads.
///
/// # Safety
/// `a`, `b`, `c` describe matrices of the stated shapes whose every element is in bounds and
/// aligned; `c` is free of self-overlap and shares no memory with `a` or `b`, and nothing else
/// accesses `c` during the call.
pub(crate) unsafe fn gemm<T: GemmFloat + bytemuck::Pod>(
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<T>,
    b: MatRef<T>,
    c: MatMut<T>,
    threads: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for i in 0..m {
            for j in 0..n {
                // SAFETY: (i, j) is inside C.
                unsafe { *c.ptr.offset(i as isize * c.rs + j as isize * c.cs) = T::zero() };
            }
        }
        return;
    }
    // The kernel stores rows of C with unit stride. For a column-major C compute Cᵀ = Bᵀ·Aᵀ,
    // which is the same memory seen row-major.
    if c.cs != 1 && c.rs == 1 {
        let ct = MatMut {
            ptr: c.ptr,
            rs: c.cs,
            cs: c.rs,
        };
        // SAFETY: the same matrices, transposed; the caller's conditions carry over.
        return unsafe { gemm(n, m, k, b.t(), a.t(), ct, threads) };
    }
    let kern = T::gemm_kernel();
    let threads = if 2 * m * n * k < PARALLEL_FLOPS {
        1
    } else {
        threads.max(1)
    };
    if b.cs == 1
        && c.cs == 1
        && m * n * k <= DIRECT_MAX_MULADDS
        && let Some(direct) = T::direct_kernel()
    {
        let m_panels = m.div_ceil(kern.mr);
        let parts = threads.min(m_panels);
        if parts <= 1 {
            // SAFETY: forwarded from the caller; B's and C's rows are unit-stride.
            return unsafe { direct(m, n, k, a, b, c) };
        }
        (0..parts).into_par_iter().for_each(|t| {
            let rows = split(m_panels, parts, t);
            let (i0, i1) = (rows.start * kern.mr, (rows.end * kern.mr).min(m));
            // SAFETY: rows i0 .. i1 are inside A and C, and the parts' rows of C are
            // disjoint; the rest is forwarded from the caller.
            unsafe {
                let a = MatRef {
                    ptr: a.at(i0, 0),
                    ..a
                };
                let c = MatMut {
                    ptr: c.at(i0, 0),
                    ..c
                };
                direct(i1 - i0, n, k, a, b, c);
            }
        });
        return;
    }
    if threads == 1 {
        // SAFETY: forwarded from the caller.
        return unsafe { serial(&kern, m, n, k, a, b, c) };
    }
    let (m_panels, n_panels) = (m.div_ceil(kern.mr), n.div_ceil(kern.nr));
    // Rows first: each thread then packs only its own rows of A (B blocks are packed by each).
    let (tr, tc) = if m_panels >= 2 * threads || m_panels >= n_panels {
        (threads.min(m_panels), 1)
    } else if n_panels >= 2 * threads {
        (1, threads.min(n_panels))
    } else {
        let tr = threads.min(m_panels).max(1);
        (tr, (threads / tr).min(n_panels).max(1))
    };
    (0..tr * tc).into_par_iter().for_each(|t| {
        let rows = split(m_panels, tr, t / tc);
        let cols = split(n_panels, tc, t % tc);
        let (i0, i1) = (rows.start * kern.mr, (rows.end * kern.mr).min(m));
        let (j0, j1) = (cols.start * kern.nr, (cols.end * kern.nr).min(n));
        if i0 >= i1 || j0 >= j1 {
            return;
        }
        // SAFETY: the sub-block offsets are inside the matrices; blocks of different threads
        // cover disjoint parts of C.
        unsafe {
            let a = MatRef {
                ptr: a.at(i0, 0),
                ..a
            };
            let b = MatRef {
                ptr: b.at(0, j0),
                ..b
            };
            let c = MatMut {
                ptr: c.at(i0, j0),
                ..c
            };
            serial(&kern, i1 - i0, j1 - j0, k, a, b, c);
        }
    });
}

/// Part `t` of `0..len` split into `parts` near-equal ranges.
fn split(len: usize, parts: usize, t: usize) -> std::ops::Range<usize> {
    (len * t / parts)..(len * (t + 1) / parts)
}

/// The BLIS loop nest on one thread (see the module docs); `m, n, k > 0`.
///
/// # Safety
/// As for [`gemm`], with C this thread's alone.
unsafe fn serial<T: GemmFloat + bytemuck::Pod>(
    kern: &GemmKernel<T>,
    m: usize,
    n: usize,
    k: usize,
    a: MatRef<T>,
    b: MatRef<T>,
    c: MatMut<T>,
) {
    let (mr, nr) = (kern.mr, kern.nr);
    let kc_max = kern.kc.min(k);
    let mc_max = kern.mc.min(m).next_multiple_of(mr);
    let nc_max = kern.nc.min(n).next_multiple_of(nr);
    with_scratch(Slot::PackedA, mc_max * kc_max, |packed_a: &mut [T]| {
        with_scratch(Slot::PackedB, nc_max * kc_max, |packed_b: &mut [T]| {
            for ic in (0..m).step_by(kern.mc) {
                let mc = kern.mc.min(m - ic);
                for pc in (0..k).step_by(kern.kc) {
                    let kc = kern.kc.min(k - pc);
                    let a_panels = packed_a.chunks_exact_mut(mr * kc).take(mc.div_ceil(mr));
                    for (s, out) in a_panels.enumerate() {
                        let i = s * mr;
                        // SAFETY: rows ic+i .. +live, columns pc..pc+kc are inside A.
                        unsafe { pack_a_panel(a, ic + i, mr.min(mc - i), pc, kc, mr, out) };
                    }
                    for jc in (0..n).step_by(kern.nc) {
                        let nc = kern.nc.min(n - jc);
                        let b_panels = packed_b.chunks_exact_mut(nr * kc).take(nc.div_ceil(nr));
                        for (s, out) in b_panels.enumerate() {
                            let j = s * nr;
                            let live = nr.min(nc - j);
                            let (width, _) = kern.for_width(live);
                            // SAFETY: rows pc..pc+kc, columns jc+j .. +live are inside B.
                            unsafe { pack_b_panel(b, pc, kc, jc + j, live, width, out) };
                        }
                        for ir in 0..mc.div_ceil(mr) {
                            let ap = &packed_a[ir * mr * kc..];
                            let i = ic + ir * mr;
                            let live_rows = mr.min(m - i);
                            for jr in 0..nc.div_ceil(nr) {
                                let bp = &packed_b[jr * nr * kc..];
                                let j = jc + jr * nr;
                                let live_cols = nr.min(n - j);
                                let (width, run) = kern.for_width(live_cols);
                                // SAFETY: (i, j) is inside C.
                                let dst =
                                    unsafe { c.ptr.offset(i as isize * c.rs + j as isize * c.cs) };
                                if live_rows == mr && live_cols == width && c.cs == 1 {
                                    // SAFETY: packed panels hold kc·mr and kc·nr elements; B
                                    // panels start at multiples of nr·kc elements of a
                                    // 64-byte-aligned buffer and nr·size_of::<T>() is a
                                    // multiple of 64; the tile is inside C and ours.
                                    unsafe { run(kc, ap.as_ptr(), bp.as_ptr(), dst, c.rs, pc > 0) };
                                } else {
                                    // SAFETY: as above, with the live part of the tile in C.
                                    unsafe {
                                        edge_tile(
                                            (run, width),
                                            kc,
                                            ap,
                                            bp,
                                            dst,
                                            c,
                                            live_rows,
                                            live_cols,
                                            pc > 0,
                                        )
                                    };
                                }
                            }
                        }
                    }
                }
            }
        })
    });
}

/// A tile cut by C's edges or with strided columns: computed into an aligned scratch tile,
/// then its live part is stored (or added) element by element.
///
/// # Safety
/// As for the kernel call in `Block::run`; the `live_rows × live_cols` part of the tile at
/// `dst` (with C's strides) is inside C and this thread's alone.
#[allow(clippy::too_many_arguments)]
unsafe fn edge_tile<T: GemmFloat>(
    (run, width): (KernelFn<T>, usize),
    kc: usize,
    ap: &[T],
    bp: &[T],
    dst: *mut T,
    c: MatMut<T>,
    live_rows: usize,
    live_cols: usize,
    accumulate: bool,
) {
    #[repr(C, align(64))]
    struct Tile<T>([T; MAX_TILE]);
    let mut tile = Tile([T::zero(); MAX_TILE]);
    let nr = width;
    // SAFETY: the scratch tile has room for mr × width (every kernel's mr · nr <= MAX_TILE)
    // with row stride `width`; panels as in `serial`.
    unsafe {
        run(
            kc,
            ap.as_ptr(),
            bp.as_ptr(),
            tile.0.as_mut_ptr(),
            nr as isize,
            false,
        )
    };
    for (i, tile_row) in tile.0.chunks_exact(nr).take(live_rows).enumerate() {
        for (j, &v) in tile_row[..live_cols].iter().enumerate() {
            // SAFETY: (i, j) is in the live part of the tile, inside C (caller).
            unsafe {
                let p = dst.offset(i as isize * c.rs + j as isize * c.cs);
                *p = if accumulate { *p + v } else { v };
            }
        }
    }
}
