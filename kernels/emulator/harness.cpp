// Runs one kernel of kernels/ on the CPU (cuda_emulator.h) with arguments from the command
// line, for the tests of src/distance/cuda/emulated_tests.rs when no GPU is present:
//
//   harness KERNEL GRID_X GRID_Y BLOCK_X ARG...
//
// where each ARG is, in the kernel's parameter order,
//   in:PATH    a device pointer to the bytes of PATH (read only)
//   out:PATH   a device pointer to the bytes of PATH, written back after the launch
//   i:N        an int          l:N   a long long          d:X   a double
// The kernel's signature decides how each ARG is read; a mismatch is an error, not a guess.
#include "cuda_emulator.h"

#include "../cdist.cu"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>

namespace {

struct Buffer {
    std::string path;
    bool output;
    std::vector<unsigned char> bytes;
};

[[noreturn]] void fail(const std::string &why) {
    std::fprintf(stderr, "harness: %s\n", why.c_str());
    std::exit(2);
}

struct Args {
    std::vector<std::string> tokens;
    std::vector<std::unique_ptr<Buffer>> buffers;
    size_t next = 0;

    std::string take(const char *prefix) {
        if (next >= tokens.size()) fail("too few arguments for the kernel's signature");
        const std::string &t = tokens[next++];
        const size_t n = std::strlen(prefix);
        if (t.compare(0, n, prefix) != 0)
            fail("argument " + std::to_string(next) + " is '" + t + "', the kernel wants " + prefix);
        return t.substr(n);
    }

    void *pointer() {
        const bool output = next < tokens.size() && tokens[next].rfind("out:", 0) == 0;
        const std::string path = take(output ? "out:" : "in:");
        std::ifstream f(path, std::ios::binary);
        if (!f) fail("cannot read " + path);
        auto buf = std::make_unique<Buffer>();
        buf->path = path;
        buf->output = output;
        buf->bytes.assign(std::istreambuf_iterator<char>(f), {});
        buf->bytes.resize(buf->bytes.size() + 64);  // an overrun reads zeros, not a crash
        buffers.push_back(std::move(buf));
        return buffers.back()->bytes.data();
    }

    template <typename T>
    T get() {
        if constexpr (std::is_pointer_v<T>) {
            return static_cast<T>(pointer());
        } else if constexpr (std::is_same_v<T, int>) {
            return std::stoi(take("i:"));
        } else if constexpr (std::is_same_v<T, long long>) {
            return std::stoll(take("l:"));
        } else if constexpr (std::is_same_v<T, double>) {
            return std::stod(take("d:"));
        } else {
            static_assert(sizeof(T) == 0, "a parameter type the harness does not know");
        }
    }

    void write_back() {
        for (auto &b : buffers)
            if (b->output) {
                std::ofstream f(b->path, std::ios::binary | std::ios::trunc);
                f.write(reinterpret_cast<const char *>(b->bytes.data()),
                        std::streamsize(b->bytes.size() - 64));
                if (!f) fail("cannot write " + b->path);
            }
    }
};

using Runner = std::function<void(Args &, dim3, dim3)>;

template <typename... P>
Runner runner(void (*kernel)(P...)) {
    return [kernel](Args &args, dim3 grid, dim3 block) {
        // A braced list evaluates left to right: the arguments are read in parameter order.
        std::tuple<P...> values{args.get<P>()...};
        if (args.next != args.tokens.size()) fail("more arguments than the kernel takes");
        emu::launch(grid, block, [&] { std::apply(kernel, values); });
        args.write_back();
    };
}

#define REGISTER_CDIST(T, O, OP) {"cdist_" #T "_" #O "_" #OP, runner(cdist_##T##_##O##_##OP)},
#define REGISTER_OPS(T, O)                                                          \
    REGISTER_CDIST(T, O, sqeuclidean) REGISTER_CDIST(T, O, cityblock)               \
    REGISTER_CDIST(T, O, chebyshev) REGISTER_CDIST(T, O, dot)                        \
    REGISTER_CDIST(T, O, minkowski) REGISTER_CDIST(T, O, canberra)                   \
    REGISTER_CDIST(T, O, braycurtis) REGISTER_CDIST(T, O, hamming)                   \
    REGISTER_CDIST(T, O, jensenshannon)

#define REGISTER_KNN(T, OP) {"knn_" #T "_" #OP, runner(knn_##T##_##OP)},
#define REGISTER_KNN_OPS(T)                                                          \
    REGISTER_KNN(T, sqeuclidean) REGISTER_KNN(T, cityblock) REGISTER_KNN(T, chebyshev) \
    REGISTER_KNN(T, dot) REGISTER_KNN(T, minkowski) REGISTER_KNN(T, canberra)          \
    REGISTER_KNN(T, braycurtis) REGISTER_KNN(T, hamming) REGISTER_KNN(T, jensenshannon)

}  // namespace

int main(int argc, char **argv) {
    if (argc < 5) fail("usage: harness KERNEL GRID_X GRID_Y BLOCK_X ARG...");
    const std::map<std::string, Runner> kernels = {
        REGISTER_OPS(f32, f32) REGISTER_OPS(f32, f64) REGISTER_OPS(f64, f32) REGISTER_OPS(f64, f64)
        REGISTER_KNN_OPS(f32) REGISTER_KNN_OPS(f64)
        {"pack_f32_f32", runner(pack_f32_f32)},
        {"pack_f32_f64", runner(pack_f32_f64)},
        {"pack_f64_f32", runner(pack_f64_f32)},
        {"pack_f64_f64", runner(pack_f64_f64)},
        {"prep_f32_f32", runner(prep_f32_f32)},
        {"prep_f32_f64", runner(prep_f32_f64)},
        {"prep_f64_f32", runner(prep_f64_f32)},
        {"prep_f64_f64", runner(prep_f64_f64)},
    };
    auto found = kernels.find(argv[1]);
    if (found == kernels.end()) fail(std::string("no kernel named ") + argv[1]);
    dim3 grid, block;
    grid.x = unsigned(std::stoul(argv[2]));
    grid.y = unsigned(std::stoul(argv[3]));
    block.x = unsigned(std::stoul(argv[4]));
    Args args;
    args.tokens.assign(argv + 5, argv + argc);
    found->second(args, grid, block);
    return 0;
}
