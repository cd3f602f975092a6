"""SciPy's distance API on ndstride's kernels.

The checks, defaults and messages are SciPy's (``scipy.spatial.distance`` 1.17), so that code
written for SciPy gets the same results and the same exceptions; ndstride's extras
(``dtype``, ``strategy``, ``backend``, ``threads``) are keyword-only.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from . import _ndstride

METRIC_NAMES: tuple[str, ...] = tuple(_ndstride.metric_names())

# SciPy's aliases (``scipy.spatial.distance._METRIC_ALIAS``), plus the two metrics SciPy 1.15
# removed, which ndstride keeps.
_ALIASES = {
    "braycurtis": {"braycurtis"},
    "canberra": {"canberra"},
    "chebyshev": {"chebychev", "chebyshev", "cheby", "cheb", "ch"},
    "cityblock": {"cityblock", "cblock", "cb", "c"},
    "correlation": {"correlation", "co"},
    "cosine": {"cosine", "cos"},
    "dice": {"dice"},
    "euclidean": {"euclidean", "euclid", "eu", "e"},
    "hamming": {"matching", "hamming", "hamm", "ha", "h"},
    "jaccard": {"jaccard", "jacc", "ja", "j"},
    "jensenshannon": {"jensenshannon", "js"},
    "mahalanobis": {"mahalanobis", "mahal", "mah"},
    "minkowski": {"minkowski", "mi", "m", "pnorm"},
    "rogerstanimoto": {"rogerstanimoto"},
    "russellrao": {"russellrao"},
    "seuclidean": {"seuclidean", "se", "s"},
    "sokalsneath": {"sokalsneath"},
    "sqeuclidean": {"sqeuclidean", "sqe", "sqeuclid"},
    "yule": {"yule"},
    "sokalmichener": {"sokalmichener"},
    "kulczynski1": {"kulczynski1"},
}
_CANONICAL = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}
# Metrics SciPy computes on booleans (its ``types=['bool']``).
_BOOL_METRICS = {"dice", "rogerstanimoto", "russellrao", "sokalsneath", "yule",
                 "sokalmichener", "kulczynski1"}
# The keyword arguments each metric takes (SciPy's).
_WEIGHTED = {"minkowski", "euclidean", "sqeuclidean", "cityblock", "chebyshev"}
_SUPPORTED_DTYPES = {np.dtype(t) for t in
                     ("?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f4", "f8")}
# Their type characters, for the per-call check (hashing a dtype costs more).
_SUPPORTED_CHARS = frozenset(d.char for d in _SUPPORTED_DTYPES)


class NotSupportedError(NotImplementedError):
    """A call SciPy accepts that ndstride does not compute (a callable metric, weights on a
    metric without a weighted kernel, ``0 < p < 1``); ``scipy.spatial.distance`` computes it."""


def _canonical(metric: Any) -> str:
    if isinstance(metric, str):
        name = _CANONICAL.get(metric) or _CANONICAL.get(metric.lower())
        if name is None:
            raise ValueError(f"Unknown Distance Metric: {metric.lower()}")
        return name
    if callable(metric):
        raise NotSupportedError(
            "ndstride computes named metrics (for example metric='cityblock'), not a callable "
            f"{getattr(metric, '__name__', metric)!r}: pass its name, or call "
            "scipy.spatial.distance for a function of your own"
        )
    raise TypeError("2nd argument metric must be a string identifier or a function.")


def _record_copy(a: np.ndarray) -> np.ndarray:
    _ndstride.credit_copy(a.nbytes)
    return a


def _prepare(x: np.ndarray, booleans: bool) -> np.ndarray:
    """``x`` as ndstride reads it: as it is for a supported dtype in native byte order,
    otherwise converted as SciPy converts it (the copy is counted)."""
    dt = x.dtype
    if not (dt.char in _SUPPORTED_CHARS and dt.isnative):
        if dt.kind not in "biuf" or dt.fields is not None:
            raise ValueError(f"Unsupported dtype {dt}")
        native = dt.newbyteorder("=")
        x = _record_copy(np.asarray(x, dtype=native if native in _SUPPORTED_DTYPES
                                    else np.float64))
    if booleans and x.dtype != np.bool_ and x.size and not ((x == 0) | (x == 1)).all():
        # SciPy computes these on numbers as they are (jaccard: 1 != 2; dice: "fuzzy"
        # products); ndstride counts booleans, which agrees only for 0/1 values.
        raise NotSupportedError("ndstride computes this metric on booleans (0/1 values); "
                                "these inputs have other numbers")
    return x


def _check_kwargs(name: str, kwargs: dict) -> None:
    allowed = {"minkowski": {"p", "w"}, "seuclidean": {"V"}, "mahalanobis": {"VI"}}.get(
        name, {"w"} if name in _WEIGHTED else set())
    extra = set(kwargs) - allowed - {"w"}
    if extra:
        raise TypeError(f"{name}: got an unexpected keyword argument {sorted(extra)[0]!r}")


def _weights(w: Any, n: int) -> np.ndarray:
    w = np.asarray(w, dtype=np.float64, order="C")
    if w.ndim != 1:
        raise ValueError("Input vector should be 1-D.")
    if w.shape[0] != n:
        raise ValueError(f"Weights must have same size as input vector. {w.shape[0]} vs. {n}")
    if np.any(w < 0):
        raise ValueError("Input weights should be all non-negative")
    return w


def _params(name: str, kwargs: dict, data: tuple[np.ndarray, ...], n: int) -> dict:
    """SciPy's checks and data-derived defaults, computed once over all of ``data``.

    Returns the arguments of the extension call; ``square`` asks for the result squared (a
    weighted sqeuclidean), ``columns`` for a subset of the features (a weighted chebyshev).
    """
    _check_kwargs(name, kwargs)
    m = sum(x.shape[0] for x in data)
    out: dict[str, Any] = {"metric": name}
    w = kwargs.get("w")
    if w is not None and name not in _WEIGHTED:
        raise NotSupportedError(f"ndstride's {name} takes no weights w (weighted: "
                                f"{', '.join(sorted(_WEIGHTED))})")
    if name == "minkowski":
        p = kwargs.get("p", 2.0)
        if p <= 0:
            raise ValueError("p must be greater than 0")
        if p < 1:
            raise NotSupportedError(f"ndstride's minkowski needs p >= 1 (got p = {p})")
        out["p"] = float(p)
    if w is not None:
        w = _weights(w, n)
        if name == "euclidean":
            out.update(metric="minkowski", p=2.0)
        elif name == "sqeuclidean":
            out.update(metric="minkowski", p=2.0, square=True)
        elif name == "cityblock":
            out.update(metric="minkowski", p=1.0)
        if name == "chebyshev" or (name == "minkowski" and np.isinf(out["p"])):
            # SciPy's weighted chebyshev: the features with a positive weight, unweighted.
            out.update(metric="chebyshev", columns=np.flatnonzero(w > 0))
            out.pop("p", None)
        else:
            out["w"] = w
    if name == "seuclidean":
        V = kwargs.get("V")
        if V is None:
            X = np.vstack([x.astype(np.float64, copy=False) for x in data])
            V = np.var(X, axis=0, ddof=1)
        else:
            V = np.asarray(V, order="c")
            if len(V.shape) != 1:
                raise ValueError("Variance vector V must be one-dimensional.")
            if V.shape[0] != n:
                raise ValueError("Variance vector V must be of the same dimension as the "
                                 "vectors on which the distances are computed.")
        out["v"] = np.ascontiguousarray(V, dtype=np.float64)
    if name == "mahalanobis":
        VI = kwargs.get("VI")
        if VI is None:
            _check_observations(m, n)
            X = np.vstack([x.astype(np.float64, copy=False) for x in data])
            CV = np.atleast_2d(np.cov(X.T))
            VI = np.linalg.inv(CV).T.copy()
        VI = np.ascontiguousarray(VI, dtype=np.float64)
        if VI.shape != (n, n):
            raise ValueError(f"VI must be a {n} x {n} matrix for {n} features, got shape "
                             f"{VI.shape}")
        out["vi"] = VI
    return out


def _check_has_rows(m: int) -> None:
    if m == 0:
        raise ValueError("argmin_min: Y has no rows, so no row of X has a nearest one")


def _check_observations(m: int, n: int) -> None:
    """SciPy's condition for a covariance matrix of ``m`` observations of ``n`` features
    that can be inverted (mahalanobis' default ``VI``)."""
    if m <= n:
        raise ValueError(
            f"The number of observations ({m}) is too small; the covariance matrix is "
            f"singular. For observations with {n} dimensions, at least {n + 1} "
            "observations are required.")


_REQUESTS: dict[tuple, Any] = {}


def _request(metric: str, p: float | None, out_dtype: str, f64: bool, strategy: str,
             backend: str, threads: Any, arrays: dict) -> Any:
    """The extension's Request for these options; the ones without array parameters are
    built once and reused (most calls)."""
    if threads is not None:
        if not isinstance(threads, (int, np.integer)) or isinstance(threads, bool) \
                or threads < 1:
            raise ValueError(f"threads must be a positive integer, not {threads!r}")
        threads = int(threads)
    key = (metric, p, out_dtype, f64, strategy, backend, threads)
    req = None if arrays else _REQUESTS.get(key)
    if req is None:
        req = _ndstride.Request(metric, p, dtype=out_dtype, accumulate_f64=f64,
                                strategy=strategy, backend=backend, threads=threads, **arrays)
        if not arrays and len(_REQUESTS) < 1024:
            _REQUESTS[key] = req
    return req


_SETUPS: dict[tuple, "_Setup"] = {}
# Requests of cdist calls that need nothing of the Python layer, by the caller's own
# arguments (metric as spelled, dtype, strategy, backend, threads).
_PLAIN: dict[tuple, Any] = {}


def _setup(name, kwargs, data, dtype, strategy, backend, threads, search=False) -> "_Setup":
    """The call's _Setup: built once for the calls without keyword arguments or data-derived
    parameters (nearly all), which then cost a dictionary look-up."""
    if kwargs or name in ("seuclidean", "mahalanobis"):
        return _Setup(name, kwargs, data, dtype, strategy, backend, threads, search)
    key = (name, dtype, strategy, backend, threads, search)
    try:
        return _SETUPS[key]
    except (KeyError, TypeError):  # TypeError: an unhashable argument, checked below
        setup = _Setup(name, kwargs, data, dtype, strategy, backend, threads, search)
        if len(_SETUPS) < 1024:
            _SETUPS[key] = setup
        return setup


class _Setup:
    """What one call computes: the extension's Request, and the two SciPy-definition steps
    that stay in Python (a weighted sqeuclidean squared, a weighted chebyshev's columns)."""

    __slots__ = ("req", "square", "columns", "out_dtype", "booleans", "plain")

    def __init__(self, name, kwargs, data, dtype, strategy, backend, threads, search=False):
        if kwargs or name in ("seuclidean", "mahalanobis"):
            params = _params(name, kwargs, data, data[0].shape[1])
        else:
            params = {"metric": name}
        if dtype is None:
            # SciPy's results: float32 inputs computed in float64. The neighbour searches
            # compute float32 in float32, as scikit-learn does.
            self.out_dtype, f64 = "float64", not search
        else:
            self.out_dtype = np.dtype(dtype).name
            if self.out_dtype not in ("float64", "float32"):
                raise ValueError(f"dtype must be float64 or float32, not {self.out_dtype}")
            f64 = self.out_dtype == "float64"
        arrays = {k: params[k] for k in ("w", "v", "vi") if k in params}
        self.req = _request(params["metric"], params.get("p"), self.out_dtype, f64, strategy,
                            backend, threads, arrays)
        self.square = params.get("square", False)
        self.columns = params.get("columns")
        # Metrics ndstride counts on booleans (SciPy's boolean ones, and jaccard).
        self.booleans = name in _BOOL_METRICS or name == "jaccard"
        # Nothing for Python to do around the extension call: no conversion of the values,
        # no weights handled here, no parameter derived from the data.
        self.plain = not (self.square or self.columns is not None or self.booleans
                          or name in ("seuclidean", "mahalanobis"))

    def input(self, x):
        """``x`` as ndstride reads it (see :func:`_prepare`); a plain array as it is."""
        dt = x.dtype
        if dt.char in _SUPPORTED_CHARS and dt.isnative and self.columns is None \
                and not self.booleans:
            return x
        x = _prepare(x, self.booleans)
        if self.columns is not None:
            x = _record_copy(x[:, self.columns])
        return x

    def finish(self, result):
        if self.square:
            np.square(result, out=result)
        return result

    def exact(self, what):
        if self.square or self.columns is not None:
            raise NotSupportedError(f"{what} takes no weights for this metric")
        return self


def _check_out(out: Any, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    if not isinstance(out, np.ndarray):
        raise TypeError("out must be a numpy.ndarray")
    if out.shape != shape:
        raise ValueError("Output array has incorrect shape.")
    if not out.flags.c_contiguous:
        raise ValueError("Output array must be C-contiguous.")
    if out.dtype != np.dtype(dtype):
        raise ValueError("Output array must be double type." if dtype == "float64"
                         else f"Output array must be {dtype}.")
    if not out.flags.writeable:
        raise ValueError("Output array is read-only.")
    return out


def _array(owner: Any) -> np.ndarray:
    """The NumPy array over an ndstride buffer (its ``base`` is the owner)."""
    return np.asarray(owner)


def _check_shapes(shape_a: tuple, shape_b: tuple, fn: str = "") -> None:
    """SciPy's checks of cdist's two operands, on their shapes (``fn`` prefixes the messages
    of the neighbour searches); ``ndstride.dask`` checks its lazy arrays with it."""
    if len(shape_a) != 2:
        raise ValueError(f"{fn}XA must be a 2-dimensional array.")
    if len(shape_b) != 2:
        raise ValueError(f"{fn}XB must be a 2-dimensional array.")
    if shape_a[1] != shape_b[1]:
        raise ValueError("XA and XB must have the same number of columns "
                         "(i.e. feature dimension.)")


def _two_inputs(XA, XB, fn: str = ""):
    """``XA`` and ``XB`` as NumPy arrays, checked by :func:`_check_shapes`."""
    XA, XB = np.asarray(XA), np.asarray(XB)
    _check_shapes(XA.shape, XB.shape, fn)
    return XA, XB


def _check_k(k: Any, m: int) -> None:
    """knn's ``k``: an integer from 1 to the ``m`` rows it can choose from."""
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"k must be an integer, not {type(k).__name__}")
    if k < 1 or k > m:
        raise ValueError(f"knn: k must be between 1 and the number of rows of XB ({m}); "
                         f"got k = {k}")


def cdist(XA, XB, metric="euclidean", *, out=None, dtype=None, strategy="simd",
          backend="cpu", threads=None, **kwargs) -> np.ndarray:
    """``scipy.spatial.distance.cdist``: the distances between each row of ``XA`` (mA x n)
    and each row of ``XB`` (mB x n), an mA x mB float64 array.

    Every metric SciPy names (and ``sokalmichener``, ``kulczynski1``), with SciPy's keyword
    arguments ``p``, ``w``, ``V``, ``VI``, defaults and exceptions. Inputs are read in place.

    ndstride's extras: ``dtype`` (float64, the default, computed as SciPy computes; or
    float32, computed in float32 from float32 inputs), ``strategy`` ('simd' exact kernels,
    'matmul' the ``|x|^2 + |y|^2 - 2 x.y`` trick, 'broadcast'), ``backend`` ('cpu', 'cuda',
    'auto') and ``threads`` (default: every core).
    """
    if out is None and not kwargs and type(XA) is np.ndarray and type(XB) is np.ndarray:
        # A call whose options an earlier call has checked (SciPy's definitions need nothing
        # of Python for them) goes straight to the extension, which declines (None) the
        # inputs that need the full path: a few microseconds count on small calls.
        if dtype is None and threads is None and strategy == "simd" and backend == "cpu":
            req = _PLAIN.get(metric)  # the defaults: keyed by the metric alone
        else:
            try:
                req = _PLAIN.get((metric, dtype, strategy, backend, threads))
            except TypeError:  # an unhashable argument: the full path says what is wrong
                req = None
        if req is not None:
            owner = _ndstride.cdist(XA, XB, req, None, True)
            if owner is not None:
                return np.asarray(owner)
    name = _canonical(metric)
    XA, XB = _two_inputs(XA, XB)
    setup = _setup(name, kwargs, (XA, XB), dtype, strategy, backend, threads)
    XA, XB = setup.input(XA), setup.input(XB)
    if out is None:
        result = setup.finish(_array(_ndstride.cdist(XA, XB, setup.req)))
        if setup.plain and not kwargs and len(_PLAIN) < 1024:
            defaults = (dtype, threads, strategy, backend) == (None, None, "simd", "cpu")
            _PLAIN[metric if defaults else (metric, dtype, strategy, backend, threads)] = \
                setup.req
        return result
    out = _check_out(out, (XA.shape[0], XB.shape[0]), setup.out_dtype)
    _ndstride.cdist(XA, XB, setup.req, out)
    return setup.finish(out)


def pdist(X, metric="euclidean", *, out=None, dtype=None, strategy="simd", backend="cpu",
          threads=None, **kwargs) -> np.ndarray:
    """``scipy.spatial.distance.pdist``: the condensed distances between the rows of ``X``
    (m x n), pairs (0, 1), (0, 2), ..., (1, 2), ..., each computed once. Arguments as for
    :func:`cdist`."""
    name = _canonical(metric)
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"A 2-dimensional array must be passed. (Shape was {X.shape}).")
    setup = _setup(name, kwargs, (X,), dtype, strategy, backend, threads)
    X = setup.input(X)
    if out is None:
        return setup.finish(_array(_ndstride.pdist(X, setup.req)))
    m = X.shape[0]
    out = _check_out(out, ((m * (m - 1)) // 2,), setup.out_dtype)
    _ndstride.pdist(X, setup.req, out)
    return setup.finish(out)


def squareform(X, force="no", checks=True) -> np.ndarray:
    """``scipy.spatial.distance.squareform``: a condensed distance vector to the square
    matrix, and back. SciPy's checks and messages."""
    X = np.ascontiguousarray(X)
    s = X.shape
    if force.lower() == "tomatrix":
        if len(s) != 1:
            raise ValueError("Forcing 'tomatrix' but input X is not a distance vector.")
    elif force.lower() == "tovector":
        if len(s) != 2:
            raise ValueError("Forcing 'tovector' but input X is not a distance matrix.")
    if len(s) == 1:
        if s[0] == 0:
            return np.zeros((1, 1), dtype=X.dtype)
        d = int(np.ceil(np.sqrt(s[0] * 2)))
        if d * (d - 1) != s[0] * 2:
            raise ValueError("Incompatible vector size. It must be a binomial coefficient n "
                             "choose 2 for some integer n >= 2.")
        if X.dtype in _SUPPORTED_DTYPES and X.dtype.isnative:
            return _array(_ndstride.squareform(X))
        M = np.zeros((d, d), dtype=X.dtype)
        M[np.triu_indices(d, 1)] = X
        return M + M.T
    elif len(s) == 2:
        if s[0] != s[1]:
            raise ValueError("The matrix argument must be square.")
        if checks:
            _is_valid_dm(X)
        d = s[0]
        if d <= 1:
            return np.array([], dtype=X.dtype)
        if X.dtype in _SUPPORTED_DTYPES and X.dtype.isnative and checks:
            return _array(_ndstride.squareform(X))
        return X[np.triu_indices(d, 1)]
    raise ValueError(f"The first argument must be one or two dimensional array. A "
                     f"{len(s)}-dimensional array is not permitted")


def _is_valid_dm(D: np.ndarray) -> None:
    """SciPy's ``is_valid_dm(D, throw=True, name='X')`` with ``tol=0``."""
    if len(D.shape) != 2:
        raise ValueError("Distance matrix 'X' must have shape=2 (i.e. be two-dimensional).")
    if D.shape[0] != D.shape[1]:
        raise ValueError("Distance matrix 'X' must be square.")
    if not (D == D.T).all():
        raise ValueError("Distance matrix 'X' must be symmetric.")
    if not (D[range(0, D.shape[0]), range(0, D.shape[0])] == 0).all():
        raise ValueError("Distance matrix 'X' diagonal must be zero.")


def knn(XA, XB=None, k=1, metric="euclidean", *, strategy="simd", backend="cpu",
        threads=None, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest rows of ``XB`` for each row of ``XA``: ``(distances, indices)``,
    float64 and int64 arrays of shape (mA, k), nearest first, ties to the lower index, NaN
    distances last. scikit-learn's ``NearestNeighbors(algorithm='brute').fit(XB)
    .kneighbors(XA, k)``; with ``XB=None``, as ``kneighbors()`` without X: the neighbours of
    each row of ``XA`` among the others, itself left out. The matrix is never held."""
    name = _canonical(metric)
    self_query = XB is None
    XA, XB = _two_inputs(XA, XA if self_query else XB, "knn: ")
    _check_k(k, XB.shape[0] - (1 if self_query else 0))
    setup = _setup(name, kwargs, (XA,) if self_query else (XA, XB), None, strategy, backend,
                   threads, search=True).exact("knn")
    if self_query:
        A = B = setup.input(XA)
    else:
        A, B = setup.input(XA), setup.input(XB)
    kk = k + 1 if self_query else k
    dist, idx = (_array(o) for o in _ndstride.knn(A, B, int(kk), setup.req))
    if self_query:
        dist, idx = _drop_self(dist, idx, k, 0)
    return dist, idx


def _drop_self(dist: np.ndarray, idx: np.ndarray, k: int, row0: int) -> tuple:
    """A self-query's ``k + 1`` best without each row itself (rows numbered from ``row0``);
    where ties at lower indices pushed it out, the last one goes instead."""
    rows = np.arange(row0, row0 + idx.shape[0])[:, None]
    is_self = idx == rows
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), idx.shape[1] - 1)
    keep = np.ones(idx.shape, dtype=bool)
    keep[np.arange(idx.shape[0]), drop] = False
    return dist[keep].reshape(-1, k), idx[keep].reshape(-1, k)


def _radius(XA, XB, radius, metric, strategy, backend, threads, kwargs, count_only, what):
    name = _canonical(metric)
    XA, XB = _two_inputs(XA, XA if XB is None else XB, f"{what}: ")
    setup = _setup(name, kwargs, (XA, XB), None, strategy, backend, threads,
                   search=True).exact(what)
    A, B = setup.input(XA), setup.input(XB)
    return XA.shape[0], [_array(o) for o in _ndstride.radius_neighbors(
        A, B, float(radius), setup.req, count_only)]


def radius_neighbors(XA, XB=None, radius=1.0, metric="euclidean", *, return_distance=True,
                     strategy="simd", backend="cpu", threads=None, **kwargs):
    """The rows of ``XB`` within ``radius`` (``<=``) of each row of ``XA``, in index order:
    scikit-learn's ``radius_neighbors`` (``sort_results=False``): object arrays of per-row
    arrays, ``(distances, indices)``, or ``indices`` alone without ``return_distance``. The
    arrays are views of two flat arrays, never a matrix."""
    n, (indptr, indices, distances) = _radius(XA, XB, radius, metric, strategy, backend,
                                              threads, kwargs, False, "radius_neighbors")
    splits = indptr[1:-1]
    ind = np.empty(n, dtype=object)
    ind[:] = np.split(indices, splits) if n else []
    if not return_distance:
        return ind
    dist = np.empty(n, dtype=object)
    dist[:] = np.split(distances, splits) if n else []
    return dist, ind


def radius_count(XA, XB=None, radius=1.0, metric="euclidean", *, strategy="simd",
                 backend="cpu", threads=None, **kwargs) -> np.ndarray:
    """How many rows of ``XB`` lie within ``radius`` (``<=``) of each row of ``XA`` (int64)."""
    _, (counts,) = _radius(XA, XB, radius, metric, strategy, backend, threads, kwargs, True,
                           "radius_count")
    return counts


def argmin_min(X, Y, metric="euclidean", *, strategy="simd", backend="cpu", threads=None,
               **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's ``pairwise_distances_argmin_min(X, Y)``: for each row of ``X`` the
    index of its nearest row of ``Y`` (int64, ties to the lower index) and that distance."""
    name = _canonical(metric)
    X, Y = _two_inputs(X, Y, "argmin_min: ")
    _check_has_rows(Y.shape[0])
    setup = _setup(name, kwargs, (X, Y), None, strategy, backend, threads,
                   search=True).exact("argmin_min")
    A, B = setup.input(X), setup.input(Y)
    idx, dist = _ndstride.argmin_min(A, B, setup.req)
    return _array(idx), _array(dist)


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1000, "kib": 1 << 10, "m": 1 << 20, "mb": 10**6,
          "mib": 1 << 20, "g": 1 << 30, "gb": 10**9, "gib": 1 << 30, "t": 1 << 40,
          "tb": 10**12, "tib": 1 << 40}


def _bytes(memory: int | str) -> int:
    if isinstance(memory, (int, np.integer)):
        value = int(memory)
    else:
        match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([a-zA-Z]*)\s*", str(memory))
        if not match or match.group(2).lower() not in _UNITS:
            raise ValueError(f"memory must be a number of bytes or a size like '512MiB', "
                             f"not {memory!r}")
        value = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if value <= 0:
        raise ValueError(f"memory must be positive, got {memory!r}")
    return value


def cdist_to_npy(XA, XB, path, metric="euclidean", memory="512MiB", progress=False, *,
                 dtype=None, strategy="simd", backend="cpu", threads=None, **kwargs) -> None:
    """The cdist matrix written to the ``.npy`` file ``path`` block by block, holding at most
    about ``memory`` bytes of it at a time, for matrices larger than memory. The file appears
    under its name only when complete (a temporary file, then a rename): an error or Ctrl-C
    leaves nothing that passes for a result. Load it with ``np.load(path, mmap_mode='r')``."""
    name = _canonical(metric)
    XA, XB = _two_inputs(XA, XB)
    setup = _setup(name, kwargs, (XA, XB), dtype, strategy, backend, threads)
    setup.exact("cdist_to_npy")
    A, B = setup.input(XA), setup.input(XB)
    _ndstride.cdist_to_npy(A, B, os.fspath(path), setup.req, _bytes(memory), bool(progress))
