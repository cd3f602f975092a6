"""ndstride's Python API against SciPy, NumPy and scikit-learn's definitions: results, zero
copies in and out, the GIL, Ctrl-C, and hostile input."""

from __future__ import annotations

import _thread
import gc
import os
import sys
import threading
import time
import weakref

import numpy as np
import pytest
import scipy.spatial.distance as sd
from hypothesis import given, settings
from hypothesis import strategies as st

import ndstride

BOOL_METRICS = ["jaccard", "dice", "rogerstanimoto", "russellrao", "sokalsneath", "yule",
                "hamming"]
FLOAT_METRICS = ["sqeuclidean", "euclidean", "cityblock", "chebyshev", "minkowski",
                 "seuclidean", "cosine", "correlation", "canberra", "braycurtis",
                 "jensenshannon", "mahalanobis", "hamming"]
RNG = np.random.default_rng(20261201)


def data(n, d, kind="float64", rng=RNG):
    if kind == "bool":
        return rng.random((n, d)) < 0.4
    if kind == "int":
        return rng.integers(-5, 6, size=(n, d)).astype(np.int32)
    if kind == "uint8":
        return rng.integers(0, 9, size=(n, d)).astype(np.uint8)
    x = rng.random((n, d)) * 4 - 1
    return x.astype(kind)


def layouts(x):
    """The same values in many memory layouts, each a view (no copy) except 'fortran'."""
    big = np.zeros((x.shape[0] * 2 + 1, x.shape[1] * 3 + 2), dtype=x.dtype)
    big[1::2, 2::3] = x
    ro = x.copy()
    ro.flags.writeable = False
    return {
        "C": np.ascontiguousarray(x),
        "F": np.asfortranarray(x),
        "strided+offset": big[1::2, 2::3],
        "negative": np.ascontiguousarray(x[::-1, ::-1])[::-1, ::-1],
        "read-only": ro,
    }


def owner_of(a):
    """The ndstride object at the end of a result's base chain (NumPy keeps the memoryview it
    took the buffer through, whose ``obj`` is the owner)."""
    base = a.base
    assert isinstance(base, memoryview), type(base)
    return base.obj


