// Tiled distance kernels for ndstride's CUDA back end, compiled at run time with NVRTC
// (src/device/kernels.rs) for the device's architecture.
//
// One thread block computes a BM x BN tile of the n x m output: 256 threads in a 16 x 16
// grid, each holding a TM x TN register block of accumulators. Per step of BK features, the
// block stages A's BM rows and B's BN rows in shared memory, feature-major, and every thread
// reads TM values of A and TN values of B from there and applies the metric's own inner
// operation TM x TN times (cuVS's "unexpanded" kernels: |a - b| for cityblock, (a - b)^2 for
// sqeuclidean; no x^2 + y^2 - 2xy cancellation).
//
// A thread's rows and columns come in groups of 16 bytes (4 floats, 2 doubles), interleaved
// across the threads (tile_index): per feature a thread reads each group of A and of B with
// one 128-bit shared-memory load, the 16 threads of a half-warp read 16 consecutive groups of
// B and one broadcast group of A (no bank conflicts), and the output is written 16 bytes at a
// time. Rows whose length is a multiple of 16 bytes are also staged 16 bytes at a time.
//
// Features past d and rows past n or m are staged as zeros: every operation here gives 0 for
// a = b = 0 (canberra's 0/0 term is 0 by SciPy's definition), so padding changes no sum.
//
// Inputs are packed row-major (n x d, m x d) in the compute type T; the output is O with row
// stride ldo (elements). `post` is applied once per output element.

#define TX 16
#define TY 16
#define THREADS (TX * TY)

enum Op {
    OP_SQEUCLIDEAN = 0,  // sum (a - b)^2
    OP_CITYBLOCK = 1,    // sum |a - b|
    OP_CHEBYSHEV = 2,    // max |a - b| (NaN propagates, as NumPy's max does)
    OP_DOT = 3,          // sum a * b (cosine, correlation)
    OP_MINKOWSKI = 4,    // sum |a - b|^p
    OP_CANBERRA = 5,     // sum |a - b| / (|a| + |b|), 0 where both are 0
    OP_BRAYCURTIS = 6,   // sum |a - b| / sum |a + b|
    OP_HAMMING = 7,      // count of a != b
    OP_JENSENSHANNON = 8,  // sum p ln(p/m) + q ln(q/m), m = (p + q)/2, rows normalised
};

enum Post {
    POST_IDENTITY = 0,
    POST_SQRT = 1,
    POST_ROOT_P = 2,   // x^(1/p)
    POST_COSINE = 3,   // 1 - clip(x * inv_a[i] * inv_b[j], -1, 1)
    POST_MEAN = 4,     // x / d
    // The matmul trick: x is a . b, inv_a / inv_b hold the squared norms of the rows.
    POST_TRICK_SQ = 5,  // max(|a|^2 + |b|^2 - 2 a.b, 0)
    POST_TRICK = 6,     // its square root
    // Jensen-Shannon: sqrt(x / 2), or inf where inv_a[i] or inv_b[j] flags a row that has a
    // negative entry or sums to zero (SciPy's answer for those).
    POST_JENSENSHANNON = 7,
    // Boolean metrics: x is ntt (a . b of 0/1 rows), inv_a / inv_b the rows' counts of true.
    POST_JACCARD = 10,
    POST_DICE = 11,
    POST_ROGERSTANIMOTO = 12,  // also sokalmichener
    POST_RUSSELLRAO = 13,
    POST_SOKALSNEATH = 14,
    POST_YULE = 15,
    POST_KULCZYNSKI1 = 16,
};

__device__ __forceinline__ float abs_(float x) { return fabsf(x); }
__device__ __forceinline__ double abs_(double x) { return fabs(x); }
__device__ __forceinline__ float pow_(float x, float p) { return powf(x, p); }
__device__ __forceinline__ float fma_(float a, float b, float c) { return fmaf(a, b, c); }
__device__ __forceinline__ double fma_(double a, double b, double c) { return fma(a, b, c); }
__device__ __forceinline__ double pow_(double x, double p) { return pow(x, p); }
__device__ __forceinline__ float log_(float x) { return logf(x); }
__device__ __forceinline__ double log_(double x) { return log(x); }

