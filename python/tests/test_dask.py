"""ndstride.dask on a real cluster (two worker processes on loopback) and on the
synchronous scheduler: against SciPy and the in-memory ndstride, with faults, cancellation
and bad input."""

import glob
import os
import pickle
import signal
import time

import numpy as np
import pytest

if os.environ.get("NDSTRIDE_REQUIRE_DASK"):  # CI: a missing extra is a failure, not a skip
    import dask  # noqa: F401
    import distributed  # noqa: F401
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
hypothesis = pytest.importorskip("hypothesis")

import dask.array as da  # noqa: E402
from distributed.diagnostics.plugin import SchedulerPlugin  # noqa: E402
import scipy.spatial.distance as sd  # noqa: E402
from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import ndstride  # noqa: E402
import ndstride.dask as nd  # noqa: E402

RNG = np.random.default_rng(20)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _bools(m, n):
    return RNG.random((m, n)) < 0.4


# (metric, kwargs, data kind): every metric family, with SciPy's keyword arguments.
CASES = [
    ("euclidean", {}, "real"), ("sqeuclidean", {}, "real"), ("cityblock", {}, "real"),
    ("chebyshev", {}, "real"), ("minkowski", {"p": 3.0}, "real"),
    ("minkowski", {"p": 1.5, "w": "w"}, "real"), ("euclidean", {"w": "w"}, "real"),
    ("seuclidean", {}, "real"), ("seuclidean", {"V": "V"}, "real"),
    ("mahalanobis", {}, "real"), ("cosine", {}, "real"), ("correlation", {}, "real"),
    ("canberra", {}, "real"), ("braycurtis", {}, "real"), ("jensenshannon", {}, "positive"),
    ("hamming", {}, "real"), ("jaccard", {}, "bool"), ("dice", {}, "bool"),
    ("rogerstanimoto", {}, "bool"), ("russellrao", {}, "bool"),
    ("sokalsneath", {}, "bool"), ("yule", {}, "bool"),
]


def _data(kind, m, n):
    if kind == "bool":
        return _bools(m, n)
    x = RNG.random((m, n))
    return x if kind == "positive" else x - 0.3


def _kwargs(kwargs, n):
    values = {"w": RNG.random(n) + 0.1, "V": RNG.random(n) + 0.5}
    return {k: values[v] if isinstance(v, str) else v for k, v in kwargs.items()}


def test_cdist_every_metric_family_on_the_cluster(client):
    lazy, expected, in_memory = [], [], []
    for metric, kwargs, kind in CASES:
        A, B = _data(kind, 61, 7), _data(kind, 45, 7)
        kw = _kwargs(kwargs, 7)
        a = da.from_array(A, chunks=(20, 3))  # features split: cdist rejoins them
        b = da.from_array(B, chunks=(16, 7))
        lazy.append(nd.cdist(a, b, metric, **kw))
        expected.append(sd.cdist(A, B, metric, **kw))
        in_memory.append(ndstride.cdist(A, B, metric, **kw))
    results = dask.compute(*lazy)
    for (metric, kwargs, _), r, e, m in zip(CASES, results, expected, in_memory):
        assert r.shape == e.shape and r.dtype == np.float64
        np.testing.assert_allclose(r, e, rtol=1e-12, atol=1e-13, err_msg=metric)
        if metric in ("seuclidean", "mahalanobis") and not kwargs:
            # V and VI derived by dask's reductions: SciPy's definition, other rounding
            np.testing.assert_allclose(r, m, rtol=1e-12, atol=1e-13)
        else:
            assert np.array_equal(r, m, equal_nan=True), metric


