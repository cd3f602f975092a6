"""What runs on the workers: one block of a distance computation, and the merges.

Everything here is a module-level function or a small picklable object, so that a graph
built on the client reaches spawned worker processes by reference to this module; each
block is the in-memory API called on the block's rows, so a block computes exactly what
``ndstride.cdist`` (or ``knn``, ...) computes for those rows.
"""

from __future__ import annotations

import os
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _distance


def task_threads(requested: int | None) -> int | None:
    """How many threads one task computes with.

    ``requested`` (the call's ``threads=``) wins. Otherwise a worker's environment decides:
    ``NDSTRIDE_TASK_THREADS`` if set, else ``OMP_NUM_THREADS``, which dask's nanny sets for
    every worker process (1 unless ``distributed.nanny.pre-spawn-environ`` says otherwise):
    the budget dask gives a task's BLAS is the budget rayon gets, so a worker never runs
    more compute threads than it has task slots times that. Without either variable, a task
    on a worker thread or a pool thread of dask's local schedulers takes 1 thread, and one on
    the synchronous scheduler (the calling thread itself) takes every core.
    """
    if requested is not None:
        return requested
    for variable in ("NDSTRIDE_TASK_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(variable, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    if threading.current_thread() is threading.main_thread():
        return None
    return 1


# Aligned copies of the misaligned chunks a worker holds, by id, each dropped with its chunk.
_ALIGNED: dict[int, np.ndarray] = {}


def aligned(x: np.ndarray) -> np.ndarray:
    """``x``, or once per chunk an aligned copy of it.

    distributed deserialises arrays in place in the frames it received, at any byte offset
    (a float32 chunk at an odd address), and ndstride copies a misaligned input on every
    call: a kNN task would copy its whole XB block each time. The copy is made once and kept
    as long as the worker keeps the chunk."""
    if not isinstance(x, np.ndarray) or x.flags.aligned:
        return x
    key = id(x)
    copy = _ALIGNED.get(key)
    if copy is None:
        copy = np.array(x)
        _ALIGNED[key] = copy
        weakref.finalize(x, _ALIGNED.pop, key, None)
    return copy


@dataclass(frozen=True)
class Call:
    """The in-memory call every block makes: ``fn`` is ``"cdist"``, ``"knn"``,
    ``"radius_count"`` or ``"argmin_min"``; ``kwargs`` hold the metric's parameters
    (those derived from the data arrive as extra task arguments, named by ``derived``)."""

    fn: str
    metric: str
    kwargs: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    derived: tuple[str, ...] = ()

    def run(self, a: np.ndarray, b: np.ndarray, *args: Any, derived: tuple = ()) -> Any:
        a, b = aligned(a), aligned(b)
        kwargs = dict(self.kwargs)
        kwargs.update(zip(self.derived, derived))
        options = dict(self.options)
        options["threads"] = task_threads(options.get("threads"))
        fn = getattr(_distance, self.fn)
        return fn(a, b, *args, metric=self.metric, **options, **kwargs)


def cdist_block(call: Call, a: np.ndarray, b: np.ndarray, *derived: Any) -> np.ndarray:
    return call.run(a, b, derived=derived)


def mirror_block(block: np.ndarray) -> np.ndarray:
    """Block (i, j) of a symmetric matrix from block (j, i): a transposed view."""
    return block.T


def knn_block(call: Call, k: int, col0: int, a: np.ndarray, b: np.ndarray,
              *derived: Any) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest of ``b``'s rows for each row of ``a``, with indices counted from
    ``col0`` (the block's first row in the whole of XB)."""
    if a.shape[0] == 0:
        return np.empty((0, k)), np.empty((0, k), dtype=np.int64)
    dist, idx = call.run(a, b, k, derived=derived)
    idx += col0
    return dist, idx


def merge_topk(k: int, *parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of several blocks' lists: by distance, ties to the lower index, NaN
    last -- the order of the in-memory kNN, so merging in any grouping gives its lists."""
    dist = np.concatenate([p[0] for p in parts], axis=1)
    idx = np.concatenate([p[1] for p in parts], axis=1)
    order = np.lexsort((idx, dist), axis=1)[:, :k]
    return np.take_along_axis(dist, order, axis=1), np.take_along_axis(idx, order, axis=1)


def drop_self(k: int, row0: int, part: tuple[np.ndarray, np.ndarray]) -> tuple:
    """A self-query's lists without each row itself (rows counted from ``row0``); where ties
    at lower indices pushed it out of the ``k + 1`` best, the last one goes instead."""
    dist, idx = part
    return _distance._drop_self(dist, idx, k, row0)


def radius_count_block(call: Call, radius: float, a: np.ndarray, b: np.ndarray,
                       *derived: Any) -> np.ndarray:
    return call.run(a, b, radius, derived=derived)


def sum_counts(*parts: np.ndarray) -> np.ndarray:
    return np.sum(parts, axis=0, dtype=np.int64)


def argmin_min_block(call: Call, col0: int, a: np.ndarray, b: np.ndarray,
                     *derived: Any) -> tuple[np.ndarray, np.ndarray]:
    if a.shape[0] == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    idx, dist = call.run(a, b, derived=derived)
    idx += col0
    return idx, dist


def merge_argmin(*parts: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The nearest over consecutive blocks, given in column order: a later block wins only
    with a smaller distance, or a number where the earlier has NaN (ties to the lower
    index, NaN only where every distance is NaN)."""
    idx, dist = parts[0][0].copy(), parts[0][1].copy()
    for later_idx, later_dist in parts[1:]:
        wins = (later_dist < dist) | (np.isnan(dist) & ~np.isnan(later_dist))
        idx[wins] = later_idx[wins]
        dist[wins] = later_dist[wins]
    return idx, dist


def item(part: tuple, i: int) -> Any:
    return part[i]


def identity(part: Any, _: int) -> Any:
    return part


def no_counts(rows: int) -> np.ndarray:
    return np.zeros(rows, dtype=np.int64)