template <typename T, int OP>
__device__ __forceinline__ void accumulate(T &acc, T &acc2, T a, T b, T p) {
    if (OP == OP_SQEUCLIDEAN) {
        T t = a - b;
        acc = fma_(t, t, acc);
    } else if (OP == OP_CITYBLOCK) {
        acc += abs_(a - b);
    } else if (OP == OP_CHEBYSHEV) {
        T t = abs_(a - b);
        acc = (t > acc || t != t) ? t : acc;  // a NaN, once in, stays
    } else if (OP == OP_DOT) {
        acc = fma_(a, b, acc);
    } else if (OP == OP_MINKOWSKI) {
        acc += pow_(abs_(a - b), p);
    } else if (OP == OP_CANBERRA) {
        T den = abs_(a) + abs_(b);
        acc += den == T(0) ? T(0) : abs_(a - b) / den;
    } else if (OP == OP_BRAYCURTIS) {
        acc += abs_(a - b);
        acc2 += abs_(a + b);
    } else if (OP == OP_HAMMING) {
        acc += a != b ? T(1) : T(0);
    } else if (OP == OP_JENSENSHANNON) {
        // As SciPy: a zero (or NaN) probability contributes nothing.
        T m = (a + b) / T(2);
        if (a > T(0)) acc += a * log_(a / m);
        if (b > T(0)) acc += b * log_(b / m);
    }
}

template <typename T, int OP>
__device__ __forceinline__ double finish(T acc, T acc2, int post, double p, int d, int i, int j,
                                         const double *inv_a, const double *inv_b) {
    double v = OP == OP_BRAYCURTIS ? double(acc) / double(acc2) : double(acc);
    switch (post) {
        case POST_SQRT: return sqrt(v);
        case POST_ROOT_P: return pow(v, 1.0 / p);
        case POST_COSINE: {
            double sim = v * inv_a[i] * inv_b[j];
            sim = fabs(sim) > 1.0 ? copysign(1.0, sim) : sim;
            return 1.0 - sim;
        }
        case POST_MEAN: return v / double(d);
        case POST_TRICK_SQ:
        case POST_TRICK: {
            double sq = fmax(inv_a[i] + inv_b[j] - 2.0 * v, 0.0);
            return post == POST_TRICK ? sqrt(sq) : sq;
        }
        case POST_JENSENSHANNON:
            return (inv_a[i] != 0.0 || inv_b[j] != 0.0) ? __longlong_as_double(0x7ff0000000000000LL)
                                                    : sqrt(v / 2.0);
        default: break;
    }
    if (post >= POST_JACCARD) {
        // SciPy's formulas from the four counts (src/distance/bits.rs, from_counts).
        double ntt = v, ntf = inv_a[i] - v, nft = inv_b[j] - v;
        double nff = double(d) - ntt - ntf - nft, r = 2.0 * (ntf + nft);
        switch (post) {
            case POST_JACCARD: {
                double den = ntt + ntf + nft;
                return den == 0.0 ? 0.0 : (ntf + nft) / den;
            }
            case POST_DICE: return (ntf + nft) / (2.0 * ntt + ntf + nft);
            case POST_ROGERSTANIMOTO: return r / (ntt + nff + r);
            case POST_RUSSELLRAO: return (double(d) - ntt) / double(d);
            case POST_SOKALSNEATH: return r / (ntt + r);
            case POST_YULE: {
                double half = ntf * nft;
                return half == 0.0 ? 0.0 : 2.0 * half / (ntt * nff + half);
            }
            case POST_KULCZYNSKI1: return ntt / (ntf + nft);
            default: break;
        }
    }
    return v;
}

// V elements of T in 16 bytes: one 128-bit load or store (LDG.128, LDS.128, STG.128).
template <typename T>
struct __align__(16) Vec16 {
    static constexpr int V = 16 / int(sizeof(T));
    T v[V];
};

