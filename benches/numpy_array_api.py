"""NumPy's side of benches/array_api.rs, at the same sizes and data shapes (10^7 float64):
python3 benches/numpy_array_api.py. Prints the median of 10 runs (after one warm-up) for
each operation; run it in the same session as `cargo bench --bench array_api --features ndarray`."""
import platform, statistics, time
import numpy as np

def median(f, repeat=10):
    f()
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts)

N = 10_000_000
rng = np.random.default_rng(1)
a = rng.standard_normal(N); b = rng.standard_normal(N)
idx = (np.arange(N, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) >> np.uint64(40)).astype(np.int64) % N
cond = a > 0
half = a[: N // 2].copy()
cases = {
    "sort": lambda: np.sort(a),
    "argsort (stable)": lambda: np.argsort(a, kind="stable"),
    "take": lambda: np.take(a, idx),
    "concatenate 2 halves": lambda: np.concatenate([half, half]),
    "where": lambda: np.where(cond, a, b),
    "cumsum": lambda: np.cumsum(a),
}
print(f"NumPy {np.__version__}, {platform.processor() or platform.machine()}")
for name, f in cases.items():
    print(f"| {name} | {median(f) * 1e3:.1f} ms |")
