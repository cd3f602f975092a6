//! The cache-tiled driver for the distance micro-kernels (the `Simd` strategy).
//!
//! The output's rows are cut into blocks of `mc` rows, one rayon task each; a task packs its
//! rows of XA once and then walks XB in blocks of `nc` rows, packed into L2-sized panels:
//!
//! ```text
//! task: rows ic .. ic+mc              A block packed (mc × d)
//!   for jc in 0..m step nc            B block packed (d × nc), stays in L2
//!     for ir step mr                  A micro-panel (d × mr), stays in L1
//!       for jr step nr                B micro-panels stream from L2
//!         kernel → tile → strip       register tile, gathered with its row panel's next
//!       strip → output                post-processing and store, a row at a time
//! ```
//! When `d` is larger than `kc`, the feature axis is cut into `kc` chunks and each tile's
//! partial results are combined (sum or max) in a per-task block before the store.
//! Bray–Curtis' kernel keeps two sums per pair (two tiles); the store divides them.
//!
//! For pdist the output is condensed and XB is XA: a task starts its column blocks at its own
//! first row and skips tiles wholly on or below the diagonal, so each pair is computed once.

use rayon::prelude::*;

use super::kernels::{DistFloat, DistKernel, KernelOp, MAX_NR, MAX_TILE};
use crate::cpu::dispatched;
use crate::distance::input::Operand;
use crate::distance::output::{OutputRows, Post};
use crate::dtype::Element;
use crate::linalg::pack::{pack_a_panel, pack_b_panel};
use crate::linalg::scratch::{Slot, with_scratch};

/// Bytes of the packed B block (kept in L2: half of this machine's 2 MiB).
const B_BLOCK_BYTES: usize = 1 << 19;
/// Rows per task at most; fewer when that leaves a thread idle.
const MC_MAX: usize = 192;
/// Feature chunk: the A micro-panel (`kc × mr`) stays in L1 (48 KiB here).
const KC_BYTES: usize = 1 << 15;

/// Every distance `op(xa[i], xb[j])` into `out` (`n × m`, or condensed over `n` with `xb`
/// being `xa`), through `post`.
pub(crate) fn run_tiled<T: DistFloat, O: Element>(
    op: KernelOp,
    xa: &Operand<T>,
    xb: &Operand<T>,
    out: OutputRows<'_, O>,
    post: &Post<'_>,
) {
    let (n, m, d) = (xa.rows, xb.rows, xa.cols);
    assert!(xb.cols == d && out.rows() == (0..n) && out.width() == m);
    if n == 0 || m == 0 {
        return;
    }
    let kern = T::dist_kernel(op);
    let (mr, nr, sums) = (kern.mr, kern.nr, op.sums());
    // Small work stays on this thread (and never touches rayon's pool, which Miri cannot
    // run); the same threshold decides below.
    let parallel = n * m * d.max(1) >= 1 << 15;
    let threads = if parallel {
        rayon::current_num_threads().max(1)
    } else {
        1
    };
    // Enough tasks for rayon to balance (pdist's row blocks have unequal work).
    let mc = n
        .div_ceil(8 * threads)
        .next_multiple_of(mr)
        .clamp(mr, MC_MAX);
    // A two-sum kernel has half the rows: counting both sums' rows gives every op the same
    // feature chunks, so Bray–Curtis' numerators are cityblock's sums bit for bit.
    let kc = (KC_BYTES / (sums * mr * size_of::<T>()))
        .max(1)
        .min(d.max(1));
    let nc = (B_BLOCK_BYTES / (kc * size_of::<T>()))
        .max(nr)
        .min(m.next_multiple_of(nr))
        / nr
        * nr;
    let tiling = Tiling {
        kern,
        op,
        xa,
        xb,
        kc,
        nc,
    };
    let blocks = out.into_blocks(mc);
    if blocks.len() == 1 || !parallel {
        blocks.into_iter().for_each(|b| tiling.task(b, post));
    } else {
        blocks.into_par_iter().for_each(|b| tiling.task(b, post));
    }
}

/// The kernel and the block sizes of one [`run_tiled`] call.
struct Tiling<'a, T: 'static> {
    kern: DistKernel<T>,
    op: KernelOp,
    xa: &'a Operand<T>,
    xb: &'a Operand<T>,
    kc: usize,
    nc: usize,
}