// Whether p is 16-byte aligned (the pieces of a row can then be read as Vec16).
__device__ __forceinline__ bool aligned16(const void *p) {
    return (unsigned long long)p % 16 == 0;
}

// Where a thread's i-th register row (or column) lies in the block's tile: in groups of
// V = 16 bytes, so that a thread reads each group from shared memory with one 128-bit load.
// Group g of thread t covers tile rows g * 16 * V + t * V + (0 .. V-1): the 16 threads of a
// half-warp read 16 consecutive groups (no bank conflict), and the two rows of threads of a
// warp read one broadcast group each.
template <typename T, int TILE>
__device__ __forceinline__ int tile_index(int t, int i) {
    constexpr int V = Vec16<T>::V;
    static_assert(TILE % V == 0, "a register block holds whole 16-byte groups");
    static_assert(TX == TY, "rows and columns share one layout");
    return (i / V) * (TX * V) + t * V + i % V;
}

// Stages features k0 .. k0 + BK of rows r0 .. r0 + R of X (packed rows x d) into S,
// feature-major; entries past `rows` or d are zeros. With `wide` (d a multiple of V and X
// 16-byte aligned, so that every 16-byte piece of a row is aligned and lies within d or
// wholly past it), each thread reads whole pieces: one 128-bit load for V features instead
// of V loads and V index computations. Consecutive threads read consecutive pieces of a row.
template <typename T, int R, int BK>
__device__ __forceinline__ void stage(const T *__restrict__ X, int rows, int d, int r0, int k0,
                                      bool wide, T (&S)[BK][R]) {
    constexpr int V = Vec16<T>::V, PER_ROW = BK / V, PIECES = R * PER_ROW;
    static_assert(BK % V == 0, "a step of features is whole 16-byte pieces");
    const int tid = threadIdx.x;
    if (wide) {
#pragma unroll
        for (int e0 = 0; e0 < PIECES; e0 += THREADS) {
            const int e = e0 + tid;
            if (PIECES % THREADS != 0 && e >= PIECES) break;
            const int r = e / PER_ROW, k = e % PER_ROW * V, gr = r0 + r, gk = k0 + k;
            Vec16<T> piece;
            if (gr < rows && gk < d) {
                piece = *reinterpret_cast<const Vec16<T> *>(X + (long long)gr * d + gk);
            } else {
#pragma unroll
                for (int v = 0; v < V; ++v) piece.v[v] = T(0);
            }
#pragma unroll
            for (int v = 0; v < V; ++v) S[k + v][r] = piece.v[v];
        }
    } else {
        // Consecutive threads read consecutive features of one row (coalesced within a row).
        for (int e = tid; e < R * BK; e += THREADS) {
            const int r = e / BK, k = e % BK, gr = r0 + r, gk = k0 + k;
            S[k][r] = (gr < rows && gk < d) ? X[(long long)gr * d + gk] : T(0);
        }
    }
}

