//! How the work is cut into kernel launches: register tiles per kernel, and the blocks of
//! rows and columns in which cdist and kNN stream their inputs and outputs through a device
//! memory budget. Pure arithmetic, tested without a GPU.

use super::plan::GpuOp;
use crate::dtype::DType;

/// The register tile of a kernel (as `DEFINE_OPS` in kernels/cdist.cu sets it).
pub(super) fn tile(t: DType, op: GpuOp) -> (usize, usize) {
    if t == DType::F32 && op != GpuOp::BrayCurtis {
        (128, 128)
    } else {
        (64, 64)
    }
}

pub(super) fn type_name(t: DType) -> &'static str {
    if t == DType::F32 { "f32" } else { "f64" }
}

/// The name of the cdist kernel computing `op` in `t` with output `o` (`DEFINE_CDIST` in
/// kernels/cdist.cu), e.g. `cdist_f32_f64_cityblock`.
pub(super) fn cdist_kernel(t: DType, o: DType, op: GpuOp) -> String {
    format!("cdist_{}_{}_{op}", type_name(t), type_name(o))
}

/// Threads per block of the distance kernels (TX · TY in kernels/cdist.cu).
pub(super) const THREADS: u32 = 256;

/// Blocks of an `outer × inner` grid cut in steps of `outer_step` and `inner_step` (the
/// last ones shorter), outer index slowest: `block((start, len), (start, len))` each.
fn out_blocks(
    (outer, outer_step): (usize, usize),
    (inner, inner_step): (usize, usize),
    block: impl Fn((usize, usize), (usize, usize)) -> OutBlock,
) -> Vec<OutBlock> {
    let (outer_step, inner_step) = (outer_step.max(1), inner_step.max(1));
    (0..outer)
        .step_by(outer_step)
        .flat_map(|o| {
            (0..inner).step_by(inner_step).map(move |i| {
                (
                    (o, outer_step.min(outer - o)),
                    (i, inner_step.min(inner - i)),
                )
            })
        })
        .map(|(o, i)| block(o, i))
        .collect()
}

/// Largest output block, in bytes, per stream: its pinned host staging buffer is this big, and
/// smaller blocks let the copy of one overlap the kernel of the next sooner.
pub(super) const STAGING_BYTES: usize = 256 << 20;

/// One launch of cdist's streamed driver: output rows `r0 .. r0 + rows` and columns
/// `c0 .. c0 + cols`, written with row stride `cols`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct OutBlock {
    pub(super) r0: usize,
    pub(super) rows: usize,
    pub(super) c0: usize,
    pub(super) cols: usize,
}

impl OutBlock {
    /// The launch grid for register tiles of `bm × bn`: (column tiles, row tiles).
    pub(super) fn grid(&self, (bm, bn): (usize, usize)) -> (u32, u32) {
        (self.cols.div_ceil(bn) as u32, self.rows.div_ceil(bm) as u32)
    }
}

/// The sizes that decide a schedule: an `n × m` output of `out_bytes` per entry from rows of
/// `d` features of `elem_bytes` each (and one f64 row side per row).
#[derive(Clone, Copy, Debug)]
pub(super) struct Problem {
    pub(super) n: usize,
    pub(super) m: usize,
    pub(super) d: usize,
    pub(super) elem_bytes: usize,
    pub(super) out_bytes: usize,
}

impl Problem {
    /// Device bytes of one prepared row and its row side.
    fn row_bytes(&self) -> usize {
        self.d * self.elem_bytes + 8
    }
}

/// How many items of `per` bytes fit in `limit` bytes, rounded down to whole tiles of `tile`
/// items when more than one tile fits.
fn whole_tiles(limit: usize, per: usize, tile: usize) -> usize {
    let k = limit / per.max(1);
    if k > tile { k / tile * tile } else { k }
}

/// How cdist streams a problem through a device memory budget: output blocks of at most
/// `rows × cols`, on `lanes` streams (each with its own A rows, output block and, unless
/// `b_resident`, B rows), and B uploaded once when it fits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Schedule {
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) b_resident: bool,
    pub(super) lanes: usize,
}

