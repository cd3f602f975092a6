"""What the distance kernels compile to, without a GPU: registers, spills and the instruction
mix of each kernel's main loop, from NVIDIA's own compiler and disassembler (pip wheels, no
driver needed). A static count, not a timing: per step of 8 features the main loop issues
`total` instructions of which `metric` are the metric's own arithmetic (FADD, FFMA, ...), so
`metric / total` bounds the fraction of the FP32 instruction peak a kernel can reach when it
is issue-bound (one instruction per cycle per SM sub-partition).

    python3 scripts/sass_report.py [--arch sm_90] [--check] [KERNEL ...]

KERNEL is a run-time kernel name (cdist_f32_f32_cityblock, knn_f64_dot, ...); the default is
the kernels the issue's performance goals name. The tools come from $CUDA_BIN, or from a venv
in target/sass-venv that this script creates with pip (about 350 MB) on first use.

With --check (CI runs it) the default kernels must not spill, the distance kernels must fit
two blocks per SM (CDIST_REGISTERS), and each main loop's share of metric arithmetic must
stay at or above its floor in FLOORS: a kernel change that makes the hot loop spill, halves
the occupancy or doubles the loop's overhead fails CI without a GPU.

Each kernel is compiled as the run-time path compiles it (the kernel's one DEFINE line,
exact sqrt and division, no flush to zero): as it is, for its registers and spills, and
with its 16-byte staging path taken unconditionally, so that the main loop holds only the
path that rows of 16-byte multiples take and its static count is the count per step."""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "target", "sass-venv")
# Pinned: another compiler counts other instructions, and the floors below are this one's.
WHEELS = [
    "nvidia-cuda-nvcc==13.5.37",
    "nvidia-cuda-cuobjdump==13.5.37",
    "nvidia-cuda-nvdisasm==13.5.37",
]
# The default kernels, the metric instructions one step of 8 features takes (register block x
# 8 x instructions per pair-dim: 8 x 8 x 8 x 2 for float32 cityblock), and the least share (%)
# of metric arithmetic in that step's loop that --check accepts: a few points under what
# CUDA 13.5 gives for sm_90 (93.9, 93.9, 88.4, 80.0 and 80.5 on 2026-12-01; BENCHMARKS.md).
# A different count means the loop found is not one whole step (say, an inner loop over
# single features), and fails too.
FLOORS = {
    "cdist_f32_f32_cityblock": (1024, 90.0),
    "cdist_f32_f32_sqeuclidean": (1024, 90.0),
    "cdist_f32_f32_dot": (512, 85.0),
    "cdist_f64_f64_cityblock": (256, 75.0),
    "knn_f32_cityblock": (256, 75.0),
}
DEFAULT = list(FLOORS)
# The distance kernels run 256 threads a block; at most 128 registers a thread lets two blocks
# share an SM (65,536 registers), which __launch_bounds__(THREADS, 2) asks ptxas for.
CDIST_REGISTERS = 128
# The metric's own arithmetic: what the kernel is for.
METRIC_OPS = {"FADD", "FFMA", "FMUL", "FMNMX", "FSEL", "FSETP", "DADD", "DFMA", "DMUL", "DSETP"}


def find_nvcc():
    found = subprocess.run(
        ["find", VENV, "-name", "nvcc", "-path", "*/bin/*"], capture_output=True, text=True
    ).stdout.split()
    return os.path.dirname(found[0]) if found else None


def tools():
    """The folder of nvcc, cuobjdump and nvdisasm: $CUDA_BIN, or target/sass-venv's, installed
    with pip when missing. None when pip cannot install them (no network)."""
    bin_dir = os.environ.get("CUDA_BIN") or find_nvcc()
    if not bin_dir:
        pip = os.path.join(VENV, "bin", "pip")
        ok = (os.path.exists(pip) or subprocess.run([sys.executable, "-m", "venv", VENV]).returncode == 0) \
            and subprocess.run([pip, "install", "-q", *WHEELS]).returncode == 0
        bin_dir = find_nvcc() if ok else None
    return bin_dir


def define_line(kernel):
    """The DEFINE_... line of a run-time kernel name (src/device/kernels.rs maps them alike)."""
    parts = kernel.split("_")
    if parts[0] == "cdist" and len(parts) == 4:
        return f"DEFINE_CDIST({parts[1]}, {parts[2]}, {parts[3]})"
    if parts[0] == "knn" and len(parts) == 3:
        return f"DEFINE_KNN({parts[1]}, {parts[2]})"
    sys.exit(f"not a cdist or knn kernel name: {kernel}")