#[repr(C, align(64))]
struct Tile<T>([T; MAX_TILE]);

impl<T: DistFloat> Tiling<'_, T> {
    /// The rows of `out`, one task's.
    fn task<O: Element>(&self, mut out: OutputRows<'_, O>, post: &Post<'_>) {
        let (mr, nr, kc) = (self.kern.mr, self.kern.nr, self.kc);
        let sums = self.op.sums();
        let (d, m) = (self.xa.cols, self.xb.rows);
        let (ic, rows) = (out.rows().start, out.rows().len());
        let condensed = out.is_condensed();
        let chunks = d.div_ceil(kc).max(1);
        let a_panels = rows.div_ceil(mr);
        // The first column this task needs: pdist computes only j > i.
        let j_start = if condensed { ic / nr * nr } else { 0 };
        let a_len = a_panels * mr * kc;
        let b_len = self.nc * kc;
        let acc_len = if chunks > 1 {
            a_panels * sums * mr * self.nc
        } else {
            0
        };
        with_scratch(Slot::PackedA, a_len + acc_len, |scratch: &mut [T]| {
            let (packed_a, acc) = scratch.split_at_mut(a_len);
            with_scratch(Slot::PackedB, b_len, |packed_b: &mut [T]| {
                let mut tile = Tile([T::zero(); MAX_TILE]);
                let mut strip = Strip::new(mr);
                // Two-sum tiles (Bray–Curtis of signed rows) gather their float64 quotients
                // here, so that pdist's condensed rows also take long runs: a tile row at a
                // time, each piece off the cache lines, cost pdist a quarter of its time.
                let mut quotients = (sums == 2 && chunks == 1).then(|| Strip::<f64>::new(mr));
                for jc in (j_start..m).step_by(self.nc) {
                    let cols = self.nc.min(m - jc);
                    for chunk in 0..chunks {
                        let p0 = chunk * kc;
                        let kcc = kc.min(d - p0.min(d));
                        // With several feature chunks A is packed again per column block
                        // (m/nc re-packs of the task's rows, small next to the block's
                        // work), so its scratch holds one chunk.
                        // With d = 0 nothing is packed (the kernel reads nothing): the
                        // operands' pointers may be dangling, so no address is formed.
                        let pack_a = kcc > 0 && (chunks > 1 || jc == j_start);
                        for (s, panel) in packed_a
                            .chunks_exact_mut(mr * kc)
                            .take(if pack_a { a_panels } else { 0 })
                            .enumerate()
                        {
                            let i = s * mr;
                            // SAFETY: rows ic+i .. +live, features p0 .. p0+kcc are inside XA
                            // (the task's rows are output rows, < n), alive while `self` is.
                            unsafe {
                                pack_a_panel(
                                    self.xa.mat,
                                    ic + i,
                                    mr.min(rows - i),
                                    p0,
                                    kcc,
                                    mr,
                                    panel,
                                )
                            };
                        }
                        for (s, panel) in packed_b
                            .chunks_exact_mut(nr * kc)
                            .take(if kcc > 0 { cols.div_ceil(nr) } else { 0 })
                            .enumerate()
                        {
                            let j = s * nr;
                            // SAFETY: XBᵀ is d × m; features p0 .. p0+kcc, rows jc+j .. +live
                            // of XB are inside it, alive while `self` is.
                            unsafe {
                                pack_b_panel(
                                    self.xb.mat.t(),
                                    p0,
                                    kcc,
                                    jc + j,
                                    nr.min(cols - j),
                                    nr,
                                    panel,
                                )
                            };
                        }
                        for ir in 0..a_panels {
                            let i = ic + ir * mr;
                            let live_rows = mr.min(ic + rows - i);
                            for jr in 0..cols.div_ceil(nr) {
                                let j = jc + jr * nr;
                                let live_cols = nr.min(jc + cols - j);
                                if condensed && j + live_cols <= i + 1 {
                                    continue; // every pair in the tile has j <= i
                                }
                                // SAFETY: the A and B micro-panels hold kcc·mr and kcc·nr
                                // elements at multiples of 64 bytes of aligned scratch
                                // (mr·size and nr·size are multiples of 64 for the x86 B
                                // panels; A panels are read by broadcast, unaligned is fine);
                                // the tile holds sums·mr·nr <= MAX_TILE.
                                unsafe {
                                    (self.kern.run)(
                                        kcc,
                                        packed_a[ir * mr * kc..].as_ptr(),
                                        packed_b[jr * nr * kc..].as_ptr(),
                                        tile.0.as_mut_ptr(),
                                    )
                                };
                                let t = &tile.0[..sums * mr * nr];
                                let at = Placement {
                                    i,
                                    j,
                                    rows: live_rows,
                                    cols: live_cols,
                                };
                                if chunks == 1 && sums == 1 {
                                    strip.add(t, nr, at, &mut out, post);
                                } else if let Some(quotients) = &mut quotients {
                                    quotients.add_quotients(t, nr, mr * nr, at, &mut out, post);
                                } else {
                                    let part = mr * self.nc;
                                    let block = &mut acc[ir * sums * part..][..sums * part];
                                    for (t, block) in
                                        t.chunks_exact(mr * nr).zip(block.chunks_exact_mut(part))
                                    {
                                        let first = chunk == 0;
                                        combine(self.op, first, t, nr, jr * nr, block, self.nc);
                                    }
                                    if chunk + 1 == chunks {
                                        let tile_in_block = &block[jr * nr..];
                                        let den = (sums == 2).then_some(part);
                                        store(tile_in_block, self.nc, den, at, &mut out, post);
                                    }
                                }
                            }
                        }
                    }
                }
                strip.flush(&mut out, post);
                if let Some(quotients) = &mut quotients {
                    quotients.flush(&mut out, post);
                }
            })
        });
    }
}