def test_derived_parameters_are_computed_once_over_both_inputs():
    A, B = RNG.random((40, 4)), RNG.random((30, 4)) * 3
    a, b = da.from_array(A, chunks=(10, 4)), da.from_array(B, chunks=(10, 4))
    for metric in ("seuclidean", "mahalanobis"):
        r = nd.cdist(a, b, metric)
        graph = dict(r.__dask_graph__())
        blocks = [v for v in graph.values()
                  if isinstance(v, tuple) and v[0] is nd._tasks.cdist_block]
        assert len(blocks) == 4 * 3
        # every block takes the same one-chunk V (or VI): one task computes it
        (key,) = {task[-1] for task in blocks}
        assert key[1:] == (0,) * (len(key) - 1) and key in graph
        np.testing.assert_allclose(r.compute(scheduler="synchronous"),
                                   sd.cdist(A, B, metric), rtol=1e-12)
    # V from both inputs: B's spread changes XA-to-XA distances too
    np.testing.assert_allclose(nd.cdist(a, b, "seuclidean").compute()[0],
                               sd.cdist(A[:1], B, "seuclidean", V=np.var(
                                   np.vstack([A, B]), axis=0, ddof=1))[0], rtol=1e-12)


def _block_tasks(arr, fn_name):
    graph = dict(arr.__dask_graph__())
    return [v for v in graph.values() if fn_name in repr(v)]


def test_symmetric_cdist_computes_each_block_pair_once(client):
    X = RNG.random((70, 5))
    x = da.from_array(X, chunks=(20, 5))  # 4 row chunks
    r = nd.cdist(x, x, "cityblock")
    assert len(_block_tasks(r, "cdist_block")) == 4 * 5 // 2
    assert len(_block_tasks(r, "mirror_block")) == 4 * 3 // 2
    assert np.array_equal(r.compute(), sd.cdist(X, X, "cityblock"))
    # the same data wrapped twice is the same dask array, so the same saving
    X = RNG.random((300, 3))
    same = nd.cdist(da.from_array(X, chunks=100), da.from_array(X, chunks=100))
    assert len(_block_tasks(same, "mirror_block")) == 3