def compile_kernel(kernel, arch, env, work, wide_only):
    """ptxas's log and the SASS of `kernel`; with `wide_only`, its 16-byte staging path is
    taken unconditionally (the other path compiles away)."""
    src = open(os.path.join(ROOT, "kernels", "cdist.cu")).read()
    if wide_only:
        wide = "    if (wide) {"
        if src.count(wide) != 1:
            sys.exit("kernels/cdist.cu: the staging switch `if (wide) {` moved; update this script")
        src = src.replace(wide, "    if (true) {")
    name = kernel + ("_wide" if wide_only else "")
    path = os.path.join(work, name + ".cu")
    with open(path, "w") as f:
        f.write(src + "\n" + define_line(kernel) + "\n")
    cubin = os.path.join(work, name + ".cubin")
    ptxas = subprocess.run(
        ["nvcc", "-cubin", f"-arch={arch}", "-prec-sqrt=true", "-prec-div=true", "-ftz=false",
         "-DNDSTRIDE_ONE_KERNEL", "-Xptxas", "-v", path, "-o", cubin],
        capture_output=True, text=True, env=env,
    )
    if ptxas.returncode != 0:
        sys.exit(ptxas.stderr)
    sass = subprocess.run(
        ["cuobjdump", "-sass", cubin], capture_output=True, text=True, env=env, check=True
    ).stdout
    return ptxas.stderr, sass


def resources(log, kernel):
    """Registers, spill bytes and shared memory of `kernel` from ptxas -v."""
    block = log[log.find(f"'{kernel}'"):]
    regs = re.search(r"Used (\d+) registers", block)
    spill = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads", block)
    smem = re.search(r"(\d+) bytes smem", block)
    return (
        int(regs.group(1)),
        int(spill.group(1)) + int(spill.group(2)),
        int(smem.group(1)) if smem else 0,
    )


def main_loop(sass):
    """The opcode counts of the innermost loop with the most metric arithmetic (the loop
    over steps of features; outer loops also hold the once-per-output epilogue)."""
    code = []
    for line in sass.splitlines():
        m = re.match(r"\s+/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;", line)
        if m:
            op = re.sub(r"^@!?U?P\w+\s+", "", m.group(2)).split()[0]
            code.append((int(m.group(1), 16), op, m.group(2)))
    loops = []
    for addr, op, text in code:
        target = re.search(r"BRA\s+.*?(0x[0-9a-f]+)", text)
        if op.startswith("BRA") and target and int(target.group(1), 16) < addr:
            loops.append((int(target.group(1), 16), addr))
    innermost = [
        (s, e) for s, e in loops if not any(s <= s2 and e2 <= e and (s2, e2) != (s, e) for s2, e2 in loops)
    ]
    best = None
    for s, e in innermost:
        body = collections.Counter(o for a, o, _ in code if s <= a <= e)
        metric = sum(v for o, v in body.items() if o.split(".")[0] in METRIC_OPS)
        if best is None or metric > best[1]:
            best = (body, metric)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", default="sm_90")
    ap.add_argument("--check", action="store_true", help="fail on a spill or a share under FLOORS")
    ap.add_argument("--tools", action="store_true",
                    help="only install the tools if needed and print their folder (exit 1: none)")
    ap.add_argument("kernels", nargs="*", default=DEFAULT)
    args = ap.parse_args()
    bin_dir = tools()
    if bin_dir is None:
        sys.exit("no nvcc: pip could not install " + " ".join(WHEELS) + " (or set CUDA_BIN)")
    for tool in ("nvcc", "cuobjdump", "nvdisasm"):
        if not os.path.exists(os.path.join(bin_dir, tool)):
            sys.exit(f"no {tool} in {bin_dir}")
    if args.tools:
        print(bin_dir)
        return
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    print(f"{'kernel':28} {'regs':>4} {'spill':>5} {'smem':>6}  main loop per 8 features: "
          "total, metric, share, LDS, LDG, STS")
    failures = []
    with tempfile.TemporaryDirectory() as work:
        for kernel in args.kernels:
            # Registers and spills of the kernel as it runs; the loop of its 16-byte path.
            log, _ = compile_kernel(kernel, args.arch, env, work, wide_only=False)
            regs, spill, smem = resources(log, kernel)
            _, sass = compile_kernel(kernel, args.arch, env, work, wide_only=True)
            loop = main_loop(sass)
            if spill:
                failures.append(f"{kernel} spills {spill} bytes")
            if kernel.startswith("cdist_") and regs > CDIST_REGISTERS:
                failures.append(f"{kernel} uses {regs} registers: one block per SM, not two")
            if loop is None:
                print(f"{kernel:28} {regs:4} {spill:5} {smem:6}  no loop found")
                failures.append(f"{kernel}: no main loop found")
                continue
            body, metric = loop
            total = sum(body.values())
            share = 100 * metric / total
            count = lambda prefix: sum(v for o, v in body.items() if o.startswith(prefix))
            print(f"{kernel:28} {regs:4} {spill:5} {smem:6}  {total:5} {metric:5} "
                  f"{share:5.1f}% {count('LDS'):4} {count('LDG'):4} {count('STS'):4}")
            if kernel in FLOORS:
                per_step, floor = FLOORS[kernel]
                if metric != per_step:
                    failures.append(f"{kernel}: the main loop found has {metric} metric "
                                    f"instructions, one step of 8 features has {per_step}")
                elif share < floor:
                    failures.append(f"{kernel}: {share:.1f}% of its main loop is metric "
                                    f"arithmetic, under the floor of {floor}%")
    if args.check and failures:
        sys.exit("sass_report --check failed:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
