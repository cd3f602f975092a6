"""ndstride's Python package against its peers, in one run on this machine.

    python python/benches/bench_python.py [--out python/benches/python_bench.png] [--quick]

cdist at (4096, 4096, 64), float64 and float32, cityblock / sqeuclidean / euclidean:
ndstride.cdist, scipy.spatial.distance.cdist, sklearn.metrics.pairwise_distances(n_jobs=-1);
a tiny call (10 x 10 x 3) against SciPy's; kNN (30000 x 64, k = 10) against scikit-learn's
brute force and faiss (when installed). Prints a Markdown table of medians and ratios and
draws it as one bar chart (log scale).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np


def median_time(f, repeat=5, warm=1, budget=30.0):
    for _ in range(warm):
        f()
    times, start = [], time.perf_counter()
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
        if time.perf_counter() - start > budget:
            break
    return statistics.median(times)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "python_bench.png"))
    ap.add_argument("--quick", action="store_true", help="smaller kNN, fewer repeats")
    args = ap.parse_args()

    import scipy
    import scipy.spatial.distance as sd
    import sklearn
    from sklearn.metrics import pairwise_distances
    from sklearn.neighbors import NearestNeighbors

    import ndstride

    rng = np.random.default_rng(0)
    rows = []  # (group, label, peer name, peer seconds, ndstride seconds)
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; NumPy {np.__version__}, "
          f"SciPy {scipy.__version__}, scikit-learn {sklearn.__version__}\n")
    print("| case | ndstride s | SciPy cdist s | ratio | sklearn n_jobs=-1 s | ratio |")
    print("|---|---|---|---|---|---|")
    n, d = 4096, 64
    for dt in (np.float64, np.float32):
        x = rng.random((n, d)).astype(dt)
        y = rng.random((n, d)).astype(dt)
        for metric in ("cityblock", "sqeuclidean", "euclidean"):
            kw = {"dtype": dt}
            t_nd = median_time(lambda: ndstride.cdist(x, y, metric, **kw))
            t_sp = median_time(lambda: sd.cdist(x, y, metric), repeat=3)
            t_sk = median_time(lambda: pairwise_distances(x, y, metric=metric, n_jobs=-1),
                               repeat=3)
            name = np.dtype(dt).name
            label = f"{metric} {name}"
            print(f"| {n}x{n}x{d} {label} | {t_nd:.4f} | {t_sp:.4f} | {t_sp / t_nd:.1f}x | "
                  f"{t_sk:.4f} | {t_sk / t_nd:.1f}x |")
            rows.append(("cdist 4096x4096x64", label, "SciPy", t_sp, t_nd))
            rows.append(("cdist 4096x4096x64", label, "scikit-learn", t_sk, t_nd))

    xs, ys = rng.random((10, 3)), rng.random((10, 3))
    t_nd = median_time(lambda: ndstride.cdist(xs, ys, "euclidean"), repeat=2001, warm=200)
    t_sp = median_time(lambda: sd.cdist(xs, ys, "euclidean"), repeat=2001, warm=200)
    print(f"| 10x10x3 euclidean (tiny) | {t_nd * 1e6:.1f} us | {t_sp * 1e6:.1f} us | "
          f"{t_sp / t_nd:.2f}x | | |")
    rows.append(("tiny 10x10x3", "euclidean", "SciPy", t_sp, t_nd))

    nk = 8000 if args.quick else 30000
    xk = rng.random((nk, 64)).astype(np.float32)
    k = 10
    t_nd = median_time(lambda: ndstride.knn(xk, xk, k=k, metric="euclidean"), repeat=3)
    t_mm = median_time(lambda: ndstride.knn(xk, xk, k=k, metric="euclidean",
                                            strategy="matmul"), repeat=3)
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", n_jobs=-1).fit(xk)
    t_sk = median_time(lambda: nn.kneighbors(xk), repeat=1, warm=0)
    print(f"\n| kNN {nk}x64 k={k} float32 | ndstride exact kernel s | ratio | "
          f"ndstride strategy='matmul' s | ratio | peer s |")
    print("|---|---|---|---|---|---|")
    print(f"| scikit-learn brute (n_jobs=-1) | {t_nd:.3f} | {t_sk / t_nd:.2f}x | {t_mm:.3f} | "
          f"{t_sk / t_mm:.2f}x | {t_sk:.3f} |")
    rows.append((f"kNN {nk}x64 k=10", "euclidean f32", "scikit-learn", t_sk, t_nd))
    try:
        import faiss

        index = faiss.IndexFlatL2(64)
        index.add(xk)
        t_fa = median_time(lambda: index.search(xk, k), repeat=3)
        print(f"| faiss IndexFlatL2 | {t_nd:.3f} | {t_fa / t_nd:.2f}x | {t_mm:.3f} | "
              f"{t_fa / t_mm:.2f}x | {t_fa:.3f} |")
        rows.append((f"kNN {nk}x64 k=10", "euclidean f32", "faiss", t_fa, t_nd))
        rows.append((f"kNN {nk}x64 k=10", "euclidean f32 matmul", "faiss", t_fa, t_mm))
    except ImportError:
        print("| faiss | not installed | | |")

    draw(rows, args.out)
    print(f"\nchart: {args.out}")


def draw(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{g}\n{lab} vs {peer}" for g, lab, peer, _, _ in rows]
    peer = [r[3] for r in rows]
    nd = [r[4] for r in rows]
    pos = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(max(10, len(rows) * 0.9), 6))
    ax.bar(pos - 0.2, peer, 0.4, label="peer (named under the bar)", color="#999999")
    ax.bar(pos + 0.2, nd, 0.4, label="ndstride", color="#1f77b4")
    for p, a, b in zip(pos, peer, nd):
        ax.text(p, max(a, b) * 1.15, f"{a / b:.1f}x", ha="center", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("seconds per call (median, log scale)")
    ax.set_xticks(pos)
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax.set_title(f"ndstride (Python) against its peers, same run: {cpu_name()}, "
                 f"{os.cpu_count()} cores", fontsize=9)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