// The block's BM x BN tile of accumulators for output rows row0.. and columns col0..: each
// thread's TM x TN share of it in `acc` (and `acc2`, Bray-Curtis's denominators); register
// row i of thread (tx, ty) is tile row tile_index(ty, i), column j is tile_index(tx, j).
template <typename T, int OP, int TM, int TN, int BK>
__device__ __forceinline__ void accumulate_tile(const T *__restrict__ A, const T *__restrict__ B,
                                                int n, int m, int d, int row0, int col0, T p,
                                                T (&acc)[TM][TN], T (&acc2)[TM][TN]) {
    constexpr int V = Vec16<T>::V;
    __shared__ __align__(16) T As[BK][TY * TM];
    __shared__ __align__(16) T Bs[BK][TX * TN];
    const int tid = threadIdx.x, tx = tid % TX, ty = tid / TX;
    // Uniform over the block: every thread takes the same staging path.
    const bool wide_a = d % V == 0 && aligned16(A), wide_b = d % V == 0 && aligned16(B);
#pragma unroll
    for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = acc2[i][j] = T(0);

    for (int k0 = 0; k0 < d; k0 += BK) {
        stage<T, TY * TM, BK>(A, n, d, row0, k0, wide_a, As);
        stage<T, TX * TN, BK>(B, m, d, col0, k0, wide_b, Bs);
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; ++k) {
            T a[TM], b[TN];
#pragma unroll
            for (int g = 0; g < TM / V; ++g) {
                const Vec16<T> piece =
                    *reinterpret_cast<const Vec16<T> *>(&As[k][tile_index<T, TM>(ty, g * V)]);
#pragma unroll
                for (int v = 0; v < V; ++v) a[g * V + v] = piece.v[v];
            }
#pragma unroll
            for (int g = 0; g < TN / V; ++g) {
                const Vec16<T> piece =
                    *reinterpret_cast<const Vec16<T> *>(&Bs[k][tile_index<T, TN>(tx, g * V)]);
#pragma unroll
                for (int v = 0; v < V; ++v) b[g * V + v] = piece.v[v];
            }
#pragma unroll
            for (int i = 0; i < TM; ++i)
#pragma unroll
                for (int j = 0; j < TN; ++j) accumulate<T, OP>(acc[i][j], acc2[i][j], a[i], b[j], p);
        }
        __syncthreads();
    }
}

// The square root of a sum as finish gives it (POST_SQRT): sqrt(double(x)), rounded to O. For
// float in and out that is the correctly rounded float sqrt itself (rounding the double root
// to float never differs from rounding the exact root: 53 >= 2 * 24 + 2), so sqrtf gives the
// same bits at float cost; the kernels are compiled with exact (IEEE) square roots.
template <typename T, typename O>
__device__ __forceinline__ O root(T x) {
    if (sizeof(T) == 4 && sizeof(O) == 4) return O(sqrtf(float(x)));
    return O(sqrt(double(x)));
}

// Writes a block's tile of the output: thread (tx, ty)'s value(i, j, r, c) for its register
// row i and column j, output row r and column c. A register row's V consecutive columns are
// written with 16-byte stores when they all lie inside m and `out` allows it (a warp then
// writes whole sectors), else one by one.
template <typename T, typename O, int TM, int TN, typename Value>
__device__ __forceinline__ void write_tile(O *__restrict__ out, long long ldo, int n, int m,
                                           int row0, int col0, Value value) {
    constexpr int V = Vec16<T>::V, VO = Vec16<O>::V;
    const int tid = threadIdx.x, tx = tid % TX, ty = tid / TX;
    const bool wide_out = (V * sizeof(O)) % 16 == 0 && aligned16(out) && ldo % VO == 0;
#pragma unroll
    for (int i = 0; i < TM; ++i) {
        const int r = row0 + tile_index<T, TM>(ty, i);
        if (r >= n) continue;
#pragma unroll
        for (int g = 0; g < TN / V; ++g) {
            const int c = col0 + tile_index<T, TN>(tx, g * V);
            O *dst = out + (long long)r * ldo + c;
            O vals[V];
#pragma unroll
            for (int v = 0; v < V; ++v) vals[v] = c + v < m ? value(i, g * V + v, r, c + v) : O(0);
            if (wide_out && c + V <= m) {
#pragma unroll
                for (int q = 0; q < V / VO; ++q) {
                    Vec16<O> piece;
#pragma unroll
                    for (int u = 0; u < VO; ++u) piece.v[u] = vals[q * VO + u];
                    *reinterpret_cast<Vec16<O> *>(dst + q * VO) = piece;
                }
            } else {
#pragma unroll
                for (int v = 0; v < V; ++v)
                    if (c + v < m) dst[v] = vals[v];
            }
        }
    }
}