dispatched! {
    /// `rows × cols` values from `src` (row stride `src_stride`) into `dst` (`dst_stride`), in
    /// the running CPU's widest vectors: the kernel has just written the tile with them, and
    /// narrower loads of it wait for the stores to retire instead of being forwarded (SSE2
    /// copies took a third of the time at d = 3).
    fn copy_tile<T: Copy>(dst: &mut [T], dst_stride: usize, src: &[T], src_stride: usize, rows: usize, cols: usize) => copy_tile_body
}

#[inline(always)]
fn copy_tile_body<T: Copy>(
    dst: &mut [T],
    dst_stride: usize,
    src: &[T],
    src_stride: usize,
    rows: usize,
    cols: usize,
) {
    for r in 0..rows {
        let dst = &mut dst[r * dst_stride..][..cols];
        let src = &src[r * src_stride..][..cols];
        // Eight at a time, a length the compiler sees (else a `memmove` call per row).
        let (dst8, dst_rest) = dst.as_chunks_mut::<8>();
        let (src8, src_rest) = src.as_chunks::<8>();
        for (d, s) in dst8.iter_mut().zip(src8) {
            *d = *s;
        }
        for (d, s) in dst_rest.iter_mut().zip(src_rest) {
            *d = *s;
        }
    }
}

/// Columns of a [`Strip`]: a multiple of every kernel's `nr`, 3 KiB of float64 per row.
const STRIP_COLS: usize = 384;
const _: () = assert!(STRIP_COLS.is_multiple_of(MAX_NR));

/// The tiles of one row panel gathered over up to [`STRIP_COLS`] consecutive columns, then
/// stored a row at a time. Each output row then takes long contiguous runs, one store call
/// per row and strip (not per tile row): a large output is streamed past the caches, and on
/// the AMD Zen 3 of BENCHMARKS.md streaming stores reach full speed only in runs of a few
/// KiB (64-byte pieces of six rows in turn streamed at a quarter of it).
struct Strip<T> {
    values: Vec<T>,
    /// The first row and column, and how many of each the strip holds.
    i: usize,
    rows: usize,
    j: usize,
    cols: usize,
}

impl<T: DistFloat> Strip<T> {
    fn new(mr: usize) -> Self {
        Strip {
            values: vec![T::zero(); mr * STRIP_COLS],
            i: 0,
            rows: 0,
            j: 0,
            cols: 0,
        }
    }

    /// Adds a tile's live part (row stride `nr`), first storing what the strip holds when the
    /// tile does not continue it (another row panel, a gap, or no room).
    fn add<O: Element>(
        &mut self,
        tile: &[T],
        nr: usize,
        at: Placement,
        out: &mut OutputRows<'_, O>,
        post: &Post<'_>,
    ) {
        self.make_room(at, out, post);
        copy_tile(
            &mut self.values[self.cols..],
            STRIP_COLS,
            tile,
            nr,
            at.rows,
            at.cols,
        );
        self.cols += at.cols;
    }

