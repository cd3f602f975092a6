// A CPU stand-in for the CUDA thread model, so that the kernels in kernels/ run, and are
// checked against the CPU back end, on machines without a GPU (CI, and every session that is
// not lent one). It is not a simulator of a GPU's performance, only of its semantics:
//
// - a launch runs its blocks one after another; the threads of a block are real OS threads,
//   so `__syncthreads()` (a barrier over the block) and shared memory behave as on a GPU,
//   including the bugs a missing barrier causes (a data race shows up as wrong results, or
//   under ThreadSanitizer);
// - `__shared__` variables are statics: one block runs at a time, so the block's threads share
//   them and the next block reuses them (its contents are stale, as on a GPU);
// - a warp is 32 consecutive threads; the `__shfl_*_sync` intrinsics exchange values through a
//   per-warp slot array between two warp barriers (every lane of the warp must take part, as
//   the full mask the kernels pass promises).
//
// The harness (harness.cpp) includes this header, then the kernel source.
#pragma once

#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))

struct uint3 {
    unsigned x, y, z;
};
struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

namespace emu {
inline thread_local uint3 thread_idx;
inline thread_local uint3 block_idx;
inline dim3 block_dim, grid_dim;
inline thread_local std::barrier<> *block_barrier;
struct Warp {
    explicit Warp(std::ptrdiff_t lanes) : barrier(lanes) {}
    std::barrier<> barrier;
    uint64_t slots[32];
};
inline thread_local Warp *warp;
inline thread_local unsigned lane;

// Lane `src`'s value of `v` in every lane (the value travels as 8 raw bytes).
template <typename T>
T exchange(T v, unsigned src) {
    static_assert(sizeof(T) <= 8, "shuffled values are at most 8 bytes");
    uint64_t raw = 0;
    std::memcpy(&raw, &v, sizeof(T));
    warp->slots[lane] = raw;
    warp->barrier.arrive_and_wait();
    uint64_t got = warp->slots[src % 32];
    warp->barrier.arrive_and_wait();  // nobody overwrites a slot before everyone read it
    T out;
    std::memcpy(&out, &got, sizeof(T));
    return out;
}

// Runs `kernel` over `grid` x `block` threads.
inline void launch(dim3 grid, dim3 block, const std::function<void()> &kernel) {
    grid_dim = grid;
    block_dim = block;
    const unsigned threads = block.x * block.y * block.z;
    const unsigned warps = (threads + 31) / 32;
    for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
            for (unsigned bx = 0; bx < grid.x; ++bx) {
                std::barrier<> barrier(threads);
                std::vector<std::unique_ptr<Warp>> warp_state;
                for (unsigned w = 0; w < warps; ++w)
                    warp_state.push_back(std::make_unique<Warp>(
                        std::min<unsigned>(32, threads - 32 * w)));
                std::vector<std::thread> pool;
                pool.reserve(threads);
                for (unsigned t = 0; t < threads; ++t) {
                    pool.emplace_back([&, t] {
                        block_idx = {bx, by, bz};
                        thread_idx = {t % block.x, t / block.x % block.y, t / (block.x * block.y)};
                        block_barrier = &barrier;
                        warp = warp_state[t / 32].get();
                        lane = t % 32;
                        kernel();
                    });
                }
                for (auto &th : pool) th.join();
            }
}
}  // namespace emu

#define threadIdx (emu::thread_idx)
#define blockIdx (emu::block_idx)
#define blockDim (emu::block_dim)
#define gridDim (emu::grid_dim)
#define warpSize 32

// Rounded operations that the compiler may not contract into an FMA (x86-64 without -mfma
// has none to contract into).
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __dadd_rn(double a, double b) { return a + b; }

inline void __syncthreads() { emu::block_barrier->arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu::warp->barrier.arrive_and_wait(); }

template <typename T>
T __shfl_sync(unsigned, T v, int src, int = 32) { return emu::exchange(v, unsigned(src)); }
template <typename T>
T __shfl_xor_sync(unsigned, T v, int mask, int = 32) {
    return emu::exchange(v, emu::lane ^ unsigned(mask));
}
template <typename T>
T __shfl_down_sync(unsigned, T v, unsigned delta, int = 32) {
    unsigned src = emu::lane + delta;
    return emu::exchange(v, src < 32 ? src : emu::lane);
}

inline float __int_as_float(int v) {
    float f;
    std::memcpy(&f, &v, 4);
    return f;
}
inline int __float_as_int(float v) {
    int i;
    std::memcpy(&i, &v, 4);
    return i;
}
inline double __longlong_as_double(long long v) {
    double d;
    std::memcpy(&d, &v, 8);
    return d;
}
using std::min;
using std::max;
