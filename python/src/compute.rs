//! How the module runs ndstride's work: on a thread pool of the requested size (kept per
//! Python thread, so two Python threads never queue on one pool), with the copy accounting
//! of pool threads credited to the calling thread, and with Ctrl-C checked between blocks of
//! rows so that a long call stops within a fraction of a second.

use std::cell::{Cell, RefCell};
use std::ops::Range;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use ndstride::CopyStats;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use rayon::ThreadPool;

thread_local! {
    /// Pools built for this Python thread, by size.
    static POOLS: RefCell<Vec<(usize, Arc<ThreadPool>)>> = const { RefCell::new(Vec::new()) };
    /// Copies made on pool threads (or by NumPy for a conversion) on this thread's behalf.
    static CREDITED: Cell<CopyStats> = const { Cell::new(CopyStats { allocations: 0, bytes_allocated: 0, bytes_copied: 0 }) };
}

/// This thread's copy totals: ndstride's own counters plus what was credited to it.
pub fn totals() -> CopyStats {
    let own = CopyStats::thread_totals();
    let more = CREDITED.with(|c| c.get());
    CopyStats {
        allocations: own.allocations + more.allocations,
        bytes_allocated: own.bytes_allocated + more.bytes_allocated,
        bytes_copied: own.bytes_copied + more.bytes_copied,
    }
}

/// Credits `stats` to this thread's totals.
pub fn credit(stats: CopyStats) {
    CREDITED.with(|c| {
        let t = c.get();
        c.set(CopyStats {
            allocations: t.allocations + stats.allocations,
            bytes_allocated: t.bytes_allocated + stats.bytes_allocated,
            bytes_copied: t.bytes_copied + stats.bytes_copied,
        });
    });
}

/// This thread's pool of `n` threads, built on first use.
pub fn pool(n: usize) -> PyResult<Arc<ThreadPool>> {
    if n == 0 {
        return Err(pyo3::exceptions::PyValueError::new_err(
            "threads must be at least 1",
        ));
    }
    POOLS.with(|pools| {
        let mut pools = pools.borrow_mut();
        if let Some((_, p)) = pools.iter().find(|(k, _)| *k == n) {
            return Ok(p.clone());
        }
        let p = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("ndstride-{i}"))
            .build()
            .map_err(|e| {
                pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start {n} threads: {e}"))
            })?;
        let p = Arc::new(p);
        pools.push((n, p.clone()));
        Ok(p)
    })
}

/// Where a call's work runs: rayon's global pool, driven from this thread, or a pool of its own.
#[derive(Clone)]
pub struct Threads(Option<Arc<ThreadPool>>);

impl Threads {
    pub fn new(threads: Option<usize>) -> PyResult<Threads> {
        Ok(Threads(threads.map(pool).transpose()?))
    }

    /// How many threads the work runs on.
    pub fn count(&self) -> usize {
        match &self.0 {
            None => rayon::current_num_threads(),
            Some(pool) => pool.current_num_threads(),
        }
    }

    /// Runs `f` on these threads; copies it makes are counted for the calling thread.
    pub fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match &self.0 {
            // ndstride records copies on the thread that asks for the work: this one.
            None => f(),
            Some(pool) => {
                let (r, stats) = pool.install(|| CopyStats::scope(f));
                credit(stats);
                r
            }
        }
    }
}

impl Threads {
    /// [`run`](Self::run) on a thread that is not the caller's: the pool's copies are
    /// returned, for the caller to credit.
    pub fn run_uncredited<R: Send>(&self, f: impl FnOnce() -> R + Send) -> (R, CopyStats) {
        match &self.0 {
            None => (f(), CopyStats::default()),
            Some(pool) => pool.install(|| CopyStats::scope(f)),
        }
    }
}

/// `Err(KeyboardInterrupt)` once Ctrl-C was pressed (runs Python's signal handlers; only the
/// main thread sees them).
pub fn check_signals() -> PyResult<()> {
    Python::attach(|py| py.check_signals())
}

/// How long a block of rows should take: Ctrl-C is seen between blocks, so within about this
/// long, while the per-block costs (packing `xb`, waking the threads) stay a small share.
const BLOCK_TIME: Duration = Duration::from_millis(100);
/// Pair-features of the first block, before any rate is measured: for the metrics on the
/// register-blocked kernels (tens of G pair-features/s) most calls fit in it; the others
/// (Canberra, Jensen-Shannon, Bray-Curtis on signed data, Minkowski p ≥ 3) run at well under
/// 1 G/s on an AVX2 machine, so they start small.
const FIRST_BLOCK_WORK_FAST: usize = 1 << 31;
const FIRST_BLOCK_WORK_SLOW: usize = 1 << 24;
/// Fewest rows in a block per thread: two of the slow metrics' 16-row tasks each, so that
/// every thread has work and the last task does not leave one thread idle for long.
const MIN_ROWS_PER_THREAD: usize = 32;
/// Most a block may grow over the one before, so that one quick block (a cache-warm start, a
/// noisy clock) cannot make the next one many times too long.
const MAX_GROWTH: usize = 8;