impl Schedule {
    /// Plans `p` within `budget` device bytes and output blocks of at most `staging` bytes,
    /// for a kernel with `bm × bn` register tiles. `Err` (the bytes it would need) when even
    /// one row by one tile of columns does not fit.
    pub(super) fn new(
        p: Problem,
        budget: usize,
        staging: usize,
        (bm, bn): (usize, usize),
    ) -> Result<Schedule, usize> {
        let (n, m) = (p.n.max(1), p.m.max(1));
        let row = p.row_bytes();
        let b_bytes = m.saturating_mul(row);
        // B stays on the device when it takes at most half the budget; otherwise each of the
        // two lanes holds a block of B rows in a quarter of it.
        let b_resident = b_bytes <= budget / 2;
        let fit = whole_tiles;
        let mut cols = if b_resident {
            m
        } else {
            fit(budget / 4, row, bn).min(m)
        };
        // One output row of the block must fit the staging buffer.
        cols = cols.min(fit(staging, p.out_bytes, bn).max(1));
        let resident = if b_resident { b_bytes } else { 0 };
        let lane_b = if b_resident { 0 } else { cols * row };
        let per_lane = (budget.saturating_sub(resident) / 2).saturating_sub(lane_b);
        let rows = fit(per_lane, row + cols * p.out_bytes, bm)
            .min(fit(staging, cols * p.out_bytes, bm))
            .min(65535 * bm)
            .min(n);
        let needed = resident + 2 * (lane_b + row + cols * p.out_bytes);
        if cols == 0 || rows == 0 {
            return Err(needed.max(2 * (2 * row + bn.min(m) * p.out_bytes)));
        }
        let single = rows >= n && cols >= m;
        Ok(Schedule {
            rows,
            cols,
            b_resident,
            lanes: if single { 1 } else { 2 },
        })
    }

    /// The launches, column blocks outermost (a lane's B block changes least often), rows
    /// within them.
    pub(super) fn blocks(&self, n: usize, m: usize) -> Vec<OutBlock> {
        out_blocks((m, self.cols), (n, self.rows), |(c0, cols), (r0, rows)| {
            OutBlock { r0, rows, c0, cols }
        })
    }

    /// Device bytes the schedule holds at once for `p` (what the tests hold it to).
    #[cfg(test)]
    pub(super) fn device_bytes(&self, p: Problem) -> usize {
        let row = p.row_bytes();
        let resident = if self.b_resident { p.m * row } else { 0 };
        let lane_b = if self.b_resident { 0 } else { self.cols * row };
        resident + self.lanes * (lane_b + self.rows * (row + self.cols * p.out_bytes))
    }
}

/// Query rows per block of the kNN kernels (`knn_rows`' 4 × 4 register blocks × 16 threads),
/// and the width of their column tiles.
pub(super) const KNN_ROWS: usize = 64;

/// How the fused kNN streams a problem through a device memory budget: blocks of `rows`
/// query rows, whose k-lists (k distances and k indices each) stay on the device while B
/// passes through in blocks of `cols` rows, or all at once when B fits (`b_resident`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct KnnSchedule {
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) b_resident: bool,
}

impl KnnSchedule {
    /// Plans `p` (its `out_bytes` unused) with lists of `k` within `budget` device bytes;
    /// `Err` (the bytes it would need) when one tile of B and one query row do not fit.
    pub(super) fn new(p: Problem, k: usize, budget: usize) -> Result<KnnSchedule, usize> {
        let (n, m) = (p.n.max(1), p.m.max(1));
        let (row, list) = (p.row_bytes(), k.saturating_mul(16));
        let b_resident = m.saturating_mul(row) <= budget / 2;
        let cols = if b_resident {
            m
        } else {
            whole_tiles(budget / 2, row, KNN_ROWS).min(m)
        };
        let rest = budget.saturating_sub(cols.saturating_mul(row));
        let rows = whole_tiles(rest, row.saturating_add(list), KNN_ROWS)
            .min(65535 * KNN_ROWS)
            .min(n);
        // B takes at most half the budget, so the query rows always have the other half:
        // twice a row with its list is enough.
        if cols == 0 || rows == 0 {
            return Err(row.saturating_add(list).saturating_mul(2));
        }
        Ok(KnnSchedule {
            rows,
            cols,
            b_resident,
        })
    }

