#!/usr/bin/env bash
# The CUDA checks of issue 6 on a GPU machine that has the driver and libraries but no Rust
# toolchain. Two halves:
#   scripts/gpu-check.sh build   here: builds the CUDA test binary, the CLI and the CUDA bench
#                                into gpu-bin/ (git-ignored; small enough to carry)
#   scripts/gpu-check.sh run     there, from the repository root: finds libnvrtc, runs every
#                                CUDA test (they say SKIPPED only when no GPU is found), the
#                                CLI with --backend cuda, the bench and the Python peers
# With the `device` tool: build here, then run `scripts/gpu-check.sh run` with carry ["gpu-bin"].
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
build)
  rm -rf gpu-bin && mkdir -p gpu-bin
  exe() { grep -o 'target/release/deps/[A-Za-z0-9_-]*' | tail -n 1; }
  cp "$(cargo test --release --no-run --test cuda 2>&1 | exe)" gpu-bin/cuda-tests
  cp "$(cargo bench --no-run --bench cuda 2>&1 | exe)" gpu-bin/cuda-bench
  cargo build --release --quiet && cp target/release/ndstride gpu-bin/
  # Debug line tables make them 190 MB; the device tool carries 64 MiB.
  strip --strip-debug gpu-bin/*
  ls -la gpu-bin
  ;;
run)
  # NVRTC: the CUDA toolkit's, or a pip wheel's (PyTorch brings one).
  nvrtc=$( (ls /usr/local/cuda/lib64/libnvrtc.so* 2>/dev/null; python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))' 2>/dev/null | xargs -r -I{} find {} -name 'libnvrtc.so*' 2>/dev/null) | head -n 1)
  [ -n "$nvrtc" ] && export LD_LIBRARY_PATH="$(dirname "$nvrtc"):${LD_LIBRARY_PATH:-}"
  echo "NVRTC: ${nvrtc:-not found}"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  NDSTRIDE_REQUIRE_NVRTC=1 gpu-bin/cuda-tests --nocapture --test-threads 1
  python3 - <<'PY'
import numpy as np
np.save("gpu-bin/x.npy", np.random.default_rng(0).standard_normal((5000, 64)).astype(np.float32))
PY
  gpu-bin/ndstride cdist gpu-bin/x.npy --metric cityblock --backend cuda -o gpu-bin/d_gpu.npy
  gpu-bin/ndstride cdist gpu-bin/x.npy --metric cityblock --backend cpu -o gpu-bin/d_cpu.npy
  python3 -c "import numpy as np; g, c = np.load('gpu-bin/d_gpu.npy'), np.load('gpu-bin/d_cpu.npy'); print('CLI gpu vs cpu max rel diff', float(np.max(np.abs(g - c) / np.maximum(np.abs(c), 1))))"
  # The same through a 1 MiB device budget: XB (1.3 MB) in blocks of 896 rows, 38 output rows
  # per block, on two streams.
  gpu-bin/ndstride cdist gpu-bin/x.npy --metric cityblock --backend cuda --device-memory 1MiB -o gpu-bin/d_gpu_blocks.npy
  python3 -c "import numpy as np; print('CLI streamed blocks equal one launch:', bool(np.array_equal(np.load('gpu-bin/d_gpu_blocks.npy'), np.load('gpu-bin/d_gpu.npy'))))"
  gpu-bin/cuda-bench --bench
  python3 scripts/gpu_peers.py
  ;;
*)
  echo "usage: $0 build|run" >&2
  exit 2
  ;;
esac