template <typename T, typename O, int OP, int TM, int TN, int BK>
__device__ __forceinline__ void cdist_tile(const T *__restrict__ A, const T *__restrict__ B,
                                           O *__restrict__ out, int n, int m, int d,
                                           long long ldo, double p_, int post,
                                           const double *__restrict__ inv_a,
                                           const double *__restrict__ inv_b) {
    const int row0 = blockIdx.y * TY * TM, col0 = blockIdx.x * TX * TN;
    T acc[TM][TN], acc2[TM][TN];
    accumulate_tile<T, OP, TM, TN, BK>(A, B, n, m, d, row0, col0, T(p_), acc, acc2);
    // The sums themselves (cityblock, sqeuclidean, chebyshev, ...) and their square roots skip
    // finish's switch, a dozen instructions per output (at d = 64 a tenth of the main loop's
    // work), for the same values.
    if (OP != OP_BRAYCURTIS && post == POST_IDENTITY) {
        write_tile<T, O, TM, TN>(out, ldo, n, m, row0, col0,
                                 [&](int i, int j, int, int) { return O(acc[i][j]); });
    } else if (OP != OP_BRAYCURTIS && post == POST_SQRT) {
        // euclidean, minkowski p = 2, seuclidean, mahalanobis (sums of squares, never below
        // zero): finish's sqrt(double(acc)), switch-free.
        write_tile<T, O, TM, TN>(out, ldo, n, m, row0, col0,
                                 [&](int i, int j, int, int) { return root<T, O>(acc[i][j]); });
    } else {
        write_tile<T, O, TM, TN>(out, ldo, n, m, row0, col0, [&](int i, int j, int r, int c) {
            return O(finish<T, OP>(acc[i][j], acc2[i][j], post, p_, d, r, c, inv_a, inv_b));
        });
    }
}

// Whether distance `v` of column `j` goes before `w` of column `at` in a k-nearest list, as
// the CPU back end ranks: numbers before NaN, smaller first, the lower column on a tie. The
// columns arrive in increasing order, so a tie keeps the one already listed; `at` < 0 is an
// empty slot.
__device__ __forceinline__ bool ranks_before(double v, double w, long long at) {
    if (at < 0) return true;
    if (v != v) return false;
    if (w != w) return true;
    return v < w;
}

// k nearest columns of every row, the distance matrix never written out: a block owns BM
// rows and walks all of B in BN-column tiles; each tile's distances go to shared memory and
// one thread per row folds them, in column order, into the row's sorted list, which lives
// in the outputs (n x k distances, n x k indices; empty slots are marked -1). B may come in
// blocks of columns, one launch each, in increasing order: B's column c is column
// col_base + c of the whole, and only the first launch (`fresh`) empties the lists, so the
// lists and their tie rule are those of one launch over all of B.
template <typename T, int OP, int TM, int TN, int BK>
__device__ __forceinline__ void knn_rows(const T *__restrict__ A, const T *__restrict__ B, int n,
                                         int m, int d, int k, double p_, int post,
                                         const double *__restrict__ inv_a,
                                         const double *__restrict__ inv_b,
                                         double *__restrict__ out_dist,
                                         long long *__restrict__ out_idx, long long col_base,
                                         int fresh) {
    const int BM = TY * TM, BN = TX * TN;
    __shared__ double S[TY * TM][TX * TN + 1];  // +1: the row scans do not share a bank
    const int tid = threadIdx.x, tx = tid % TX, ty = tid / TX;
    const int row0 = blockIdx.x * BM;
    for (int e = tid; fresh && e < BM * k; e += THREADS) {
        long long r = row0 + e / k;
        if (r < n) {
            out_dist[r * k + e % k] = 0.0;
            out_idx[r * k + e % k] = -1;
        }
    }
    __syncthreads();  // the lists are read by other threads than those that cleared them
    T acc[TM][TN], acc2[TM][TN];
    for (int col0 = 0; col0 < m; col0 += BN) {
        accumulate_tile<T, OP, TM, TN, BK>(A, B, n, m, d, row0, col0, T(p_), acc, acc2);
#pragma unroll
        for (int i = 0; i < TM; ++i)
#pragma unroll
            for (int j = 0; j < TN; ++j) {
                const int tr = tile_index<T, TM>(ty, i), tc = tile_index<T, TN>(tx, j);
                const int r = row0 + tr, c = col0 + tc;
                S[tr][tc] =
                    (r < n && c < m)
                        ? finish<T, OP>(acc[i][j], acc2[i][j], post, p_, d, r, c, inv_a, inv_b)
                        : 0.0;
            }
        __syncthreads();
        const long long r = row0 + tid;
        if (tid < BM && r < n) {
            double *dist = out_dist + r * k;
            long long *idx = out_idx + r * k;
            const int cols = min(BN, m - col0);
            // The list's last entry, in registers: most candidates rank after it and are
            // turned away without a memory access. Only this thread writes the row's list.
            double worst = dist[k - 1];
            long long worst_idx = idx[k - 1];
            for (int c = 0; c < cols; ++c) {
                const double v = S[tid][c];
                if (!ranks_before(v, worst, worst_idx)) continue;
                int at = k - 1;
                while (at > 0 && ranks_before(v, dist[at - 1], idx[at - 1])) {
                    dist[at] = dist[at - 1];
                    idx[at] = idx[at - 1];
                    --at;
                }
                dist[at] = v;
                idx[at] = col_base + col0 + c;
                worst = dist[k - 1];
                worst_idx = idx[k - 1];
            }
        }
        __syncthreads();  // S is rewritten by the next tile
    }
}