def _sorted_knn(D, k):
    idx = np.argsort(D, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(D, idx, axis=1), idx


def test_neighbours_on_the_cluster(client):
    A = np.round(RNG.random((230, 6)) * 4) / 4  # coarse values: many ties
    B = np.round(RNG.random((170, 6)) * 4) / 4
    a, b = da.from_array(A, chunks=(50, 6)), da.from_array(B, chunks=(23, 6))
    out = dask.compute(*nd.knn(a, b, k=9, metric="cityblock"),
                       *nd.knn(a, None, k=4, metric="euclidean", split_every=2),
                       nd.radius_count(a, b, 0.9, "chebyshev"),
                       *nd.argmin_min(a, b, "cosine", split_every=3))
    dist, idx, self_dist, self_idx, counts, amin, amin_dist = out
    D = sd.cdist(A, B, "cityblock")
    want_dist, want_idx = _sorted_knn(D, 9)
    assert np.array_equal(idx, want_idx) and np.allclose(dist, want_dist, rtol=1e-15)
    mem_dist, mem_idx = ndstride.knn(A, B, 9, "cityblock")
    assert np.array_equal(dist, mem_dist) and np.array_equal(idx, mem_idx)
    mem = ndstride.knn(A, None, 4, "euclidean")
    assert np.array_equal(self_dist, mem[0]) and np.array_equal(self_idx, mem[1])
    assert not (self_idx == np.arange(230)[:, None]).any()
    assert np.array_equal(counts, (sd.cdist(A, B, "chebyshev") <= 0.9).sum(axis=1))
    C = sd.cdist(A, B, "cosine")
    assert np.array_equal(amin, np.argmin(C, axis=1))
    np.testing.assert_allclose(amin_dist, C.min(axis=1), rtol=1e-12, atol=1e-15)
    mem = ndstride.argmin_min(A, B, "cosine")
    assert np.array_equal(amin, mem[0]) and np.array_equal(amin_dist, mem[1])


def test_everything_the_tasks_ship_pickles(tmp_path):
    A, B = RNG.random((30, 3)), RNG.random((20, 3))
    a, b = da.from_array(A, chunks=10), da.from_array(B, chunks=10)
    collections = [nd.cdist(a, b, "minkowski", p=3, w=np.ones(3)), nd.cdist(a, a),
                   nd.cdist(a, b, "mahalanobis"), *nd.knn(a, b, 3), *nd.knn(a, None, 2),
                   nd.radius_count(a, b, 0.5), *nd.argmin_min(a, b, "seuclidean")]
    for c in collections:
        graph = dict(c.__dask_graph__())
        restored = pickle.loads(pickle.dumps(graph))  # the standard pickle, not cloudpickle
        assert set(restored) == set(graph)
        got = da.Array(restored, c.name, c.chunks, dtype=c.dtype).compute(
            scheduler="synchronous")
        assert np.array_equal(got, c.compute(scheduler="synchronous"), equal_nan=True)
    target, head = nd._npy.NpyTarget.create(str(tmp_path / "x.npy"), np.float64, (2, 2), "t")
    assert pickle.loads(pickle.dumps(target)) == target
    target.discard()


def _chunking(draw, m):
    """A random partition of ``m`` rows into chunks (empty ones included)."""
    cuts = sorted(draw(st.lists(st.integers(0, m), max_size=5)))
    return tuple(np.diff([0, *cuts, m]).tolist())


@st.composite
def problems(draw):
    m_a, m_b, n = draw(st.integers(1, 25)), draw(st.integers(1, 25)), draw(st.integers(1, 5))
    values = st.sampled_from([0.0, 1.0, 2.0, 3.0])  # small integers: ties everywhere
    A = draw(hnp.arrays(np.float64, (m_a, n), elements=values))
    B = draw(hnp.arrays(np.float64, (m_b, n), elements=values))
    if draw(st.booleans()):  # a NaN row: its distances are NaN and sort last
        B[draw(st.integers(0, m_b - 1))] = np.nan
    ca, cb = _chunking(draw, m_a), _chunking(draw, m_b)
    metric = draw(st.sampled_from(["euclidean", "cityblock", "cosine", "chebyshev",
                                   "minkowski"]))
    k = draw(st.integers(1, m_b))
    fan_in = draw(st.integers(2, 5))
    return A, B, ca, cb, metric, k, fan_in


@settings(max_examples=200, deadline=None, derandomize=True)
@given(problems())
def test_results_do_not_depend_on_chunks_or_fan_in(problem):
    A, B, ca, cb, metric, k, fan_in = problem
    kw = {"p": 3.0} if metric == "minkowski" else {}
    a, b = da.from_array(A, chunks=(ca, -1)), da.from_array(B, chunks=(cb, -1))
    with dask.config.set(scheduler="synchronous"):
        dist, idx = dask.compute(*nd.knn(a, b, k, metric, split_every=fan_in, **kw))
        want = ndstride.knn(A, B, k, metric, **kw)
        assert np.array_equal(idx, want[1]) and np.array_equal(dist, want[0], equal_nan=True)
        if A.shape[0] > k:
            got = dask.compute(*nd.knn(a, None, k, metric, split_every=fan_in, **kw))
            want = ndstride.knn(A, None, k, metric, **kw)
            assert np.array_equal(got[1], want[1])
            assert np.array_equal(got[0], want[0], equal_nan=True)
        got = dask.compute(*nd.argmin_min(a, b, metric, split_every=fan_in, **kw))
        want = ndstride.argmin_min(A, B, metric, **kw)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1],
                                                                  equal_nan=True)
        got = nd.radius_count(a, b, 1.5, metric, split_every=fan_in, **kw).compute()
        assert np.array_equal(got, ndstride.radius_count(A, B, 1.5, metric, **kw))
        got = nd.cdist(a, b, metric, **kw).compute()
        assert np.array_equal(got, ndstride.cdist(A, B, metric, **kw), equal_nan=True)
        got = nd.cdist(a, a, metric, **kw).compute()
        # blocks on and above the diagonal as in memory, those below their mirror images
        want = ndstride.cdist(A, A, metric, **kw)
        starts = np.cumsum((0, *ca))
        for i in range(len(ca)):
            for j in range(i):
                rows, cols = slice(starts[i], starts[i + 1]), slice(starts[j], starts[j + 1])
                want[rows, cols] = want[cols, rows].T
        assert np.array_equal(got, want, equal_nan=True)


