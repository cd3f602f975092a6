#!/usr/bin/env bash
# Peak resident memory and wall time of `ndstride cdist` with and without a memory budget
# (issue 7), measured with /usr/bin/time -v in one run. Usage:
#   scripts/out_of_core_rss.sh [ROWS] [DIR]      (default 20000 rows of 64 features, DIR=target)
# Needs python3 with NumPy for the input ($NDSTRIDE_PYTHON to choose the interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-20000}
dir=${2:-target}
python=${NDSTRIDE_PYTHON:-python3}
cargo build --release --quiet
bin=target/release/ndstride
x="$dir/ooc_x_${rows}.npy"
out="$dir/ooc_d.npy"
[ -f "$x" ] || "$python" -c "import numpy as np; np.save('$x', np.random.default_rng(0).standard_normal(($rows, 64)))"
echo "cdist euclidean, $rows x $rows float64 ($((rows * rows * 8 / 1000000)) MB) to $dir; $(nproc) threads"
printf '%-22s %12s %12s  %s\n' mode "wall s" "peak RSS MiB" "(ndstride's own line)"
run() {
  local label=$1; shift
  rm -f "$out"
  sync # the previous run's writeback must not slow this one
  local log
  log=$(/usr/bin/time -v "$bin" cdist "$x" -o "$out" "$@" 2>&1)
  local wall rss line
  wall=$(echo "$log" | awk -F': ' '/Elapsed/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}')
  rss=$(echo "$log" | awk '/Maximum resident/ {printf "%.0f", $6 / 1024}')
  line=$(echo "$log" | grep '^cdist')
  printf '%-22s %12s %12s  %s\n' "$label" "$wall" "$rss" "$line"
}
run "in memory"
for budget in 512MiB 128MiB; do
  run "--memory $budget" --memory "$budget"
done
rm -f "$out"
