"""ndstride.dask against the course's dask + SciPy and scikit-learn, on one LocalCluster.

    python python/benches/bench_dask.py [cdist|knn|overhead|scaling ...]

Every peer runs in the same process and session as ndstride; each line is the median of
the runs it says (the slow peers run once). Inputs are on the cluster before the clock starts
(dask arrays persisted, NumPy arrays scattered), so the times are computation and scheduling.
Results go to stdout as Markdown rows for BENCHMARKS.md.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import numpy as np

from bench_python import cpu_name  # this directory is the script's: sys.path[0]


def timed(f, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def persisted_search_inputs(X, **chunking):
    """``X`` as the XA and the XB of a search, in ``knn_row_chunks``' chunks, on the
    cluster."""
    import dask.array as da

    import ndstride.dask as nd

    m, n = X.shape
    rows_a, rows_b = nd.knn_row_chunks(m, m, n, itemsize=X.dtype.itemsize, **chunking)
    return (da.from_array(X, chunks=(rows_a, -1)).persist(),
            da.from_array(X, chunks=(rows_b, -1)).persist())


def cluster(n_workers):
    import distributed

    c = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                 dashboard_address=None, silence_logs=40)
    return c, distributed.Client(c)


def cdist_bench():
    """cityblock float64, 20000 x 20000 x 64, each row's minimum computed on the workers."""
    import dask
    import dask.array as da
    from scipy.spatial.distance import cdist as sp_cdist
    from sklearn.metrics import pairwise_distances

    import ndstride
    import ndstride.dask as nd

    rng = np.random.default_rng(0)
    XA, XB = rng.random((20000, 64)), rng.random((20000, 64))
    want = None
    rows = []

    def row(name, seconds, runs, result):
        nonlocal want
        if want is None:
            want = result
        assert np.allclose(result, want, rtol=1e-12), name
        rows.append((name, seconds, runs))
        print(f"  {name}: {seconds:.3f} s", file=sys.stderr, flush=True)

    # Single process, 2 threads: the blocks the cluster computes, one after the other.
    rows_a, rows_b = nd.row_chunks(20000, 20000, 64)

    def single():
        return np.concatenate([np.min([
            ndstride.cdist(XA[r:r + rows_a], XB[c:c + rows_b], "cityblock").min(axis=1)
            for c in range(0, 20000, rows_b)], axis=0) for r in range(0, 20000, rows_a)])

    single()
    t, out = timed(single, 5)
    row(f"ndstride.cdist, one process, 2 threads ({rows_a} x {rows_b} blocks, the cluster's)",
        t, 5, out)

    def single_whole():
        return ndstride.cdist(XA, XB, "cityblock").min(axis=1)
    single_whole()
    t, out = timed(single_whole, 3)
    row("ndstride.cdist, one process, 2 threads, the whole 3.2 GB matrix", t, 3, out)

    # The course's way on the local schedulers: dask.delayed over SciPy, 8 row chunks.
    chunks = np.array_split(np.arange(20000), 8)

    def scipy_min(x, y):
        return sp_cdist(x, y, "cityblock").min(axis=1)

    parts = [(XA[c[0]:c[-1] + 1]) for c in chunks]
    for scheduler in ("threads", "processes"):
        def course(scheduler=scheduler):
            tasks = [dask.delayed(scipy_min)(p, XB) for p in parts]
            return np.concatenate(dask.compute(*tasks, scheduler=scheduler, num_workers=2))
        t, out = timed(course, 3)
        row(f"dask.delayed + SciPy cdist, 8 chunks, local '{scheduler}' scheduler", t, 3, out)

    c, client = cluster(2)
    try:
        a = da.from_array(XA, chunks=(rows_a, -1)).persist()
        b = da.from_array(XB, chunks=(rows_b, -1)).persist()
        futures_a = client.scatter(parts)
        future_b = client.scatter(XB, broadcast=True)

        def course_cluster():
            tasks = [client.submit(scipy_min, p, future_b, pure=False) for p in futures_a]
            return np.concatenate(client.gather(tasks))
        t, out = timed(course_cluster, 3)
        row("dask + SciPy cdist, 8 chunks, LocalCluster 2 x 1", t, 3, out)

        a8 = da.from_array(XA, chunks=(2500, -1)).persist()

        def sklearn_cluster():
            return a8.map_blocks(lambda x: pairwise_distances(x, XB, metric="cityblock",
                                                              n_jobs=1).min(axis=1),
                                 drop_axis=1, dtype=np.float64).compute()
        t, out = timed(sklearn_cluster, 3)
        row("da.map_blocks + scikit-learn pairwise_distances, LocalCluster 2 x 1", t, 3, out)

        def ours():
            return nd.cdist(a, b, "cityblock").min(axis=1).compute()
        ours()
        before = _sent(client)
        t, out = timed(ours, 5)
        per_run = (_sent(client) - before) / 5
        row(f"ndstride.dask.cdist(...).min(axis=1), LocalCluster 2 x 1 "
            f"({per_run / 1e6:.1f} MB between workers a run)", t, 5, out)
    finally:
        client.close()
        c.close()
    return rows


