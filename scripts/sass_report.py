"""What the distance kernels compile to, without a GPU: registers, spills and the instruction
mix of each kernel's main loop, from NVIDIA's own compiler and disassembler (pip wheels, no
driver needed). A static count, not a timing: per step of 8 features the main loop issues
`total` instructions of which `metric` are the metric's own arithmetic (FADD, FFMA, ...), so
`metric / total` bounds the fraction of the FP32 instruction peak a kernel can reach when it
is issue-bound (one instruction per cycle per SM sub-partition).

    python3 scripts/sass_report.py [--arch sm_90] [KERNEL ...]

KERNEL is a run-time kernel name (cdist_f32_f32_cityblock, knn_f64_dot, ...); the default is
the kernels the issue's performance goals name. The tools come from $CUDA_BIN, or from a venv
in target/sass-venv that this script creates with pip (about 500 MB) on first use.

Each kernel is compiled as the run-time path compiles it (the kernel's one DEFINE line,
exact sqrt and division, no flush to zero), with its 16-byte staging path taken
unconditionally, so that the main loop holds only the path that rows of 16-byte multiples
take and its static count is the count per step."""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, "target", "sass-venv")
WHEELS = ["nvidia-cuda-nvcc", "nvidia-cuda-cuobjdump", "nvidia-cuda-nvdisasm"]
DEFAULT = [
    "cdist_f32_f32_cityblock",
    "cdist_f32_f32_sqeuclidean",
    "cdist_f32_f32_dot",
    "cdist_f64_f64_cityblock",
    "knn_f32_cityblock",
]
# The metric's own arithmetic: what the kernel is for.
METRIC_OPS = {"FADD", "FFMA", "FMUL", "FMNMX", "FSEL", "FSETP", "DADD", "DFMA", "DMUL", "DSETP"}


def tools():
    bin_dir = os.environ.get("CUDA_BIN")
    if not bin_dir:
        if not os.path.isdir(VENV):
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
            pip = os.path.join(VENV, "bin", "pip")
            subprocess.run([pip, "install", "-q", *WHEELS], check=True)
        found = subprocess.run(
            ["find", VENV, "-name", "nvcc", "-path", "*/bin/*"], capture_output=True, text=True
        ).stdout.split()
        if not found:
            sys.exit(f"no nvcc in {VENV}: remove it and run again, or set CUDA_BIN")
        bin_dir = os.path.dirname(found[0])
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    return bin_dir, env


def define_line(kernel):
    """The DEFINE_... line of a run-time kernel name (src/device/kernels.rs maps them alike)."""
    parts = kernel.split("_")
    if parts[0] == "cdist" and len(parts) == 4:
        return f"DEFINE_CDIST({parts[1]}, {parts[2]}, {parts[3]})"
    if parts[0] == "knn" and len(parts) == 3:
        return f"DEFINE_KNN({parts[1]}, {parts[2]})"
    sys.exit(f"not a cdist or knn kernel name: {kernel}")


def compile_kernel(kernel, arch, env, work):
    src = open(os.path.join(ROOT, "kernels", "cdist.cu")).read()
    wide = "    if (wide) {"
    if src.count(wide) != 1:
        sys.exit("kernels/cdist.cu: the staging path switch `if (wide) {` moved; update this script")
    src = src.replace(wide, "    if (true) {")
    path = os.path.join(work, kernel + ".cu")
    with open(path, "w") as f:
        f.write(src + "\n" + define_line(kernel) + "\n")
    cubin = os.path.join(work, kernel + ".cubin")
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
    ap.add_argument("kernels", nargs="*", default=DEFAULT)
    args = ap.parse_args()
    _, env = tools()
    print(f"{'kernel':28} {'regs':>4} {'spill':>5} {'smem':>6}  main loop per 8 features: "
          "total, metric, share, LDS, LDG, STS")
    with tempfile.TemporaryDirectory() as work:
        for kernel in args.kernels:
            log, sass = compile_kernel(kernel, args.arch, env, work)
            regs, spill, smem = resources(log, kernel)
            loop = main_loop(sass)
            if loop is None:
                print(f"{kernel:28} {regs:4} {spill:5} {smem:6}  no loop found")
                continue
            body, metric = loop
            total = sum(body.values())
            count = lambda prefix: sum(v for o, v in body.items() if o.startswith(prefix))
            print(f"{kernel:28} {regs:4} {spill:5} {smem:6}  {total:5} {metric:5} "
                  f"{100 * metric / total:5.1f}% {count('LDS'):4} {count('LDG'):4} {count('STS'):4}")


if __name__ == "__main__":
    main()
