"""GPU peers of `cargo bench --bench cuda` (issue 6), same shapes, float32: torch.cdist p=1 and
p=2 and CuPy's matmul trick (the seed's lab), device arrays in, device result out, medians of
10 runs after a warm-up, in G pair-dims/s. Run on the GPU machine in the same session as the
bench: `python3 scripts/gpu_peers.py`."""
import statistics
import time


def median_time(f, sync, reps=10):
    f()
    sync()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    import torch
    print("device:", torch.cuda.get_device_name(0))
    shapes = [(16384, 64), (65536, 128), (16384, 1024)]
    for n, d in shapes:
        x = torch.rand(n, d, device="cuda") * 2 - 1
        work = n * n * d / 1e9
        for p in (1.0, 2.0):
            t = median_time(lambda: torch.cdist(x, x, p=p), torch.cuda.synchronize)
            print(f"torch.cdist p={p:g} {n}x{n}x{d}: {t * 1e3:.2f} ms, {work / t:.1f} G pair-dims/s")
        del x
        torch.cuda.empty_cache()
    try:
        import cupy as cp
    except ImportError:
        print("SKIPPED: CuPy is not installed")
        return
    for n, d in shapes:
        x = cp.random.uniform(-1, 1, (n, d), dtype=cp.float32)

        def trick():
            sq = (x * x).sum(axis=1)
            return cp.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0)

        t = median_time(trick, cp.cuda.Device().synchronize)
        print(f"cupy trick {n}x{n}x{d}: {t * 1e3:.2f} ms, {n * n * d / 1e9 / t:.1f} G pair-dims/s")
        del x
        cp.get_default_memory_pool().free_all_blocks()


if __name__ == "__main__":
    main()