// Register blocks: 8 x 8 for float32 (a 128 x 128 tile), 4 x 4 for float64 (64 x 64) and for
// the two-accumulator Bray-Curtis (register pressure). The host's `tile` in
// src/distance/cuda/blocks.rs mirrors TILE_OF. The distance kernels are bounded to 128
// registers per thread (__launch_bounds__(THREADS, 2)), so that two blocks share an SM and
// one block's loads and barriers overlap the other's arithmetic; ptxas fits every one
// without spilling (scripts/sass_report.py shows the counts).
#define TYPE_f32 float
#define TYPE_f64 double
#define TILE_f32 8
#define TILE_f64 4
#define OPCODE_sqeuclidean OP_SQEUCLIDEAN
#define OPCODE_cityblock OP_CITYBLOCK
#define OPCODE_chebyshev OP_CHEBYSHEV
#define OPCODE_dot OP_DOT
#define OPCODE_minkowski OP_MINKOWSKI
#define OPCODE_canberra OP_CANBERRA
#define OPCODE_braycurtis OP_BRAYCURTIS
#define OPCODE_hamming OP_HAMMING
#define OPCODE_jensenshannon OP_JENSENSHANNON
#define TILE_OF(TNAME, OPNAME) (OPCODE_##OPNAME == OP_BRAYCURTIS ? 4 : TILE_##TNAME)

#define DEFINE_CDIST(TNAME, ONAME, OPNAME)                                                       \
    extern "C" __global__ void __launch_bounds__(THREADS, 2) cdist_##TNAME##_##ONAME##_##OPNAME(   \
        const TYPE_##TNAME *A, const TYPE_##TNAME *B, TYPE_##ONAME *out, int n, int m, int d,   \
        long long ldo, double p, int post, const double *inv_a, const double *inv_b) {          \
        cdist_tile<TYPE_##TNAME, TYPE_##ONAME, OPCODE_##OPNAME, TILE_OF(TNAME, OPNAME),          \
                   TILE_OF(TNAME, OPNAME), 8>(A, B, out, n, m, d, ldo, p, post, inv_a, inv_b);  \
    }

#define DEFINE_OPS(TNAME, ONAME)                \
    DEFINE_CDIST(TNAME, ONAME, sqeuclidean)     \
    DEFINE_CDIST(TNAME, ONAME, cityblock)       \
    DEFINE_CDIST(TNAME, ONAME, chebyshev)       \
    DEFINE_CDIST(TNAME, ONAME, dot)             \
    DEFINE_CDIST(TNAME, ONAME, minkowski)       \
    DEFINE_CDIST(TNAME, ONAME, canberra)        \
    DEFINE_CDIST(TNAME, ONAME, braycurtis)      \
    DEFINE_CDIST(TNAME, ONAME, hamming)         \
    DEFINE_CDIST(TNAME, ONAME, jensenshannon)

