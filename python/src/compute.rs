//! How the module runs ndstride's work: on a thread pool of the requested size (kept per
//! Python thread, so two Python threads never queue on one pool), with the copy accounting
//! of pool threads credited to the calling thread, and with Ctrl-C checked between blocks of
//! rows so that a long call stops within a fraction of a second.

use std::cell::{Cell, RefCell};
use std::ops::Range;
use std::sync::{Arc, mpsc};
use std::time::Duration;

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

/// Pair-features per block of rows: a few milliseconds of the fastest metrics, well under a
/// second for the slowest, so Ctrl-C is seen quickly while packing `xb` once per block stays
/// a small share of the work.
const BLOCK_WORK: usize = 1 << 27;
/// Fewest rows in a block, so the kernels' tiles and the threads stay busy.
const MIN_BLOCK_ROWS: usize = 256;

/// Blocks of the `n` rows, each about [`BLOCK_WORK`] for rows of `row_work` pair-features;
/// 16 times more for the metrics on the register-blocked kernels (tens of G pair-features/s),
/// whose blocks otherwise cost a few percent in synchronisation and repacking.
pub fn row_blocks(n: usize, row_work: usize, fast: bool) -> Vec<Range<usize>> {
    let work = if fast { BLOCK_WORK << 4 } else { BLOCK_WORK };
    blocks_of(n, row_work, work, MIN_BLOCK_ROWS)
}

fn blocks_of(n: usize, row_work: usize, work: usize, min_rows: usize) -> Vec<Range<usize>> {
    let rows = (work / row_work.max(1)).max(min_rows);
    (0..n)
        .step_by(rows.max(1))
        .map(|r0| r0..(r0 + rows).min(n))
        .collect()
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