    /// The launches, row blocks outermost (a block's lists are finished, and copied back,
    /// after its last column block), B's column blocks in increasing order within them.
    pub(super) fn blocks(&self, n: usize, m: usize) -> Vec<OutBlock> {
        out_blocks((n, self.rows), (m, self.cols), |(r0, rows), (c0, cols)| {
            OutBlock { r0, rows, c0, cols }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(n: usize, m: usize, d: usize) -> Problem {
        Problem {
            n,
            m,
            d,
            elem_bytes: 4,
            out_bytes: 8,
        }
    }

    /// Every output entry is in exactly one block.
    fn assert_covers_once(s: &Schedule, n: usize, m: usize) {
        let mut seen = vec![0u8; n * m];
        for b in s.blocks(n, m) {
            assert!(b.rows >= 1 && b.rows <= s.rows && b.cols >= 1 && b.cols <= s.cols);
            for i in b.r0..b.r0 + b.rows {
                for j in b.c0..b.c0 + b.cols {
                    seen[i * m + j] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&c| c == 1), "{s:?} on {n} x {m}");
    }

    #[test]
    fn a_problem_that_fits_is_one_block_on_one_lane() {
        let p = problem(1000, 700, 16);
        let s = Schedule::new(p, 1 << 30, STAGING_BYTES, (128, 128)).unwrap();
        assert_eq!(
            (s.rows, s.cols, s.b_resident, s.lanes),
            (1000, 700, true, 1)
        );
        assert_eq!(s.blocks(1000, 700).len(), 1);
    }

    #[test]
    #[cfg_attr(miri, ignore = "millions of entries checked; safe arithmetic only")]
    fn blocks_cover_the_output_once_and_stay_within_the_budget() {
        for &(n, m, d) in &[
            (1, 1, 1),
            (300, 200, 3),
            (1000, 1000, 64),
            (37, 5000, 200),
            (5000, 3, 1),
        ] {
            for &budget in &[1 << 14, 100_000, 1 << 20, 1 << 24, 1 << 30] {
                for &staging in &[4096, 1 << 16, STAGING_BYTES] {
                    let p = problem(n, m, d);
                    match Schedule::new(p, budget, staging, (64, 64)) {
                        Ok(s) => {
                            assert_covers_once(&s, n, m);
                            assert!(s.device_bytes(p) <= budget, "{s:?} over {budget} for {p:?}");
                            assert!(s.rows * s.cols * p.out_bytes <= staging.max(p.out_bytes));
                            assert!(s.lanes == 2 || s.blocks(n, m).len() == 1);
                        }
                        Err(needed) => assert!(needed > budget, "{p:?} in {budget}: {needed}"),
                    }
                }
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "millions of entries checked; safe arithmetic only")]
    fn a_b_too_large_for_the_budget_is_streamed_in_column_blocks() {
        let p = problem(100, 100_000, 128); // B: 100000 × 520 bytes = 52 MB
        let s = Schedule::new(p, 16 << 20, STAGING_BYTES, (128, 128)).unwrap();
        assert!(
            !s.b_resident && s.cols < 100_000 && s.cols.is_multiple_of(128),
            "{s:?}"
        );
        assert_covers_once(&s, 100, 100_000);
        assert!(s.device_bytes(p) <= 16 << 20);
    }

    #[test]
    fn blocks_are_whole_register_tiles_and_launchable() {
        let p = problem(100_000, 100_000, 64);
        let s = Schedule::new(p, 40 << 30, STAGING_BYTES, (128, 128)).unwrap();
        assert!(s.b_resident);
        assert!(s.rows.is_multiple_of(128));
        assert!(s.rows * s.cols * 8 <= STAGING_BYTES);
        // A huge n never asks for more than 65535 tiles down in one launch.
        let tall = problem(100_000_000, 1, 1);
        let s = Schedule::new(tall, 40 << 30, 1 << 40, (1, 1)).unwrap();
        assert_eq!(s.rows, 65535);
    }

    #[test]
    fn too_little_device_memory_is_an_error_naming_what_is_needed() {
        let p = problem(10, 10, 1 << 20); // one row is 4 MiB
        let needed = Schedule::new(p, 1 << 20, STAGING_BYTES, (64, 64)).unwrap_err();
        assert!(needed > 1 << 20);
        assert!(Schedule::new(p, needed * 4, STAGING_BYTES, (64, 64)).is_ok());
    }

    #[test]
    #[cfg_attr(miri, ignore = "millions of entries checked; safe arithmetic only")]
    fn knn_blocks_cover_every_pair_once_in_column_order_within_the_budget() {
        for &(n, m, d, k) in &[
            (1, 1, 1, 1),
            (300, 200, 3, 5),
            (100, 5000, 16, 10),
            (70, 70, 2, 70),
        ] {
            for &budget in &[1 << 12, 50_000, 1 << 20, 1 << 30] {
                let p = problem(n, m, d);
                match KnnSchedule::new(p, k, budget) {
                    Ok(s) => {
                        let blocks = s.blocks(n, m);
                        let mut seen = vec![0u8; n * m];
                        let mut last: Option<OutBlock> = None;
                        for b in &blocks {
                            for i in b.r0..b.r0 + b.rows {
                                for j in b.c0..b.c0 + b.cols {
                                    seen[i * m + j] += 1;
                                }
                            }
                            // Within a row block the columns come in increasing order.
                            if let Some(l) = last
                                && l.r0 == b.r0
                            {
                                assert_eq!(b.c0, l.c0 + l.cols);
                            } else {
                                assert_eq!(b.c0, 0);
                            }
                            last = Some(*b);
                        }
                        assert!(seen.iter().all(|&c| c == 1), "{s:?}");
                        let row = d * 4 + 8;
                        let b_bytes = if s.b_resident { m * row } else { s.cols * row };
                        assert!(b_bytes + s.rows * (row + k * 16) <= budget, "{s:?}");
                        assert!(s.b_resident || s.cols < m);
                    }
                    Err(needed) => assert!(needed > budget),
                }
            }
        }
    }
}
