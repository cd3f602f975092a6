"""SciPy's cdist for every metric at 2048 x 2048 x 64 float64 (boolean metrics on bool data,
jensenshannon and braycurtis_nonnegative on |x|, minkowski p=3 and the bench's other
minkowski cases), the peer of `cargo bench --bench distance -- metrics_`.
Run in the same session as the bench: /tmp/peers/bin/python benches/scipy_metrics.py [WORD]
(WORD: only the cases whose name contains it)."""
import sys
import time
import numpy as np
import scipy
from scipy.spatial.distance import cdist

rng = np.random.default_rng(1)
n, d = 2048, 64
x, y = rng.standard_normal((n, d)), rng.standard_normal((n, d))
bx, by = x > 0, y > 0
print(f"| metric | SciPy {scipy.__version__} median s | G pair-dims/s |")
print("|---|---|---|")
for m in ["sqeuclidean", "euclidean", "cityblock", "chebyshev", "minkowski", "seuclidean",
          "cosine", "correlation", "canberra", "braycurtis", "jensenshannon", "mahalanobis",
          "hamming", "jaccard", "dice", "rogerstanimoto", "russellrao", "sokalsneath", "yule",
          "braycurtis_nonnegative", "minkowski_p4", "minkowski_p8", "minkowski_p3.5",
          "minkowski_p12", "minkowski_p3_weighted"]:
    if len(sys.argv) > 1 and sys.argv[1] not in m:
        continue
    label, a, b, kw = m, x, y, {}
    if m in ("hamming", "jaccard", "dice", "rogerstanimoto", "russellrao", "sokalsneath", "yule"):
        a, b = bx, by
    if m in ("jensenshannon", "braycurtis_nonnegative"):
        a, b = np.abs(x), np.abs(y)
    if m == "minkowski":
        kw = {"p": 3}
    if m.startswith("minkowski_"):
        p = m.removeprefix("minkowski_p").removesuffix("_weighted")
        kw = {"p": float(p)}
        if m.endswith("_weighted"):  # the bench's weights
            kw["w"] = 0.5 + np.arange(d) % 3
        m = "minkowski"
    ts = []
    for _ in range(3):
        t = time.perf_counter()
        cdist(a, b, m.removesuffix("_nonnegative"), **kw)
        ts.append(time.perf_counter() - t)
    med = sorted(ts)[1]
    print(f"| {label} | {med:.4f} | {n * n * d / med / 1e9:.3f} |", flush=True)