/// The `n` rows cut into blocks of about [`BLOCK_TIME`] each, whatever the metric's speed on
/// this machine: the first is sized by work (`row_work` pair-features per row), each next one
/// from the rate the last one ran at, none over `max_rows`.
pub struct RowBlocks {
    n: usize,
    first: usize,
    min_rows: usize,
    max_rows: usize,
}

impl RowBlocks {
    pub fn new(n: usize, row_work: usize, fast: bool, threads: &Threads, max_rows: usize) -> Self {
        let work = if fast {
            FIRST_BLOCK_WORK_FAST
        } else {
            FIRST_BLOCK_WORK_SLOW
        };
        let max_rows = max_rows.clamp(1, n.max(1));
        let min_rows = MIN_ROWS_PER_THREAD * threads.count().max(1);
        let first = (work / row_work.max(1)).max(min_rows);
        RowBlocks {
            n,
            first: first.min(max_rows),
            min_rows,
            max_rows,
        }
    }

    /// The most rows any block has (the size of a buffer that holds any of them).
    pub fn max_rows(&self) -> usize {
        self.max_rows
    }

    /// Calls `f` on each block in order, checking for Ctrl-C between blocks; the first error
    /// stops the loop and is returned.
    pub fn run(self, mut f: impl FnMut(Range<usize>) -> PyResult<()>) -> PyResult<()> {
        let (mut start, mut rows) = (0, self.first);
        while start < self.n {
            let block = start..(start + rows).min(self.n);
            let began = Instant::now();
            f(block.clone())?;
            start = block.end;
            if start < self.n {
                check_signals()?;
                rows = self.next_rows(rows, block.len(), began.elapsed());
            }
        }
        Ok(())
    }

    /// Rows of the block after one of `done` rows (planned `rows`) that took `took`.
    fn next_rows(&self, rows: usize, done: usize, took: Duration) -> usize {
        let per_row = took.as_secs_f64() / done.max(1) as f64;
        let fitting = if per_row > 0.0 {
            (BLOCK_TIME.as_secs_f64() / per_row).min(usize::MAX as f64) as usize
        } else {
            usize::MAX
        };
        fitting
            .min(rows.saturating_mul(MAX_GROWTH))
            .max(self.min_rows)
            .min(self.max_rows)
    }
}

/// Pair-features below which a call keeps the GIL: a few microseconds of work, of which
/// releasing and taking back the GIL would be a tenth.
pub const TINY_CALL: usize = 1 << 14;

/// Work (pair-features) below which a call runs on this thread, with the GIL released, without
/// checking for Ctrl-C: it is over in well under a second.
const SHORT_CALL: usize = 1 << 27;

/// Runs `f` with the GIL released (tiny calls: on this thread, keeping it); `work`
/// (pair-features) long calls run on a thread of their own while this thread checks for
/// Ctrl-C every 20 ms. Interrupted, it returns at once: the
/// abandoned computation owns its inputs (handles) and its output, which nobody sees, and
/// ends on its own. For calls whose output lies outside ndstride (an `out=` array) use row
/// blocks instead, which stop the work itself.
pub fn run_call<R: Send + 'static>(
    py: Python<'_>,
    threads: &Threads,
    work: usize,
    f: impl FnOnce() -> R + Send + 'static,
) -> PyResult<R> {
    if work <= TINY_CALL {
        // On this thread, which holds the GIL: on a pool thread, `f` dropping its inputs
        // (their Py_buffers, released under the GIL) would wait for this thread, which
        // waits for the pool.
        return Ok(f());
    }
    if work <= SHORT_CALL {
        return Ok(py.detach(|| threads.run(f)));
    }
    let (tx, rx) = mpsc::channel();
    let threads = threads.clone();
    std::thread::Builder::new()
        .name("ndstride-call".into())
        .spawn(move || {
            let _ = tx.send(CopyStats::scope(|| threads.run_uncredited(f)));
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread: {e}")))?;
    let ((r, pool_stats), own) = py.detach(move || {
        loop {
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(done) => return Ok(done),
                Err(mpsc::RecvTimeoutError::Timeout) => check_signals()?,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(PyRuntimeError::new_err("ndstride's worker thread panicked"));
                }
            }
        }
    })?;
    credit(own);
    credit(pool_stats);
    Ok(r)
}
