"""Distance matrices on a cluster: a lazy ``cdist``, and ``cdist_to_npy`` into one file."""

from __future__ import annotations

import os
import uuid
from typing import Any

import dask.array as da
import numpy as np
from dask.base import tokenize
from dask.delayed import Delayed

from .. import _distance
from . import _chunks, _inputs, _npy, _tasks
from ._graph import Layer, block, offsets


def _checked(XA: Any, XB: Any, metric: Any, options: dict, kwargs: dict, what: str):
    """The operands, the block call, its derived parameters and the probe's result of a
    cdist, checked as the in-memory cdist checks it."""
    name = _distance._canonical(metric)
    dtype = options["dtype"]
    itemsize = 8 if dtype is None else np.dtype(dtype).itemsize
    ops = _inputs.operands(XA, XB, "", lambda sa, sb: _chunks.row_chunks(
        sa[0], sb[0], sa[1], name, itemsize=itemsize, p=_chunks.power(kwargs)))
    call, derived, probe = _inputs.call("cdist", name, ops, kwargs, options)
    _chunks.warn_if_many(len(ops.a.chunks[0]) * len(ops.b.chunks[0]), what)
    return ops, call, derived, probe


def cdist(XA: Any, XB: Any, metric: Any = "euclidean", *, dtype: Any = None,
          strategy: str = "simd", backend: str = "cpu", threads: int | None = None,
          **kwargs: Any) -> da.Array:
    """``ndstride.cdist`` as a lazy dask array, chunked by XA's row chunks x XB's.

    ``XA`` and ``XB`` are dask arrays (NumPy arrays are cut into row chunks of about 128 MiB
    output blocks, :func:`row_chunks`); their features are brought into one chunk. The
    metric, SciPy's keyword arguments (``p``, ``w``, ``V``, ``VI``) and ndstride's options
    are those of :func:`ndstride.cdist`, and are checked now, with its messages. SciPy's
    data-derived defaults (seuclidean's ``V``, mahalanobis' ``VI``) are computed once over
    both inputs, by one task every block depends on. ``cdist(X, X)`` computes each
    off-diagonal block pair once; block (i, j) for i > j is the transpose of block (j, i).
    ``threads``: per task (default: see :func:`ndstride.dask.task_threads`)."""
    options = {"dtype": dtype, "strategy": strategy, "backend": backend, "threads": threads}
    ops, call, derived, probe = _checked(XA, XB, metric, options, kwargs, "cdist")
    ca, cb = ops.a.chunks[0], ops.b.chunks[0]
    layer = Layer(f"ndstride-cdist-{tokenize(ops.a.name, ops.b.name, ops.same, call)}",
                  ops, derived)
    for i in range(len(ca)):
        for j in range(len(cb)):
            if ops.same and i > j:
                task = (_tasks.mirror_block, (layer.name, j, i))
            else:
                task = (_tasks.cdist_block, call, block(ops.a, i), block(ops.b, j),
                        *layer.derived_keys)
            layer.add((layer.name, i, j), task)
    return da.Array(layer.graph(), layer.name, (ca, cb), dtype=probe.dtype)


def cdist_to_npy(XA: Any, XB: Any, path: Any, metric: Any = "euclidean", *, sync: bool = True,
                 dtype: Any = None, strategy: str = "simd", backend: str = "cpu",
                 threads: int | None = None, **kwargs: Any) -> Any:
    """The cdist matrix written by the workers into the one ``.npy`` file ``path``, on a
    filesystem the client and every worker share; no block is ever sent to the client.

    The file is created at once under a temporary name beside ``path`` (a bad destination
    fails here, before any task), each task writes its block's rows into it and syncs them,
    and the last task writes the header, syncs, renames it to ``path`` and syncs the
    directory: ``path`` appears only complete. A failed, interrupted or cancelled
    computation removes the temporary file (which, its header unwritten, never loads as an
    array meanwhile). A worker lost mid-write is recomputed and writes the same bytes.

    ``sync=True`` computes now (on the active client, or dask's default scheduler) and
    returns None; ``sync=False`` needs a ``distributed.Client`` and returns its Future (of
    ``path``); cancelling it removes the temporary file. Options as for :func:`cdist`."""
    options = {"dtype": dtype, "strategy": strategy, "backend": backend, "threads": threads}
    ops, call, derived, probe = _checked(XA, XB, metric, options, kwargs, "cdist_to_npy")
    ca, cb = ops.a.chunks[0], ops.b.chunks[0]
    client = None
    if not sync:
        client = _client()
    token = uuid.uuid4().hex  # every call its own temporary file and graph
    shape = (ops.a.shape[0], ops.b.shape[0])
    target, head = _npy.NpyTarget.create(os.fspath(path), probe.dtype, shape, token)
    try:
        layer = Layer(f"ndstride-cdist-to-npy-{token}", ops, derived)
        row0s, col0s = offsets(ca), offsets(cb)
        written = []
        for i in range(len(ca)):
            for j in range(len(cb)):
                if ops.same and i > j:
                    continue  # written with block (j, i)
                mirror = ops.same and i < j
                written.append(layer.add((layer.name, i, j), (
                    _npy.write_block, call, target, row0s[i], col0s[j], mirror,
                    block(ops.a, i), block(ops.b, j), *layer.derived_keys)))
        final = layer.add((layer.name, "finish"), (_npy.finish, target, head, *written))
        result = Delayed(final, layer.graph(), layer=layer.name)
        if client is not None:
            future = client.compute(result)
            future.add_done_callback(lambda f: f.status == "finished" or target.discard())
            return future
        result.compute()
    except BaseException:
        target.discard()
        raise
    return None


def _client() -> Any:
    try:
        from distributed import get_client
        return get_client()
    except (ImportError, ValueError):
        raise ValueError("cdist_to_npy(sync=False) returns a distributed Future: it needs an "
                         "active distributed.Client") from None
