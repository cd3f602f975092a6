"""The client's side of every call: the in-memory API's checks on the lazy inputs' shapes
and options, before any task exists, and SciPy's data-derived parameters as lazy arrays
computed once over both inputs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import dask.array as da
import numpy as np

from .. import _distance
from ._tasks import Call


@dataclass
class Operands:
    """The two inputs as dask arrays, features in one chunk; ``same`` when XA is XB."""

    a: da.Array
    b: da.Array
    same: bool


def _shape(x: Any) -> tuple:
    return x.shape if isinstance(x, da.Array) else np.shape(x)


def _known(x: da.Array, which: str) -> None:
    if any(math.isnan(c) for dim in x.chunks for c in dim):
        raise ValueError(f"{which} has chunks of unknown size (call compute_chunk_sizes() "
                         "first): the blocks' row offsets must be known to build the graph")


def operands(XA: Any, XB: Any, fn: str, rows: Callable[[tuple, tuple], tuple[int, int]]
             ) -> Operands:
    """``XA`` and ``XB`` checked as the in-memory API checks them (``fn`` prefixes its
    messages), as dask arrays whose features are one chunk (so that no task ever sums a
    distance over several feature chunks); NumPy inputs are cut into ``rows(shape_a,
    shape_b)`` rows per chunk."""
    same = XA is XB
    for which, x in (("XA", XA), ("XB", XB)):
        if isinstance(x, da.Array):
            _known(x, which)
    _distance._check_shapes(_shape(XA), _shape(XB), fn)
    rows_a, rows_b = rows(_shape(XA), _shape(XB))
    a = _as_dask(XA, rows_a)
    # One NumPy array passed twice is wrapped once, unless the searches want its XB chunks
    # larger than its XA chunks.
    b = a if same and rows_a == rows_b else _as_dask(XB, rows_b)
    return Operands(a, b, a.name == b.name and a.chunks == b.chunks)


def _as_dask(x: Any, rows: int) -> da.Array:
    if isinstance(x, da.Array):
        return x if len(x.chunks[1]) == 1 else x.rechunk({1: -1})
    return da.from_array(np.asarray(x), chunks=(rows, -1))


def derived_parameters(name: str, kwargs: dict, data: tuple[da.Array, ...], n: int) -> dict:
    """SciPy's defaults that come from the data, as one-chunk lazy arrays over all of
    ``data``: seuclidean's ``V = var(vstack(data), ddof=1)``, mahalanobis' ``VI =
    inv(cov(vstack(data).T)).T``. Each is one small task that every block depends on."""
    if name == "seuclidean" and kwargs.get("V") is None:
        X = _stacked(data)
        return {"V": da.var(X, axis=0, ddof=1).rechunk(-1)}
    if name == "mahalanobis" and kwargs.get("VI") is None:
        m = sum(x.shape[0] for x in data)
        _distance._check_observations(m, n)
        X = _stacked(data)
        centred = X - X.mean(axis=0)
        covariance = (centred.T @ centred / (m - 1)).rechunk(-1)
        return {"VI": covariance.map_blocks(_inverse_transposed, dtype=np.float64)}
    return {}


def _stacked(data: tuple[da.Array, ...]) -> da.Array:
    return da.concatenate([x.astype(np.float64) for x in data], axis=0)


def _inverse_transposed(covariance: np.ndarray) -> np.ndarray:
    return np.linalg.inv(np.atleast_2d(covariance)).T.copy()


def call(fn: str, metric: Any, ops: Operands, kwargs: dict, options: dict,
         self_query: bool = False) -> tuple[Call, dict, Any]:
    """The checked block call, the lazy derived parameters it takes, and what the in-memory
    ``fn`` returns for two rows of zeros of the inputs' dtypes (its dtypes).

    That two-row call runs the in-memory API's own checks of the metric, its keyword
    arguments (weights' length, ``p``, ``V``'s and ``VI``'s shapes) and the options, so
    that a bad call fails here, with its message, before any task is submitted. As in
    memory, a self-query (``XB=None``) derives ``V`` and ``VI`` from XA alone."""
    name = _distance._canonical(metric)
    n = ops.a.shape[1]
    data = (ops.a,) if self_query else (ops.a, ops.b)
    derived = derived_parameters(name, kwargs, data, n)
    stand_ins = {"V": np.ones(n), "VI": np.eye(n)}
    probe_kwargs = dict(kwargs)
    probe_kwargs.update({key: stand_ins[key] for key in derived})
    probe_args = {"knn": (1,), "radius_count": (0.0,)}.get(fn, ())
    zeros_a = np.zeros((2, n), dtype=ops.a.dtype)
    zeros_b = np.zeros((2, n), dtype=ops.b.dtype)
    probe = getattr(_distance, fn)(zeros_a, zeros_b, *probe_args, metric=name, **options,
                                   **probe_kwargs)
    fixed = {key: value for key, value in kwargs.items() if key not in derived}
    return Call(fn, name, fixed, options, tuple(derived)), derived, probe