// The fused kNN kernels: 4 x 4 register blocks (a 64 x 64 tile) for every type, so that the
// tile of distances fits in shared memory beside the staged inputs.
#define DEFINE_KNN(TNAME, OPNAME)                                                            \
    extern "C" __global__ void __launch_bounds__(THREADS) knn_##TNAME##_##OPNAME(             \
        const TYPE_##TNAME *A, const TYPE_##TNAME *B, int n, int m, int d, int k, double p,   \
        int post, const double *inv_a, const double *inv_b, double *out_dist,                 \
        long long *out_idx, long long col_base, int fresh) {                                   \
        knn_rows<TYPE_##TNAME, OPCODE_##OPNAME, 4, 4, 8>(A, B, n, m, d, k, p, post, inv_a,     \
                                                          inv_b, out_dist, out_idx, col_base, \
                                                          fresh);                             \
    }

#define DEFINE_KNN_OPS(TNAME)                 \
    DEFINE_KNN(TNAME, sqeuclidean)            \
    DEFINE_KNN(TNAME, cityblock)              \
    DEFINE_KNN(TNAME, chebyshev)              \
    DEFINE_KNN(TNAME, dot)                    \
    DEFINE_KNN(TNAME, minkowski)              \
    DEFINE_KNN(TNAME, canberra)               \
    DEFINE_KNN(TNAME, braycurtis)             \
    DEFINE_KNN(TNAME, hamming)                \
    DEFINE_KNN(TNAME, jensenshannon)

// Gathers a strided 2-d device array into a packed row-major n x d array of T: element
// (i, k) is at byte offset + i * s0 + k * s1 of src, of source type S. Strided (transposed,
// sliced, reversed) device arrays are packed here, never through the host.
#define DEFINE_PACK(SNAME, TNAME)                                                            \
    extern "C" __global__ void pack_##SNAME##_##TNAME(const char *src, long long offset,    \
                                                      long long s0, long long s1, int n,     \
                                                      int d, TYPE_##TNAME *dst) {            \
        long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;                    \
        long long total = (long long)n * d;                                                  \
        for (; idx < total; idx += (long long)gridDim.x * blockDim.x) {                      \
            long long i = idx / d, k = idx % d;                                              \
            dst[idx] = TYPE_##TNAME(*(const TYPE_##SNAME *)(src + offset + i * s0 + k * s1)); \
        }                                                                                    \
    }

// Row preparation on the device, for cdist of device arrays (src/distance/cuda/on_device.rs):
// the same arithmetic as the host's `prepared_rows` (src/distance/cuda/plan.rs), in double,
// in the same order and without FMA contraction (__dmul_rn / __dadd_rn), so that both give the
// same bits. Row i of the strided source (element k at byte offset + i * s0 + k * s1, type S)
// becomes row i of dst (packed n x d, type T), and sides[i] gets what the distance kernel's
// last step reads per row (enum Side); `vec` holds the d scales or the d x d matrix L
// (row-major, x . L). One block per row (grid-stride over rows); the row's sums run in order
// on thread 0, as the host sums them.
enum Prep {
    PREP_NONE = 0,
    PREP_SCALE = 1,        // x[k] * vec[k]
    PREP_TRANSFORM = 2,    // sum_j x[j] * vec[j * d + k]
    PREP_CENTER = 3,       // x[k] - mean(x)
    PREP_BOOLEAN = 4,      // x[k] != 0
    PREP_PROBABILITY = 5,  // x[k] / sum(x)
};

