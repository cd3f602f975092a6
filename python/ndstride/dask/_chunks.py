"""Row chunks for the graphs: blocks large enough that the scheduler's cost per task (a
millisecond or two, BENCHMARKS.md) is lost in the work, small enough to fit a worker's
memory many times."""

from __future__ import annotations

import math
import os
import warnings

from dask.array.core import PerformanceWarning

#: The output block a cdist task aims at.
BLOCK_BYTES = 128 << 20
#: The least work a task should hold; the distributed scheduler spends 1-2 ms per task.
MIN_TASK_SECONDS = 0.1
#: Graphs with more tasks than this are slow to build and to schedule: warn.
MAX_TASKS = 100_000
#: What a neighbour search's task aims at: each task has a fixed cost beyond the scheduler's
#: (measured in BENCHMARKS.md, "ndstride.dask"), so these tasks are longer than cdist's.
SEARCH_TASK_SECONDS = 1.0
#: Tasks per thread of the cluster a neighbour search keeps at least, for the balance.
TASKS_PER_THREAD = 4
#: The most block tasks a neighbour search aims at: the scheduler is one thread, and at
#: 10 million rows the 100 ms floor alone would make millions of tasks.
SEARCH_TASKS = 10_000
#: How far past ``BLOCK_BYTES`` a block may grow to reach ``MIN_TASK_SECONDS``.
MAX_GROWTH = 4

# A model of one thread's speed for choosing sizes: pair-dimensions per second on the
# register-blocked metrics and on the others, and pairs per second written out. The
# conservative end of BENCHMARKS.md's single-thread figures; a chunk size, not a promise.
_FAST_PAIR_DIMS = 8e9
_SLOW_PAIR_DIMS = 1e9
_POWER_PAIR_DIMS = 5e7  # minkowski with a fractional p: a pow() per term
_MATMUL_PAIR_DIMS = 3.2e10  # strategy='matmul': the euclidean family through the GEMM
_PAIRS_WRITTEN = 1e9
_SLOW_METRICS = {"minkowski", "jensenshannon", "canberra", "braycurtis", "mahalanobis",
                 "correlation"}


def task_seconds(pairs: int, n: int, metric: str, threads: int = 1, written: bool = True,
                 p: float | None = None, strategy: str = "simd") -> float:
    """The model's time for one task of ``pairs`` pairs of ``n`` features."""
    if metric == "minkowski" and p is not None and not float(p).is_integer():
        rate = _POWER_PAIR_DIMS
    elif strategy == "matmul":
        rate = _MATMUL_PAIR_DIMS
    else:
        rate = _SLOW_PAIR_DIMS if metric in _SLOW_METRICS else _FAST_PAIR_DIMS
    seconds = pairs * max(n, 1) / rate
    if written:
        seconds += pairs / _PAIRS_WRITTEN
    return seconds / max(threads, 1)


def row_chunks(m_a: int, m_b: int, n: int, metric: str = "euclidean", *, itemsize: int = 8,
               block_bytes: int = BLOCK_BYTES, min_task_seconds: float = MIN_TASK_SECONDS,
               threads: int = 1, p: float | None = None) -> tuple[int, int]:
    """Rows of XA and of XB per chunk for a cdist of ``m_a x m_b`` pairs of ``n`` features:
    output blocks of about ``block_bytes`` (``itemsize`` bytes a distance), grown up to
    ``MAX_GROWTH`` times where the model says a task would run under ``min_task_seconds``.

    >>> row_chunks(20000, 20000, 64)
    (4096, 4096)
    """
    pairs = max(block_bytes // itemsize, 1)
    rows_b = max(min(m_b, math.isqrt(pairs)), 1)
    rows_a = max(min(m_a, pairs // rows_b), 1)
    seconds = task_seconds(rows_a * rows_b, n, metric, threads, p=p)
    if 0 < seconds < min_task_seconds:
        growth = min(min_task_seconds / seconds, MAX_GROWTH)
        grown_a = max(min(m_a, int(rows_a * growth)), 1)
        rows_b = max(min(m_b, int(rows_b * growth * rows_a / grown_a)), 1)
        rows_a = grown_a
    return rows_a, rows_b


def knn_row_chunks(m_a: int, m_b: int, n: int, metric: str = "euclidean", *,
                   itemsize: int = 8, block_bytes: int = BLOCK_BYTES,
                   min_task_seconds: float = MIN_TASK_SECONDS,
                   task_seconds_goal: float = SEARCH_TASK_SECONDS,
                   threads: int = 1, cluster_threads: int | None = None,
                   p: float | None = None, strategy: str = "simd") -> tuple[int, int]:
    """Rows of XA and of XB per chunk for a neighbour search (kNN, radius, argmin).

    XB in chunks of at most ``block_bytes`` of input (``itemsize`` bytes a value), at least
    one per thread of the cluster (``cluster_threads``: the active client's, else this
    machine's cores), so that the blocks spread over the workers; XA in
    chunks whose tasks the model puts at ``task_seconds_goal``, fewer rows where that leaves
    under ``TASKS_PER_THREAD`` tasks per thread of the cluster, but never under
    ``min_task_seconds``; and
    more rows where the graph would have over ``SEARCH_TASKS`` blocks (XA chunks within
    ``block_bytes``). No task holds a distance matrix: the pairs bound the time, not the
    memory."""
    row_bytes = max(n * itemsize, 1)
    if cluster_threads is None:
        cluster_threads = _cluster_threads()
    # XB in at least one chunk per thread: each (XA, XB) block runs where its XB chunk lies,
    # so a single XB chunk would put every task on one worker until dask steals them.
    rows_b = max(min(m_b, block_bytes // row_bytes, -(-m_b // max(cluster_threads, 1))), 1)
    seconds_per_row = task_seconds(rows_b, n, metric, threads, written=False, p=p,
                                   strategy=strategy)
    rows_goal = int(task_seconds_goal / seconds_per_row) if seconds_per_row else m_a
    rows_floor = int(min_task_seconds / seconds_per_row) if seconds_per_row else 1
    rows_balanced = -(-m_a // (TASKS_PER_THREAD * max(cluster_threads, 1)))
    rows_a = max(min(rows_goal, rows_balanced), rows_floor, 1)
    chunks_a = max(SEARCH_TASKS // max(-(-m_b // rows_b), 1), 1)
    rows_a = max(rows_a, min(-(-m_a // chunks_a), block_bytes // row_bytes))
    return max(min(rows_a, m_a), 1), rows_b


def _cluster_threads() -> int:
    try:
        from distributed import get_client
        return max(sum(get_client().nthreads().values()), 1)
    except (ImportError, ValueError):
        return os.cpu_count() or 1


def power(kwargs: dict) -> float | None:
    """minkowski's ``p`` among a call's keyword arguments, where it is a number."""
    p = kwargs.get("p")
    return float(p) if isinstance(p, (int, float)) and not isinstance(p, bool) else None


def warn_if_many(tasks: int, what: str) -> None:
    if tasks > MAX_TASKS:
        warnings.warn(
            f"ndstride.dask.{what}: the graph has {tasks} tasks (over {MAX_TASKS}); at "
            "about a millisecond of scheduling each, larger row chunks would be faster "
            "(ndstride.dask.row_chunks suggests sizes)", PerformanceWarning, stacklevel=3)