def test_tasks_compute_with_one_thread_per_worker_slot(client):
    assert client.submit(nd.task_threads, None, pure=False).result() == 1
    X = RNG.random((3000, 16))
    nd.cdist(da.from_array(X, chunks=500), X[:800], "cityblock").min(axis=1).compute()

    def ndstride_threads():
        names = []
        for comm in glob.glob("/proc/self/task/*/comm"):
            with open(comm) as f:
                names.append(f.read().strip())
        return sum(name.startswith("ndstride-") for name in names)

    counts = client.run(ndstride_threads).values()
    # one worker thread: one compute thread, never one per core (nor rayon's global pool)
    assert max(counts) <= 1 and sum(counts) >= 1


def _layer_tasks_in_memory(client, prefix):
    def count(dask_scheduler, prefix=prefix):
        return sum(ts.state == "memory" for key, ts in dask_scheduler.tasks.items()
                   if prefix in str(key))
    return client.run_on_scheduler(count)


def _kill_a_worker_holding_results(client):
    pids = client.run(os.getpid)
    holding = client.has_what()
    victim = max(holding, key=lambda w: len(holding[w]))
    os.kill(pids[victim], signal.SIGKILL)
    return pids[victim]


# Blocks of a slow metric (a fractional power per term), so that the computation is still
# running when a worker dies: 64 tasks of about 25 ms.
SLOW = {"metric": "minkowski", "p": 3.5}
SLOW_A, SLOW_B = RNG.random((1600, 96)), RNG.random((1600, 96))
_SLOW_REFERENCE = []


def _slow_reference():
    if not _SLOW_REFERENCE:
        _SLOW_REFERENCE.append(sd.cdist(SLOW_A, SLOW_B, **SLOW))
    return _SLOW_REFERENCE[0]