enum Side {
    SIDE_UNUSED = 0,
    SIDE_INVERSE_NORM = 1,  // 1 / |p| of the prepared row p (cosine)
    SIDE_SQUARED_NORM = 2,  // |p|^2 (the matmul trick)
    SIDE_COUNT = 3,         // sum p of the 0/1 row (boolean metrics)
    SIDE_JS_FLAG = 4,       // 1 where x has a negative entry or sums to 0 (Jensen-Shannon)
};

template <typename S, typename T>
__device__ void prep_rows(const char *src, long long offset, long long s0, long long s1, int n,
                          int d, int prep, const double *vec, int side, T *dst, double *sides) {
    __shared__ double row_sum;
    for (int i = blockIdx.x; i < n; i += gridDim.x) {
        const char *row = src + offset + (long long)i * s0;
        auto x = [&](int k) { return (double)*(const S *)(row + (long long)k * s1); };
        if (threadIdx.x == 0) {
            double acc = 0.0;
            for (int k = 0; k < d; ++k) acc = __dadd_rn(acc, x(k));
            row_sum = acc;
        }
        __syncthreads();
        const double sum = row_sum;
        for (int k = threadIdx.x; k < d; k += blockDim.x) {
            double v = x(k);
            switch (prep) {
                case PREP_SCALE: v = __dmul_rn(v, vec[k]); break;
                case PREP_TRANSFORM: {
                    double acc = 0.0;
                    for (int j = 0; j < d; ++j)
                        acc = __dadd_rn(acc, __dmul_rn(x(j), vec[(long long)j * d + k]));
                    v = acc;
                    break;
                }
                case PREP_CENTER: v = v - sum / d; break;
                case PREP_BOOLEAN: v = v != 0.0 ? 1.0 : 0.0; break;
                case PREP_PROBABILITY: v = v / sum; break;
                default: break;
            }
            dst[(long long)i * d + k] = T(v);
        }
        __syncthreads();
        if (threadIdx.x == 0 && side != SIDE_UNUSED) {
            double acc = 0.0;
            bool negative = false;
            for (int k = 0; k < d; ++k) {
                const double p = (double)dst[(long long)i * d + k];
                if (side == SIDE_COUNT) acc = __dadd_rn(acc, p);
                else acc = __dadd_rn(acc, __dmul_rn(p, p));
                negative = negative || x(k) < 0.0;
            }
            double out = acc;
            if (side == SIDE_INVERSE_NORM) out = 1.0 / sqrt(acc);
            if (side == SIDE_JS_FLAG) out = (negative || sum == 0.0) ? 1.0 : 0.0;
            sides[i] = out;
        }
        // row_sum is rewritten for the next row only after every thread has read it.
        __syncthreads();
    }
}

#define DEFINE_PREP(SNAME, TNAME)                                                             \
    extern "C" __global__ void prep_##SNAME##_##TNAME(                                        \
        const char *src, long long offset, long long s0, long long s1, int n, int d, int prep, \
        const double *vec, int side, TYPE_##TNAME *dst, double *sides) {                      \
        prep_rows<TYPE_##SNAME, TYPE_##TNAME>(src, offset, s0, s1, n, d, prep, vec, side, dst, \
                                              sides);                                         \
    }

// Every kernel. At run time the host compiles one kernel at a time (NDSTRIDE_ONE_KERNEL set,
// and the one DEFINE_... line it needs appended), so a process pays a second or so for each
// kernel it uses instead of compiling all of them; CI compiles this whole list.
#ifndef NDSTRIDE_ONE_KERNEL
DEFINE_OPS(f32, f32)
DEFINE_OPS(f32, f64)
DEFINE_OPS(f64, f32)
DEFINE_OPS(f64, f64)
DEFINE_KNN_OPS(f32)
DEFINE_KNN_OPS(f64)
DEFINE_PACK(f32, f32)
DEFINE_PACK(f32, f64)
DEFINE_PACK(f64, f32)
DEFINE_PACK(f64, f64)
DEFINE_PREP(f32, f32)
DEFINE_PREP(f32, f64)
DEFINE_PREP(f64, f32)
DEFINE_PREP(f64, f64)
#endif