    /// Stores what the strip holds first when a tile at `at` does not continue it (another
    /// row panel, a gap, or no room), and starts the strip at `at` when it is empty.
    fn make_room<O: Element>(
        &mut self,
        at: Placement,
        out: &mut OutputRows<'_, O>,
        post: &Post<'_>,
    ) {
        let continues = at.i == self.i && at.j == self.j + self.cols;
        if self.cols > 0 && (!continues || self.cols + at.cols > STRIP_COLS) {
            self.flush(out, post);
        }
        if self.cols == 0 {
            (self.i, self.rows, self.j) = (at.i, at.rows, at.j);
        }
    }

    /// Stores what the strip holds (pdist's columns on or below the diagonal are skipped by
    /// `put_row`).
    fn flush<O: Element>(&mut self, out: &mut OutputRows<'_, O>, post: &Post<'_>) {
        if self.cols == 0 {
            return;
        }
        for r in 0..self.rows {
            let row = &self.values[r * STRIP_COLS..][..self.cols];
            out.put_row(self.i + r, self.j, row, post);
        }
        self.cols = 0;
    }
}

impl Strip<f64> {
    /// As [`add`](Strip::add) for a two-sum tile (row stride `nr`, its denominators `den_at`
    /// elements after the numerators): adds their quotients, in float64.
    fn add_quotients<T: DistFloat, O: Element>(
        &mut self,
        tile: &[T],
        nr: usize,
        den_at: usize,
        at: Placement,
        out: &mut OutputRows<'_, O>,
        post: &Post<'_>,
    ) {
        self.make_room(at, out, post);
        for r in 0..at.rows {
            let dst = &mut self.values[r * STRIP_COLS + self.cols..][..at.cols];
            let num = &tile[r * nr..][..at.cols];
            let den = &tile[den_at + r * nr..][..at.cols];
            divide_into(dst, num, den);
        }
        self.cols += at.cols;
    }
}

/// `q[c] = num[c] / den[c]` in float64: a two-sum tile's distances.
#[inline(always)]
fn divide_into<T: DistFloat>(q: &mut [f64], num: &[T], den: &[T]) {
    for ((q, n), d) in q.iter_mut().zip(num).zip(den) {
        *q = Element::to_f64(*n) / Element::to_f64(*d);
    }
}

/// Adds (or, for chebyshev, maxes) a tile's partial results into the task's block.
fn combine<T: DistFloat>(
    op: KernelOp,
    first: bool,
    tile: &[T],
    nr: usize,
    col: usize,
    block: &mut [T],
    stride: usize,
) {
    for (r, src) in tile.chunks_exact(nr).enumerate() {
        let dst = &mut block[r * stride + col..][..nr];
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = if first {
                s
            } else if op == KernelOp::Chebyshev {
                // NaN terms are skipped, as in the kernel.
                if s > *d { s } else { *d }
            } else {
                *d + s
            };
        }
    }
}

/// Where a tile's live part goes: `rows × cols` at `(i, j)`.
#[derive(Clone, Copy)]
struct Placement {
    i: usize,
    j: usize,
    rows: usize,
    cols: usize,
}

/// Stores the live part of a tile (row stride `stride`) at its place; a two-sum tile (its
/// denominators `den_at` elements after the numerators) stores their quotients in float64.
fn store<T: DistFloat, O: Element>(
    tile: &[T],
    stride: usize,
    den_at: Option<usize>,
    at: Placement,
    out: &mut OutputRows<'_, O>,
    post: &Post<'_>,
) {
    for r in 0..at.rows {
        let row = &tile[r * stride..][..at.cols];
        if let Some(den_at) = den_at {
            // (Only here: zeroing it for every tile of every op cost 5% at d = 3.)
            let mut ratios = [0f64; MAX_NR];
            let den = &tile[den_at + r * stride..][..at.cols];
            divide_into(&mut ratios[..at.cols], row, den);
            out.put_row(at.i + r, at.j, &ratios[..at.cols], post);
        } else {
            out.put_row(at.i + r, at.j, row, post);
        }
    }
}