def rel_err(got, want, floor=1e-300):
    """Largest relative difference; below ``floor`` the difference is relative to ``floor``
    (cosine and correlation are ``1 - similarity``: their rounding is a few ulps of 1, which
    is no small fraction of a distance near 0, for SciPy as for ndstride)."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    both_nan = np.isnan(got) & np.isnan(want)
    same_inf = np.isinf(got) & (got == want)
    ok = both_nan | same_inf
    with np.errstate(invalid="ignore"):
        diff = np.abs(got - want)
    scale = np.maximum(np.abs(want), floor)
    rel = np.where(ok, 0.0, diff / scale)
    rel = np.where((np.abs(want) < 1e-13) & ~ok, diff, rel)
    return float(rel.max()) if rel.size else 0.0


@pytest.mark.parametrize("metric", FLOAT_METRICS)
@pytest.mark.parametrize("kind", ["float64", "float32", "int"])
def test_every_metric_matches_scipy(metric, kind):
    xa, xb = data(23, 9, kind), data(17, 9, kind)
    if metric == "jensenshannon":
        xa, xb = np.abs(xa), np.abs(xb)
    want = sd.cdist(xa, xb, metric)
    want_p = sd.pdist(xa, metric)
    for name, a in layouts(xa).items():
        for bname, b in layouts(xb).items():
            got = ndstride.cdist(a, b, metric)
            assert got.dtype == np.float64 and got.shape == want.shape
            assert rel_err(got, want) <= 1e-12, (metric, kind, name, bname)
        assert rel_err(ndstride.pdist(a, metric), want_p) <= 1e-12, (metric, kind, name)


@pytest.mark.parametrize("metric", BOOL_METRICS)
@pytest.mark.parametrize("kind", ["bool", "uint8-01"])
def test_boolean_metrics_match_scipy(metric, kind):
    xa, xb = data(21, 70, "bool"), data(13, 70, "bool")
    if kind == "uint8-01":
        xa, xb = xa.astype(np.uint8), xb.astype(np.uint8)
    want = sd.cdist(xa, xb, metric)
    for name, a in layouts(xa).items():
        assert rel_err(ndstride.cdist(a, xb, metric), want) <= 1e-12, (metric, name)
        assert rel_err(ndstride.pdist(a, metric), sd.pdist(xa, metric)) <= 1e-12


def test_broadcast_and_memory_mapped_inputs(tmp_path):
    row = data(1, 6)[0]
    b = np.broadcast_to(row, (40, 6))
    assert b.strides[0] == 0 and not b.flags.writeable
    xb = data(11, 6)
    with ndstride.copy_stats() as s:
        got = ndstride.cdist(b, xb, "cityblock")
    assert s.bytes_copied == 0
    assert rel_err(got, sd.cdist(b, xb, "cityblock")) <= 1e-12
    path = tmp_path / "x.npy"
    x = data(30, 5)
    np.save(path, x)
    mm = np.load(path, mmap_mode="r")
    with ndstride.copy_stats() as s:
        got = ndstride.cdist(mm[::2], mm[:, ::-1][:, ::-1], "euclidean")
    assert s.bytes_copied == 0
    assert rel_err(got, sd.cdist(x[::2], x, "euclidean")) <= 1e-12
    raw = np.memmap(tmp_path / "raw.bin", dtype=np.float64, mode="w+", shape=(8, 4))
    raw[:] = data(8, 4)
    assert rel_err(ndstride.pdist(raw, "chebyshev"), sd.pdist(np.asarray(raw), "chebyshev")) < 1e-12


def test_keyword_arguments_match_scipy():
    xa, xb = data(20, 5), data(15, 5)
    w = RNG.random(5)
    V = RNG.random(5) + 0.5
    A = RNG.random((5, 5))
    VI = A @ A.T + np.eye(5)
    cases = [("minkowski", {"p": 3.5}), ("minkowski", {"p": 1.0, "w": w}),
             ("minkowski", {"p": 2.0, "w": w}), ("minkowski", {"p": 3.0, "w": w}),
             ("minkowski", {"p": np.inf}), ("euclidean", {"w": w}),
             ("sqeuclidean", {"w": w}), ("cityblock", {"w": w}), ("chebyshev", {"w": w}),
             ("seuclidean", {"V": V}), ("mahalanobis", {"VI": VI})]
    for metric, kw in cases:
        assert rel_err(ndstride.cdist(xa, xb, metric, **kw), sd.cdist(xa, xb, metric, **kw)) \
            <= 1e-12, (metric, kw)
        assert rel_err(ndstride.pdist(xa, metric, **kw), sd.pdist(xa, metric, **kw)) \
            <= 1e-12, (metric, kw)


def test_scipy_errors_for_bad_arguments():
    x = data(10, 3)
    with pytest.raises(ValueError, match="Unknown Distance Metric"):
        ndstride.cdist(x, x, "manhatan")
    with pytest.raises(TypeError):
        ndstride.cdist(x, x, "cityblock", p=2)
    with pytest.raises(TypeError):
        ndstride.cdist(x, x, "cityblock", 3.0)
    with pytest.raises(TypeError, match="2nd argument metric"):
        ndstride.cdist(x, x, 3)
    with pytest.raises(NotImplementedError, match="named metrics"):
        ndstride.cdist(x, x, lambda u, v: 0.0)
    with pytest.raises(ndstride.NotSupportedError, match="named metrics"):
        ndstride.pdist(x, sd.euclidean)
    with pytest.raises(ValueError, match="p must be greater than 0"):
        ndstride.cdist(x, x, "minkowski", p=0)
    with pytest.raises(ValueError, match="Weights must have same size"):
        ndstride.cdist(x, x, "minkowski", w=np.ones(4))
    with pytest.raises(ValueError, match="non-negative"):
        ndstride.cdist(x, x, "cityblock", w=-np.ones(3))
    with pytest.raises(ValueError, match="too small"):
        ndstride.pdist(x[:3], "mahalanobis")
    with pytest.raises(ValueError, match="incorrect shape"):
        ndstride.cdist(x, x, out=np.empty((10, 9)))
    with pytest.raises(ValueError, match="C-contiguous"):
        ndstride.cdist(x, x, out=np.empty((10, 10), order="F"))
    with pytest.raises(ValueError, match="double"):
        ndstride.cdist(x, x, out=np.empty((10, 10), dtype=np.float32))
    with pytest.raises(ValueError, match="dtype"):
        ndstride.cdist(x, x, dtype=np.int32)
    with pytest.raises(ValueError, match="threads"):
        ndstride.cdist(x, x, threads=0)


def test_hostile_input_gets_scipy_exceptions_not_crashes():
    x = data(4, 3)
    bad = [
        (x[0], x, ValueError),                          # 1-d
        (x.reshape(2, 2, 3), x, ValueError),            # 3-d
        (x, data(4, 2), ValueError),                    # widths
        (np.array([[{}], [None]], dtype=object), None, ValueError),
        (np.zeros((3, 1), dtype=[("a", "f8"), ("b", "i4")]), None, ValueError),
        (np.array([["a", "b"]]), None, ValueError),
        (np.array([[1 + 1j, 2]]), None, ValueError),
    ]
    for xa, xb, exc in bad:
        xb = xa if xb is None else xb
        with pytest.raises(exc) as info:
            ndstride.cdist(xa, xb)
        if xa.dtype.kind in "OVUc":
            assert str(xa.dtype) in str(info.value)
        if xa.dtype.kind in "OVUc" or xa.ndim != 2:
            with pytest.raises(exc):
                ndstride.pdist(xa)
    # Absurd shapes: a 10^6 x 10^6 broadcast input has a 8 TB output.
    huge = np.broadcast_to(np.ones(2), (10**6, 2))
    with pytest.raises(MemoryError):
        ndstride.cdist(huge, huge)
    # Empty arrays, as SciPy.
    assert ndstride.cdist(np.ones((0, 3)), np.ones((2, 3))).shape == (0, 2)
    assert ndstride.pdist(np.ones((1, 3))).shape == (0,)
    np.testing.assert_array_equal(ndstride.cdist(np.ones((2, 0)), np.ones((2, 0))),
                                  sd.cdist(np.ones((2, 0)), np.ones((2, 0))))
    # NaN and inf propagate as in SciPy.
    y = data(6, 4)
    y[1, 2], y[3, 0] = np.nan, np.inf
    for metric in ["euclidean", "cityblock", "chebyshev", "cosine", "canberra"]:
        with np.errstate(all="ignore"):
            want = sd.cdist(y, y, metric)
        assert rel_err(ndstride.cdist(y, y, metric), want) <= 1e-12, metric


def test_zero_copies_in_and_out():
    x = data(200, 16)
    views = [x[::3], x[:, ::-1], x.T.T, np.asfortranarray(x)[5:, 2:], x[10:150:2, 1::2]]
    for v in views:
        with ndstride.copy_stats() as s:
            d = ndstride.cdist(v, v[:7], "sqeuclidean")
        assert s.bytes_copied == 0, v.strides
        # The result is NumPy's view of ndstride's buffer, and owns it through its base.
        assert type(owner_of(d)).__name__ == "ArrayOwner"
        assert d.flags.writeable and d.flags.c_contiguous
        assert s.bytes_allocated == d.nbytes
    xi = data(50, 8, "int")
    with ndstride.copy_stats() as s:
        ndstride.cdist(xi, xi, "cityblock")
    # Both operands converted to float64, each counted at its int32 size.
    assert s.bytes_copied == 2 * xi.nbytes, s
    with ndstride.copy_stats() as s:
        ndstride.cdist(x.astype(">f8"), x, "cityblock")
    assert s.bytes_copied >= x.nbytes, "the byte-order conversion is counted"


def test_out_is_written_in_place_and_returned():
    xa, xb = data(30, 4), data(20, 4)
    out = np.full((30, 20), -1.0)
    r = ndstride.cdist(xa, xb, "cityblock", out=out)
    assert r is out
    np.testing.assert_allclose(out, sd.cdist(xa, xb, "cityblock"), rtol=1e-12)
    out32 = np.empty((30, 20), dtype=np.float32)
    assert ndstride.cdist(xa, xb, "euclidean", out=out32, dtype=np.float32) is out32
    np.testing.assert_allclose(out32, sd.cdist(xa, xb), rtol=1e-6)
    cond = np.empty(30 * 29 // 2)
    assert ndstride.pdist(xa, "canberra", out=cond) is cond
    np.testing.assert_allclose(cond, sd.pdist(xa, "canberra"), rtol=1e-12)
    # An out that overlaps an input: computed aside, then copied (NumPy's answer).
    buf = np.zeros((6, 6))
    buf[:, :2] = data(6, 2)
    xa_view = buf[:, :2]
    want = sd.cdist(xa_view.copy(), xa_view.copy())
    ndstride.cdist(xa_view, xa_view, out=buf)
    np.testing.assert_allclose(buf, want, rtol=1e-12)


def test_results_outlive_inputs_and_memory_stays_flat():
    x = data(64, 8)
    d = ndstride.cdist(x, x[::-1])
    owner = weakref.ref(owner_of(d))
    del x
    gc.collect()
    assert owner() is not None and np.all(np.isfinite(d))
    del d
    gc.collect()
    assert owner() is None, "the buffer is released with the last NumPy reference"
    # An input view kept alive only by ndstride while it computes.
    y = data(10, 3)
    ref = weakref.ref(y)
    ndstride.pdist(y[::2])
    del y
    gc.collect()
    assert ref() is None, "ndstride holds no reference to an input after the call"

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    x = data(40, 8)
    for _ in range(2000):
        ndstride.cdist(x, x, "cityblock")
    before = rss()
    for _ in range(10000):
        ndstride.cdist(x[::2], x, "cityblock")
        ndstride.knn(x, x, k=2)
    gc.collect()
    assert rss() - before < 8 << 20, "10,000 calls leak"


def test_gil_is_released():
    """Without timings: with the switch interval set beyond the test's length, CPython never
    takes the GIL from a running thread, so the main thread can run while the worker is inside
    the call only if the call itself lets go of the GIL. Held through the call, the main thread
    would first run after it, and see it done."""
    x = data(1500, 64)
    started, state = threading.Event(), {"done": False}

    def worker():
        started.set()  # no GIL switch here: set() only releases a waiter's lock
        ndstride.cdist(x, x, "canberra", threads=1)  # about 0.2 s of work
        state["done"] = True

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        t = threading.Thread(target=worker)
        t.start()
        started.wait()
        ran_during_call = not state["done"]
        t.join()
    finally:
        sys.setswitchinterval(old)
    assert state["done"]
    assert ran_during_call, "the main thread ran only after cdist returned: the GIL was held"


def _interrupt_after(seconds):
    timer = threading.Timer(seconds, _thread.interrupt_main)
    timer.start()
    return timer


def test_ctrl_c_stops_a_long_call_quickly(tmp_path):
    x = np.abs(data(3000, 256))
    for call in [lambda: ndstride.cdist(x, x, "jensenshannon"),
                 lambda: ndstride.pdist(np.vstack([x, x]), "jensenshannon")]:
        _interrupt_after(0.3)
        t = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            call()
            time.sleep(5)  # reached only if the call ignored Ctrl-C
        assert time.perf_counter() - t < 1.5
    path = tmp_path / "d.npy"
    _interrupt_after(0.3)
    with pytest.raises(KeyboardInterrupt):
        ndstride.cdist_to_npy(x, x, path, "jensenshannon", memory="8MiB")
        time.sleep(5)
    assert not path.exists() and os.listdir(tmp_path) == [], "nothing half-written is left"


def test_cdist_to_npy_writes_the_whole_matrix(tmp_path):
    xa, xb = data(700, 6), data(300, 6)
    path = tmp_path / "d.npy"
    ndstride.cdist_to_npy(xa, xb, path, "cityblock", memory="64KiB")
    np.testing.assert_allclose(np.load(path), sd.cdist(xa, xb, "cityblock"), rtol=1e-12)
    ndstride.cdist_to_npy(xa, xb, tmp_path / "s.npy", "seuclidean", memory=1 << 20,
                          dtype=np.float32)
    np.testing.assert_allclose(np.load(tmp_path / "s.npy"), sd.cdist(xa, xb, "seuclidean"),
                               rtol=1e-5)
    with pytest.raises(OSError):
        ndstride.cdist_to_npy(xa, xb, tmp_path / "missing" / "d.npy", "cityblock")
    with pytest.raises(ValueError, match="memory"):
        ndstride.cdist_to_npy(xa, xb, tmp_path / "t.npy", memory="lots")
    assert sorted(os.listdir(tmp_path)) == ["d.npy", "s.npy"]


def reference_knn(xa, xb, k, metric):
    # Ranked by ndstride's own distances (which match SciPy's to 1e-12, tested above):
    # mathematically equal distances may differ in the last bit between the two libraries,
    # and the ranking follows the computed values.
    d = ndstride.cdist(xa, xb, metric)
    d = np.where(np.isnan(d), np.inf, d)
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, idx, axis=1), idx


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cityblock", "cosine",
                                    "chebyshev", "canberra", "jensenshannon", "hamming"])
def test_knn_matches_a_stable_sort(metric):
    # Few distinct values, so ties are common: the lower index comes first.
    xa = RNG.integers(0, 3, size=(40, 4)).astype(np.float64) + 1
    xb = RNG.integers(0, 3, size=(90, 4)).astype(np.float64) + 1
    dist, idx = ndstride.knn(xa, xb[:, ::-1][:, ::-1], k=7, metric=metric)
    want_d, want_i = reference_knn(xa, xb, 7, metric)
    assert idx.dtype == np.int64 and dist.dtype == np.float64 and idx.shape == (40, 7)
    np.testing.assert_array_equal(idx, want_i)
    np.testing.assert_allclose(dist, want_d, rtol=1e-12, atol=1e-15)
    i, dmin = ndstride.argmin_min(xa, xb, metric=metric)
    np.testing.assert_array_equal(i, want_i[:, 0])
    np.testing.assert_allclose(dmin, want_d[:, 0], rtol=1e-12, atol=1e-15)


def test_knn_against_scikit_learn_and_self_query():
    sklearn = pytest.importorskip("sklearn.neighbors")
    x = data(120, 5)
    nn = sklearn.NearestNeighbors(n_neighbors=4, algorithm="brute").fit(x)
    d_want, i_want = nn.kneighbors(x[:30])
    dist, idx = ndstride.knn(x[:30], x, k=4)
    np.testing.assert_array_equal(idx, i_want)
    # scikit-learn's brute force is the matmul trick: a row's distance to itself comes out as
    # up to ~5e-8 instead of 0 (which rows, depends on the BLAS kernel the CPU gets), where
    # ndstride's exact kernel gives 0.
    np.testing.assert_allclose(dist, d_want, rtol=1e-10, atol=1e-7)
    assert (dist[:, 0] == 0).all()
    d_want, i_want = nn.kneighbors()          # every row among the others
    dist, idx = ndstride.knn(x, k=4)
    np.testing.assert_array_equal(idx, i_want)
    np.testing.assert_allclose(dist, d_want, rtol=1e-10)
    with pytest.raises(ValueError, match="k must be"):
        ndstride.knn(x, x, k=121)
    with pytest.raises(ValueError):
        ndstride.knn(x, x[:, :3], k=1)


def test_radius_neighbors():
    x = data(60, 3)
    d = sd.cdist(x[:20], x)
    dist, ind = ndstride.radius_neighbors(x[:20], x, radius=0.8)
    for r in range(20):
        want = np.flatnonzero(d[r] <= 0.8)
        np.testing.assert_array_equal(ind[r], want)
        np.testing.assert_allclose(dist[r], d[r, want], rtol=1e-12)
    np.testing.assert_array_equal(ndstride.radius_count(x[:20], x, radius=0.8),
                                  (d <= 0.8).sum(axis=1))


def test_squareform_round_trip():
    x = data(12, 3)
    v = ndstride.pdist(x)
    M = ndstride.squareform(v)
    np.testing.assert_array_equal(M, sd.squareform(v))
    np.testing.assert_array_equal(ndstride.squareform(M), v)
    with pytest.raises(ValueError, match="symmetric"):
        ndstride.squareform(M + np.triu(np.ones_like(M), 1))
    with pytest.raises(ValueError, match="binomial"):
        ndstride.squareform(np.ones(4))


def test_strategies_and_float32_output():
    xa, xb = data(50, 8), data(40, 8)
    want = sd.cdist(xa, xb, "sqeuclidean")
    for strategy in ["simd", "matmul", "broadcast"]:
        got = ndstride.cdist(xa, xb, "sqeuclidean", strategy=strategy)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    f = ndstride.cdist(xa.astype(np.float32), xb.astype(np.float32), "cityblock",
                       dtype=np.float32)
    assert f.dtype == np.float32
    np.testing.assert_allclose(f, sd.cdist(xa, xb, "cityblock"), rtol=1e-5)
    with pytest.raises(ValueError, match="strategy"):
        ndstride.cdist(xa, xb, strategy="fast")
    with pytest.raises(ValueError, match="backend"):
        ndstride.cdist(xa, xb, backend="tpu")


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=st.integers(0, 12), m=st.integers(1, 12), d=st.integers(1, 6),
       step_r=st.sampled_from([1, 2, -1, -3]), step_c=st.sampled_from([1, 2, -1]),
       transpose=st.booleans(),
       metric=st.sampled_from(["euclidean", "cityblock", "cosine", "canberra", "braycurtis",
                               "chebyshev", "minkowski"]),
       seed=st.integers(0, 2**32 - 1))
def test_any_view_matches_scipy(n, m, d, step_r, step_c, transpose, metric, seed):
    rng = np.random.default_rng(seed)
    base = rng.random((abs(step_r) * max(n, 1) + 2, abs(step_c) * d + 3))
    if transpose:
        base = base.T.copy().T
    xa = base[1::step_r][:n] if step_r > 0 else base[::step_r][:n]
    xa = xa[:, ::step_c][:, :d]
    if xa.shape != (n, d):
        return
    xb = rng.random((m, d))
    with ndstride.copy_stats() as s:
        got = ndstride.cdist(xa, xb, metric)
    if metric in ("euclidean", "cityblock", "cosine", "chebyshev", "minkowski"):
        # The register-blocked kernels read float64 views where they lie; braycurtis negates
        # XB and canberra reads rows into float64 buffers of its own.
        assert s.bytes_copied == 0
    floor = 1e-3 if metric == "cosine" else 1e-300
    assert rel_err(got, sd.cdist(xa, xb, metric), floor) <= 1e-12


def test_tiny_calls_with_their_own_threads_return():
    # A tiny call keeps the GIL; had it run on its pool, the pool thread releasing the inputs
    # (under the GIL) and the caller waiting for the pool would hang the process: so the
    # calls run in a child process with a time limit, from the main and from another thread.
    import subprocess
    import sys

    code = """if True:
        import threading, numpy as np, ndstride
        a = np.arange(15.0).reshape(5, 3)
        def calls():
            for t in (1, 2):
                assert ndstride.knn(a, a, 2, threads=t)[1][0, 0] == 0
                assert ndstride.argmin_min(a, a, threads=t)[0][1] == 1
                assert ndstride.radius_count(a, a, 0.5, threads=t)[0] == 1
                assert ndstride.cdist(a, a, threads=t)[0, 0] == 0
                assert ndstride.pdist(a, threads=t).shape == (10,)
        calls()
        worker = threading.Thread(target=calls)
        worker.start()
        worker.join()
        print("done")
    """
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0 and run.stdout.strip() == "done", run.stderr
