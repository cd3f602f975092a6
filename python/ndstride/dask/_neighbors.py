"""Neighbour searches on a cluster: every block pair reduces its distances on the worker
(its k best, its count, its nearest) and a tree of merges per XA row chunk combines them,
so that no distance matrix is ever held and each result equals the in-memory one."""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
from dask.base import tokenize

from .. import _distance
from . import _chunks, _inputs, _tasks
from ._graph import Layer, block, check_fan_in, offsets, outputs

#: The merge tree's default fan-in (dask's ``split_every`` for reductions).
SPLIT_EVERY = 8


def _operands(fn: str, XA: Any, XB: Any, metric: Any, kwargs: dict, strategy: str
              ) -> tuple[str, _inputs.Operands]:
    name = _distance._canonical(metric)
    XB = XA if XB is None else XB
    itemsize = max(np.dtype(getattr(x, "dtype", np.float64)).itemsize for x in (XA, XB))
    return name, _inputs.operands(XA, XB, f"{fn}: ", lambda sa, sb: _chunks.knn_row_chunks(
        sa[0], sb[0], sa[1], name, itemsize=itemsize, p=_chunks.power(kwargs),
        strategy=strategy))


def _per_block(layer: Layer, ops: _inputs.Operands, what: str, task: Any) -> list[list]:
    """For each XA row chunk, the keys of ``task(i, j, col0)`` over XB's non-empty chunks."""
    cb = ops.b.chunks[0]
    col0s = offsets(cb)
    parts = []
    for i in range(len(ops.a.chunks[0])):
        row = []
        for j, rows in enumerate(cb):
            if rows:
                row.append(layer.add((f"{layer.name}-{what}", i, j), task(i, j, col0s[j])))
        parts.append(row)
    return parts


def knn(XA: Any, XB: Any = None, k: int = 1, metric: Any = "euclidean", *,
        split_every: int = SPLIT_EVERY, strategy: str = "simd", backend: str = "cpu",
        threads: int | None = None, **kwargs: Any) -> tuple[da.Array, da.Array]:
    """``ndstride.knn`` as two lazy dask arrays ``(distances, indices)`` of shape (mA, k),
    chunked by XA's row chunks.

    Each block pair (an XA row chunk, an XB row chunk) gives its k best with indices into
    the whole of XB; a tree of merges (fan-in ``split_every``) keeps the k best by distance,
    ties to the lower index, NaN last: with the exact kernels (``strategy='simd'``, the
    default) the results are the in-memory ``ndstride.knn``'s, bit for bit, whatever the
    chunks or the fan-in. (``strategy='matmul'`` rounds by its blocks: the distances agree
    to its rounding, and near-ties may order differently.) ``XB=None`` finds each row's
    neighbours among the other rows of XA. Checks and options as for ``ndstride.knn``."""
    fan_in = check_fan_in(split_every)
    self_query = XB is None
    options = {"strategy": strategy, "backend": backend, "threads": threads}
    name, ops = _operands("knn", XA, XB, metric, kwargs, strategy)
    _distance._check_k(k, ops.b.shape[0] - (1 if self_query else 0))
    call, derived, probe = _inputs.call("knn", name, ops, kwargs, options, self_query)
    k = int(k)
    kk = k + 1 if self_query else k
    ca, cb = ops.a.chunks[0], ops.b.chunks[0]
    _chunks.warn_if_many(len(ca) * len(cb) * 2, "knn")
    layer = Layer(f"ndstride-knn-{tokenize(ops.a.name, ops.b.name, call, kk, fan_in)}", ops,
                  derived)
    parts = _per_block(layer, ops, "block", lambda i, j, col0: (
        _tasks.knn_block, call, min(kk, cb[j]), col0, block(ops.a, i), block(ops.b, j),
        *layer.derived_keys))
    row0s = offsets(ca)
    finals = []
    for i, row in enumerate(parts):
        top = layer.tree(row, _tasks.merge_topk, (kk,), fan_in, (i,))
        if self_query:
            top = layer.add((f"{layer.name}-self", i), (_tasks.drop_self, k, row0s[i], top))
        finals.append(top)
    dist, idx = probe
    return tuple(outputs(layer, finals, _tasks.item, [((ca, (k,)), dist.dtype),
                                                      ((ca, (k,)), idx.dtype)]))


def radius_count(XA: Any, XB: Any = None, radius: float = 1.0, metric: Any = "euclidean", *,
                 split_every: int = SPLIT_EVERY, strategy: str = "simd",
                 backend: str = "cpu", threads: int | None = None,
                 **kwargs: Any) -> da.Array:
    """``ndstride.radius_count`` as a lazy int64 dask array chunked by XA's row chunks: how
    many rows of XB (XA itself when None) lie within ``radius``; per-block counts summed
    by a tree of fan-in ``split_every``."""
    fan_in = check_fan_in(split_every)
    options = {"strategy": strategy, "backend": backend, "threads": threads}
    name, ops = _operands("radius_count", XA, XB, metric, kwargs, strategy)
    call, derived, probe = _inputs.call("radius_count", name, ops, kwargs, options)
    radius = float(radius)
    ca = ops.a.chunks[0]
    _chunks.warn_if_many(len(ca) * len(ops.b.chunks[0]) * 2, "radius_count")
    layer = Layer(f"ndstride-radius-count-{tokenize(ops.a.name, ops.b.name, call, radius)}",
                  ops, derived)
    parts = _per_block(layer, ops, "block", lambda i, j, col0: (
        _tasks.radius_count_block, call, radius, block(ops.a, i), block(ops.b, j),
        *layer.derived_keys))
    finals = []
    for i, row in enumerate(parts):
        if not row:  # XB has no rows: nothing within any radius
            row = [layer.add((f"{layer.name}-none", i), (_tasks.no_counts, ca[i]))]
        finals.append(layer.tree(row, _tasks.sum_counts, (), fan_in, (i,)))
    (counts,) = outputs(layer, finals, _tasks.identity, [((ca,), probe.dtype)])
    return counts


def argmin_min(X: Any, Y: Any, metric: Any = "euclidean", *, split_every: int = SPLIT_EVERY,
               strategy: str = "simd", backend: str = "cpu", threads: int | None = None,
               **kwargs: Any) -> tuple[da.Array, da.Array]:
    """``ndstride.argmin_min`` as lazy dask arrays ``(indices, distances)`` chunked by X's
    row chunks: each row's nearest row of Y (ties to the lower index), merged over Y's
    chunks in their order by a tree of fan-in ``split_every``."""
    fan_in = check_fan_in(split_every)
    options = {"strategy": strategy, "backend": backend, "threads": threads}
    name, ops = _operands("argmin_min", X, Y, metric, kwargs, strategy)
    _distance._check_has_rows(ops.b.shape[0])
    call, derived, probe = _inputs.call("argmin_min", name, ops, kwargs, options)
    ca = ops.a.chunks[0]
    _chunks.warn_if_many(len(ca) * len(ops.b.chunks[0]) * 2, "argmin_min")
    layer = Layer(f"ndstride-argmin-min-{tokenize(ops.a.name, ops.b.name, call)}", ops,
                  derived)
    parts = _per_block(layer, ops, "block", lambda i, j, col0: (
        _tasks.argmin_min_block, call, col0, block(ops.a, i), block(ops.b, j),
        *layer.derived_keys))
    finals = [layer.tree(row, _tasks.merge_argmin, (), fan_in, (i,))
              for i, row in enumerate(parts)]
    idx, dist = probe
    return tuple(outputs(layer, finals, _tasks.item, [((ca,), idx.dtype),
                                                      ((ca,), dist.dtype)]))