def knn_bench(rounds=5):
    """kNN, 100000 x 64 float32 against itself, k = 10: each round times the one-process
    search and then the cluster's, back to back, so that the pair sees the same machine (this
    VM's speed drifts by 20-30% over minutes); the ratio is the median of the rounds'."""
    import ndstride
    import ndstride.dask as nd

    X = np.random.default_rng(1).random((100000, 64), dtype=np.float32)
    rows = []
    c, client = cluster(2)
    try:
        for strategy in ("simd", "matmul"):
            a, b = persisted_search_inputs(X, strategy=strategy)

            def single(strategy=strategy):
                return ndstride.knn(X, X, 10, strategy=strategy)

            def ours(strategy=strategy):
                d, i = nd.knn(a, b, 10, strategy=strategy)
                return client.compute([d, i], sync=True)
            want = single()
            ours()
            singles, clusters = [], []
            for _ in range(rounds):
                t, _ = timed(single, 1)
                singles.append(t)
                t, (d, i) = timed(ours, 1)
                clusters.append(t)
                print(f"  {strategy}: one process {singles[-1]:.3f} s, cluster {t:.3f} s, "
                      f"ratio {singles[-1] / t:.2f}", file=sys.stderr, flush=True)
            same = np.array_equal(i, want[1]) and np.array_equal(d, want[0])
            ratio = statistics.median(s / t for s, t in zip(singles, clusters))
            rows.append((f"ndstride.knn, one process, 2 threads, strategy='{strategy}'",
                         statistics.median(singles), rounds))
            rows.append((f"ndstride.dask.knn, LocalCluster 2 x 1, strategy='{strategy}', "
                         f"{len(a.chunks[0]) * len(b.chunks[0])} block tasks "
                         f"(bit-identical: {same}; one process / cluster, median of the "
                         f"rounds: {ratio:.2f}x)", statistics.median(clusters), rounds))
    finally:
        client.close()
        c.close()
    return rows


def _noop(x):
    return x


def overhead_bench():
    """The scheduler's cost per task: client.map of a no-op, gathered."""
    c, client = cluster(2)
    try:
        n = 4000
        client.gather(client.map(_noop, range(200), pure=False))
        t, _ = timed(lambda: client.gather(client.map(_noop, range(n), pure=False)), 3)
        rows = [(f"{n} no-op tasks on LocalCluster 2 x 1, per task", t / n, 3)]
    finally:
        client.close()
        c.close()
    return rows


def _sent(client):
    """Bytes the workers have sent each other so far."""
    return sum(client.run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total)
               .values())


def scaling_bench():
    """kNN 50000 x 64 float32, k = 10, on 1 and on 2 worker processes (1 thread each)."""
    import ndstride.dask as nd

    X = np.random.default_rng(2).random((50000, 64), dtype=np.float32)
    rows = []
    for workers in (1, 2):
        c, client = cluster(workers)
        try:
            a, b = persisted_search_inputs(X)

            def ours():
                return client.compute(list(nd.knn(a, b, 10)), sync=True)
            ours()
            before = _sent(client)
            t, _ = timed(ours, 3)
            per_run = (_sent(client) - before) / 3
            rows.append((f"ndstride.dask.knn 50000 x 64 f32, k = 10, {workers} worker "
                         f"process(es) x 1 thread, "
                         f"{len(a.chunks[0]) * len(b.chunks[0])} block tasks, "
                         f"{per_run / 1e6:.1f} MB between workers a run", t, 3))
            print(f"  {workers} workers: {t:.3f} s, {per_run / 1e6:.1f} MB", file=sys.stderr,
                  flush=True)
        finally:
            client.close()
            c.close()
    return rows


def main():
    which = sys.argv[1:] or ["cdist", "knn", "overhead", "scaling"]
    import dask
    import distributed
    import scipy
    import sklearn

    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; dask {dask.__version__}, "
          f"distributed {distributed.__version__}, SciPy {scipy.__version__}, "
          f"scikit-learn {sklearn.__version__}, NumPy {np.__version__}\n")
    benches = {"cdist": cdist_bench, "knn": knn_bench, "overhead": overhead_bench,
               "scaling": scaling_bench}
    for name in which:
        rows = benches[name]()
        print(f"\n{benches[name].__doc__.strip()}\n\n| what | median | runs |\n|---|---|---|")
        for what, seconds, runs in rows:
            shown = f"{seconds * 1e3:.3f} ms" if seconds < 0.1 else f"{seconds:.3f} s"
            print(f"| {what} | {shown} | {runs} |")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