def _wait_for(predicate, seconds=60.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_a_worker_killed_mid_computation(client):
    r = nd.cdist(da.from_array(SLOW_A, chunks=200), da.from_array(SLOW_B, chunks=200), **SLOW)
    future = client.compute(r)
    assert _wait_for(lambda: _layer_tasks_in_memory(client, "ndstride-cdist") >= 4)
    assert not future.done(), "the computation ended before the fault: make it longer"
    killed = _kill_a_worker_holding_results(client)
    result = future.result()
    np.testing.assert_allclose(result, _slow_reference(), rtol=1e-12)
    client.wait_for_workers(2, timeout=60)
    assert killed not in client.run(os.getpid).values()  # the nanny started a new one


def test_cdist_to_npy_survives_a_killed_worker(client, tmp_path):
    path = tmp_path / "d.npy"
    future = nd.cdist_to_npy(da.from_array(SLOW_A, chunks=200),
                             da.from_array(SLOW_B, chunks=200), path, sync=False, **SLOW)
    assert _wait_for(lambda: _layer_tasks_in_memory(client, "ndstride-cdist-to-npy") >= 3)
    assert not future.done()
    _kill_a_worker_holding_results(client)
    assert future.result() == str(path)
    assert os.listdir(tmp_path) == ["d.npy"]  # one file, the temporary one renamed
    np.testing.assert_allclose(np.load(path), _slow_reference(), rtol=1e-12)
    client.wait_for_workers(2, timeout=60)
    nd.cdist_to_npy(SLOW_A, SLOW_B[:100], path, "cityblock")  # blocking, over the old file
    assert np.array_equal(np.load(path), ndstride.cdist(SLOW_A, SLOW_B[:100], "cityblock"))
    assert os.listdir(tmp_path) == ["d.npy"]


def test_a_cancelled_computation_leaves_no_file(client, tmp_path):
    path = tmp_path / "d.npy"
    future = nd.cdist_to_npy(da.from_array(SLOW_A, chunks=200),
                             da.from_array(SLOW_B, chunks=200), path, sync=False, **SLOW)
    assert _wait_for(lambda: _layer_tasks_in_memory(client, "ndstride-cdist-to-npy") >= 2)
    assert os.listdir(tmp_path)  # the temporary file, being written...
    with pytest.raises(ValueError):
        np.load(tmp_path / os.listdir(tmp_path)[0])  # ...which never loads as an array
    client.cancel(future)
    assert _wait_for(lambda: not os.listdir(tmp_path), 10)
    time.sleep(1.0)  # the tasks still running when it was cancelled end without a trace
    assert not os.listdir(tmp_path)


def test_a_failed_computation_leaves_no_file(client, tmp_path):
    A = _bools(400, 5).astype(np.float64)
    A[-1, 0] = 2.0  # dice counts 0/1 values: the last block fails on its worker
    path = tmp_path / "d.npy"
    with pytest.raises(ndstride.NotSupportedError, match="booleans"):
        nd.cdist_to_npy(da.from_array(A, chunks=100), A[:50], path, "dice")
    assert not os.listdir(tmp_path)


def _message(fn, *args, **kwargs):
    with pytest.raises(Exception) as info:
        fn(*args, **kwargs)
    return type(info.value), str(info.value)


class GraphCounter(SchedulerPlugin):
    """Counts the task keys each graph brings to the scheduler. The count of tasks the
    scheduler holds is no witness: a test before may still be releasing its own."""

    name = "ndstride-test-graph-counter"

    def __init__(self):
        self.keys = 0

    def update_graph(self, scheduler, *, keys, **kwargs):
        self.keys += len(keys)


def _keys_submitted(client):
    return client.run_on_scheduler(
        lambda dask_scheduler: dask_scheduler.plugins[GraphCounter.name].keys)


def test_the_graph_counter_sees_a_computation(client):
    client.register_plugin(GraphCounter())
    try:
        da.from_array(np.ones((4, 4)), chunks=2).sum().compute()
        assert _keys_submitted(client) > 0
    finally:
        client.unregister_scheduler_plugin(GraphCounter.name)


def test_bad_input_fails_before_any_task_with_the_in_memory_message(client, tmp_path):
    client.register_plugin(GraphCounter())
    try:
        _bad_input_cases(tmp_path)
        assert _keys_submitted(client) == 0
    finally:
        client.unregister_scheduler_plugin(GraphCounter.name)


def _bad_input_cases(tmp_path):
    A, B = RNG.random((10, 3)), RNG.random((8, 4))
    cases = [
        (nd.cdist, ndstride.cdist, (A, B), {}),  # mismatched widths
        (nd.cdist, ndstride.cdist, (A.reshape(10, 3, 1), A), {}),  # 3-d
        (nd.cdist, ndstride.cdist, (A, A, "nonsense"), {}),
        (nd.cdist, ndstride.cdist, (A, A, "minkowski"), {"p": -1}),
        (nd.cdist, ndstride.cdist, (A, A, "euclidean"), {"w": np.ones(4)}),
        (nd.cdist, ndstride.cdist, (A, A, "seuclidean"), {"V": np.ones(2)}),
        (nd.cdist, ndstride.cdist, (A, A, "mahalanobis"), {"VI": np.eye(2)}),
        (nd.cdist, ndstride.cdist, (A[:2], A[:1], "mahalanobis"), {}),
        (nd.cdist, ndstride.cdist, (A, A, "cosine"), {"bogus": 1}),
        (nd.knn, ndstride.knn, (A, A[:4], 5), {}),  # k larger than XB
        (nd.knn, ndstride.knn, (A, None, 10), {}),
        (nd.knn, ndstride.knn, (A, A, 1.5), {}),
        (nd.knn, ndstride.knn, (A, B, 1), {}),
        (nd.argmin_min, ndstride.argmin_min, (A, A[:0]), {}),
        (nd.radius_count, ndstride.radius_count, (A, B, 1.0), {}),
    ]
    for lazy, in_memory, args, kwargs in cases:
        wrapped = tuple(da.from_array(x, chunks=4) if isinstance(x, np.ndarray) else x
                        for x in args)
        assert _message(lazy, *wrapped, **kwargs) == _message(in_memory, *args, **kwargs)
    path = tmp_path / "missing" / "d.npy"
    assert _message(nd.cdist_to_npy, A, A, path)[0] is FileNotFoundError
    assert _message(nd.cdist_to_npy, A, B, tmp_path / "d.npy") == \
        _message(ndstride.cdist, A, B)
    assert not os.listdir(tmp_path)


def test_row_chunks_aim_at_128_mib_blocks_and_100_ms_tasks():
    rows_a, rows_b = nd.row_chunks(20000, 20000, 64)
    assert rows_a * rows_b * 8 == 128 << 20
    # d = 3: 128 MiB blocks are quicker than 100 ms, so they grow (at most 4x)
    rows_a, rows_b = nd.row_chunks(100000, 100000, 3)
    assert 128 << 20 < rows_a * rows_b * 8 <= 4 * (128 << 20)
    assert nd.row_chunks(10, 7, 64) == (10, 7)  # small problems: one block
    rows_a, rows_b = nd.knn_row_chunks(100000, 100000, 64, cluster_threads=1)
    assert rows_b == 100000 and nd._chunks.task_seconds(
        rows_a * rows_b, 64, "euclidean", written=False) >= 0.1
    # XB in a chunk per thread of the cluster, so that the blocks spread over the workers
    assert nd.knn_row_chunks(100000, 100000, 64, cluster_threads=2)[1] == 50000
    # ten million rows: XB in 128 MiB chunks, and at most 10k block tasks
    rows_a, rows_b = nd.knn_row_chunks(10**7, 10**7, 64, itemsize=4, cluster_threads=64)
    assert rows_b * 64 * 4 <= 128 << 20 and rows_a * 64 * 4 <= 128 << 20
    assert -(-10**7 // rows_a) * -(-10**7 // rows_b) <= 10_000


def test_a_graph_of_over_100k_tasks_warns():
    x = da.zeros((400, 2), chunks=(1, 2))
    with pytest.warns(da.core.PerformanceWarning, match="160000 tasks"):
        nd.cdist(x, x)  # the same array: still 400 x 400 keys
    with pytest.warns(da.core.PerformanceWarning, match="104000 tasks"):
        nd.knn(x, da.zeros((130, 2), chunks=(1, 2)), 1)


def test_a_misaligned_chunk_is_copied_once_per_worker_not_once_per_task():
    # distributed hands tasks arrays at whatever offset they had in the received frames
    raw = np.zeros(4 * 600 + 1, dtype=np.uint8)
    chunk = np.frombuffer(raw.data, dtype=np.float32, count=600, offset=1).reshape(200, 3)
    assert not chunk.flags.aligned
    first = nd._tasks.aligned(chunk)
    assert first.flags.aligned and np.array_equal(first, chunk)
    assert nd._tasks.aligned(chunk) is first  # the same copy for the next task
    with ndstride.copy_stats() as stats:
        call = nd._tasks.Call("knn", "euclidean", {}, {"threads": 1})
        nd._tasks.knn_block(call, 3, 0, chunk[:10], chunk)
    assert stats.bytes_copied < chunk.nbytes  # no copy of the chunk itself
    aligned_input = np.ones((5, 3))
    assert nd._tasks.aligned(aligned_input) is aligned_input
    key = id(chunk)
    del chunk, first
    import gc
    gc.collect()
    assert key not in nd._tasks._ALIGNED  # dropped with its chunk
