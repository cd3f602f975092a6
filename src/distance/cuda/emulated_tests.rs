//! The CUDA kernels of `kernels/`, run on the CPU through the emulator in `kernels/emulator/`
//! (OS threads for a block's threads, a barrier for `__syncthreads`), against the CPU back
//! end. This checks the kernels' arithmetic, indexing, tiling and synchronisation, and this
//! module's host logic (plans, row preparation, row blocks, launch arguments), on machines
//! without a GPU; only the cudarc calls themselves are left to `tests/cuda.rs` on a GPU.
//! Needs a C++20 compiler (`g++`, or `CXX`); without one the tests say SKIPPED.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::blocks::{
    KNN_ROWS, KnnSchedule, Problem, STAGING_BYTES, Schedule, THREADS, cdist_kernel, tile, type_name,
};
use super::plan::{prepared_rows, trick_plan};
use super::streamed;
use super::*;
use crate::distance::{CdistOptions, cdist_with};

/// A kernel argument, in the harness's command-line form.
pub(super) enum Arg {
    In(Vec<u8>),
    /// An output buffer of this many bytes (zeroed before the launch).
    Out(usize),
    /// A buffer the kernel reads and writes, with these bytes before the launch.
    InOut(Vec<u8>),
    I(i32),
    L(i64),
    D(f64),
}

pub(super) fn bytes<T: bytemuck::Pod>(v: &[T]) -> Arg {
    Arg::In(bytemuck::cast_slice(v).to_vec())
}

fn scratch() -> PathBuf {
    std::env::temp_dir().join(format!("ndstride-emulator-{}", std::process::id()))
}

/// The harness binary, compiled once per test process; `None` (and a SKIPPED line) without
/// a C++ compiler.
pub(super) fn harness() -> Option<&'static Path> {
    static HARNESS: OnceLock<Option<PathBuf>> = OnceLock::new();
    HARNESS
        .get_or_init(|| {
            let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels/emulator/harness.cpp");
            let dir = scratch();
            std::fs::create_dir_all(&dir).ok()?;
            let exe = dir.join("harness");
            let cxx = std::env::var("CXX").unwrap_or_else(|_| "g++".into());
            let out = Command::new(&cxx)
                .args([
                    "-std=c++20",
                    "-O1",
                    "-pthread",
                    "-Wno-unknown-pragmas",
                    "-o",
                ])
                .arg(&exe)
                .arg(&src)
                .output();
            match out {
                Ok(o) if o.status.success() => Some(exe),
                Ok(o) => panic!(
                    "the CUDA emulator does not compile:\n{}",
                    String::from_utf8_lossy(&o.stderr)
                ),
                Err(e) => {
                    eprintln!("SKIPPED: no C++ compiler ({cxx}: {e}) for the CUDA emulator");
                    None
                }
            }
        })
        .as_deref()
}

/// Runs `kernel` on the emulator; returns the output buffers in argument order.
pub(super) fn emulate(
    exe: &Path,
    kernel: &str,
    grid: (u32, u32),
    block: u32,
    args: &[Arg],
) -> Vec<Vec<u8>> {
    static CALL: AtomicUsize = AtomicUsize::new(0);
    let dir = scratch().join(format!("call-{}", CALL.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = Command::new(exe);
    cmd.arg(kernel)
        .arg(grid.0.to_string())
        .arg(grid.1.to_string())
        .arg(block.to_string());
    let mut outputs = vec![];
    for (k, a) in args.iter().enumerate() {
        let path = dir.join(format!("arg{k}"));
        match a {
            Arg::In(b) => {
                std::fs::write(&path, b).unwrap();
                cmd.arg(format!("in:{}", path.display()));
            }
            Arg::Out(n) => {
                std::fs::write(&path, vec![0u8; *n]).unwrap();
                cmd.arg(format!("out:{}", path.display()));
                outputs.push(path);
            }
            Arg::InOut(b) => {
                std::fs::write(&path, b).unwrap();
                cmd.arg(format!("out:{}", path.display()));
                outputs.push(path);
            }
            Arg::I(v) => drop(cmd.arg(format!("i:{v}"))),
            Arg::L(v) => drop(cmd.arg(format!("l:{v}"))),
            Arg::D(v) => drop(cmd.arg(format!("d:{v:e}"))),
        }
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{kernel} on the emulator: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = outputs.iter().map(|p| std::fs::read(p).unwrap()).collect();
    std::fs::remove_dir_all(&dir).ok();
    got
}

fn as_f64<O: Element>(raw: &[u8]) -> Vec<f64> {
    raw.chunks_exact(size_of::<O>())
        .map(|c| bytemuck::pod_read_unaligned::<O>(c).to_f64())
        .collect()
}

/// `streamed::run`'s host logic with the emulator in place of the device: the same
/// schedule within `budget` device bytes and `staging` bytes per output block, the same
/// slices of the prepared rows per block, and the same placement of each block's distances.
fn emulated_cdist<T: Element, O: Element>(
    exe: &Path,
    xa: &NdArray,
    xb: &NdArray,
    metric: &Metric,
    (budget, staging): (usize, usize),
    trick: bool,
) -> Result<(Vec<f64>, Schedule)> {
    let (n, m, d) = cdist_dims(xa, xb)?;
    let plan = match plan(metric, d)? {
        p if trick => trick_plan(p).expect("a euclidean-family metric"),
        p => p,
    };
    let ((a, a_sides), (b, b_sides)) = (
        prepared_rows::<T>(xa, d, &plan)?,
        prepared_rows::<T>(xb, d, &plan)?,
    );
    let name = cdist_kernel(T::DTYPE, O::DTYPE, plan.op);
    let problem = Problem {
        n,
        m,
        d,
        elem_bytes: size_of::<T>(),
        out_bytes: size_of::<O>(),
    };
    let tiles = tile(T::DTYPE, plan.op);
    let schedule = Schedule::new(problem, budget, staging, tiles)
        .map_err(|needed| Error::Cuda(format!("needs {needed} bytes")))?;
    let uses_side = row_side(plan.post) != RowSide::Unused;
    // The kernel must not read past a block's rows: pass exactly them (one zero entry for
    // d = 0, as the device buffers hold).
    let at_least_one = |v: &[T]| {
        if v.is_empty() {
            vec![T::zeroed()]
        } else {
            v.to_vec()
        }
    };
    let mut out = vec![O::zeroed(); n * m];
    for blk in schedule.blocks(n, m) {
        let got = emulate(
            exe,
            &name,
            blk.grid(tiles),
            THREADS,
            &[
                bytes(&at_least_one(&a[blk.a_elems(d)])),
                bytes(&at_least_one(&b[blk.b_elems(d)])),
                Arg::Out(blk.rows * blk.cols * size_of::<O>()),
                Arg::I(blk.rows as i32),
                Arg::I(blk.cols as i32),
                Arg::I(d as i32),
                Arg::L(blk.cols as i64),
                Arg::D(plan.p),
                Arg::I(plan.post.code()),
                bytes(&a_sides[blk.a_sides(uses_side)]),
                bytes(&b_sides[blk.b_sides(uses_side)]),
            ],
        );
        let block: Vec<O> = got[0]
            .chunks_exact(size_of::<O>())
            .map(bytemuck::pod_read_unaligned)
            .collect();
        streamed::place_block(&mut out, m, &blk, &block);
    }
    Ok((out.iter().map(|v| v.to_f64()).collect(), schedule))
}

/// Deterministic values in [-2, 2) (or [0, 2] for `probabilities`) on a grid of quarters,
/// so that Hamming, Chebyshev and the boolean metrics see ties and exact zeros (canberra's
/// 0/0 terms). Probability rows include a zero row and one with a negative entry, for which
/// SciPy's Jensen–Shannon is inf.
fn data(rows: usize, d: usize, seed: u64, probabilities: bool) -> NdArray {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut vals: Vec<f64> = (0..rows * d)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if probabilities {
                ((s >> 33) % 9) as f64 / 4.0
            } else {
                ((s >> 33) % 16) as f64 / 4.0 - 2.0
            }
        })
        .collect();
    if probabilities && rows > 2 && d > 0 {
        vals[d..2 * d].fill(0.0);
        vals[2 * d] = -1.0;
    }
    NdArray::from_vec(vals, &[rows, d]).unwrap()
}

/// The CPU back end's distances (float64 output), the reference of the emulated kernels.
fn cpu_reference(xa: &NdArray, xb: &NdArray, metric: &Metric) -> Vec<f64> {
    let opts = CdistOptions::new().out_dtype(DType::F64);
    cdist_with(xa, xb, metric, &opts)
        .unwrap()
        .to_vec_f64()
        .unwrap()
}

fn every_gpu_metric(d: usize) -> Vec<Metric> {
    // Every metric by name (so that a metric added without a kernel fails here), except
    // the two whose defaults come from the data: explicit forms of them follow.
    let mut v: Vec<Metric> = crate::distance::METRIC_NAMES
        .iter()
        .filter(|n| !matches!(**n, "seuclidean" | "mahalanobis"))
        .map(|n| n.parse().unwrap())
        .collect();
    let w: Vec<f64> = (0..d).map(|i| 0.5 + (i % 3) as f64).collect();
    v.extend([
        Metric::minkowski(1.0),
        Metric::minkowski(2.0),
        Metric::minkowski(3.0),
        Metric::minkowski(f64::INFINITY),
        Metric::weighted_minkowski(1.5, w.clone()),
        Metric::weighted_minkowski(2.0, w.clone()),
        Metric::seuclidean(w.clone()),
    ]);
    // A symmetric positive definite VI: diagonally dominant.
    let vi = (0..d * d)
        .map(|k| if k / d == k % d { d as f64 } else { 0.25 })
        .collect();
    v.push(Metric::mahalanobis(vi));
    v
}

fn check<T: Element, O: Element>(
    exe: &Path,
    (n, m, d): (usize, usize, usize),
    memory: (usize, usize),
) -> Vec<Schedule> {
    // float32 computes in float32 on both back ends; allow its rounding (more for the
    // pow-based Minkowski and the Cholesky-transformed Mahalanobis).
    let tol = if T::DTYPE == DType::F32 || O::DTYPE == DType::F32 {
        2e-5
    } else {
        1e-12
    };
    let mut schedules = vec![];
    for metric in every_gpu_metric(d) {
        let js = metric == Metric::JensenShannon;
        let (xa, xb) = (data(n, d, 1, js), data(m, d, 2, js));
        let (xa, xb) = (xa.astype(T::DTYPE).unwrap(), xb.astype(T::DTYPE).unwrap());
        let cpu = cpu_reference(&xa, &xb, &metric);
        let (gpu, schedule) =
            emulated_cdist::<T, O>(exe, &xa, &xb, &metric, memory, false).unwrap();
        schedules.push(schedule);
        // On the data's grid of quarters these sums are exact in either type, and so is a
        // correctly rounded square root of them: the kernel must give the CPU's float64
        // result rounded to the output type, bit for bit.
        let exact = matches!(
            metric,
            Metric::SqEuclidean
                | Metric::Euclidean
                | Metric::Cityblock
                | Metric::Chebyshev
                | Metric::Hamming
        );
        let tol = if exact { 0.0 } else { tol };
        for (k, (g, c)) in gpu.iter().zip(&cpu).enumerate() {
            let c = &match O::DTYPE {
                DType::F32 if exact => *c as f32 as f64,
                _ => *c,
            };
            let scale = c.abs().max(1.0);
            assert!(
                g == c || (g - c).abs() <= tol * scale * 8.0 || (g.is_nan() && c.is_nan()),
                "{metric} {}→{} ({n}, {m}, {d}) at ({}, {}): emulated kernel {g}, CPU {c}",
                T::DTYPE,
                O::DTYPE,
                k / m,
                k % m
            );
        }
    }
    schedules
}

/// The matmul-trick path against the exact CPU result: squared distances agree to rounding
/// of the size of `‖a‖² + ‖b‖²` (the trick's cancellation), never below zero.
fn check_trick<T: Element>(exe: &Path, (n, m, d): (usize, usize, usize)) {
    let eps = if T::DTYPE == DType::F32 { 1e-6 } else { 1e-15 };
    let (xa, xb) = (data(n, d, 3, false), data(m, d, 4, false));
    let (xa, xb) = (xa.astype(T::DTYPE).unwrap(), xb.astype(T::DTYPE).unwrap());
    let euclidean_family = every_gpu_metric(d)
        .into_iter()
        .filter(|mt| trick_plan(plan(mt, d).unwrap()).is_some());
    let mut seen = 0;
    for metric in euclidean_family {
        seen += 1;
        let squared = metric == Metric::SqEuclidean;
        let cpu = cpu_reference(&xa, &xb, &metric);
        let memory = (usize::MAX, STAGING_BYTES);
        let (gpu, _) = emulated_cdist::<T, f64>(exe, &xa, &xb, &metric, memory, true).unwrap();
        let sq = |v: f64| if squared { v } else { v * v };
        let norms: f64 = cpu.iter().map(|&c| sq(c)).fold(0.0, f64::max) + 1.0;
        for (k, (g, c)) in gpu.iter().zip(&cpu).enumerate() {
            assert!(*g >= 0.0, "{metric}: trick gave {g} at {k}");
            assert!(
                (sq(*g) - sq(*c)).abs() <= 64.0 * eps * d as f64 * norms,
                "{metric} {} trick ({n}, {m}, {d}) at ({}, {}): {g} vs exact {c}",
                T::DTYPE,
                k / m,
                k % m
            );
        }
    }
    assert!(
        seen >= 6,
        "the euclidean family has a trick form ({seen} metrics)"
    );
}

#[test]
fn every_kernel_matches_the_cpu_back_end_on_the_emulator() {
    let Some(exe) = harness() else { return };
    // Shapes that are not multiples of the tiles (128 or 64 rows and columns, 8 features),
    // each in one launch; rows of d elements staged element by element where d * size is not
    // a multiple of 16 bytes.
    let all = (usize::MAX, STAGING_BYTES);
    let one_block = |s: &Schedule| s.lanes == 1;
    assert!(
        check::<f32, f32>(exe, (131, 70, 19), all)
            .iter()
            .all(one_block)
    );
    assert!(
        check::<f32, f64>(exe, (5, 129, 8), all)
            .iter()
            .all(one_block)
    );
    assert!(
        check::<f64, f64>(exe, (67, 33, 9), all)
            .iter()
            .all(one_block)
    );
    assert!(check::<f64, f32>(exe, (3, 2, 1), all).iter().all(one_block));
    // Rows of whole 16-byte pieces (staged 16 bytes at a time) and outputs whose rows are too
    // (written 16 bytes at a time): all of them for f32 -> f32, and for f32 -> f64 all but the
    // last group of 4 columns, which holds 2 (written one by one).
    assert!(
        check::<f32, f32>(exe, (70, 136, 16), all)
            .iter()
            .all(one_block)
    );
    assert!(
        check::<f32, f64>(exe, (9, 130, 12), all)
            .iter()
            .all(one_block)
    );
}

#[test]
fn streamed_blocks_of_rows_and_columns_match_the_cpu_back_end_on_the_emulator() {
    let Some(exe) = harness() else { return };
    // A small staging buffer: blocks of 40 rows (not a multiple of the tile), B resident.
    let rows_only = check::<f64, f64>(exe, (150, 7, 3), (usize::MAX, 40 * 7 * 8));
    assert!(
        rows_only
            .iter()
            .all(|s| s.b_resident && s.rows == 40 && s.cols == 7)
    );
    // A staging buffer narrower than a row of the output: column blocks of the resident B,
    // which the kernel reads from the block's first column on.
    let narrow = check::<f64, f32>(exe, (5, 150, 2), (usize::MAX, 600));
    assert!(
        narrow
            .iter()
            .all(|s| s.b_resident && s.cols == 128 && s.rows == 1)
    );
    // A budget that does not hold B: each lane uploads blocks of B's rows with its blocks.
    let streamed_b = check::<f64, f64>(exe, (20, 150, 3), (9000, STAGING_BYTES));
    assert!(
        streamed_b
            .iter()
            .all(|s| !s.b_resident && s.cols == 64 && s.rows < 20)
    );
}

#[test]
fn matmul_trick_kernels_match_the_exact_distances_on_the_emulator() {
    let Some(exe) = harness() else { return };
    check_trick::<f32>(exe, (131, 65, 24));
    check_trick::<f64>(exe, (70, 9, 5));
}

/// `knn::run`'s host logic with the emulator in place of the device: the same schedule
/// within `budget` device bytes, the same slices of the prepared rows, and the lists kept
/// between the launches of a row block (they start as garbage, which the first launch must
/// clear). Returns `(indices, distances)` and the schedule.
fn emulated_knn<T: Element>(
    exe: &Path,
    xa: &NdArray,
    xb: &NdArray,
    k: usize,
    metric: &Metric,
    budget: usize,
) -> (Vec<i64>, Vec<f64>, KnnSchedule) {
    let (n, m, d) = cdist_dims(xa, xb).unwrap();
    let (plan, root) = knn_form(plan(metric, d).unwrap());
    let ((a, a_sides), (b, b_sides)) = (
        prepared_rows::<T>(xa, d, &plan).unwrap(),
        prepared_rows::<T>(xb, d, &plan).unwrap(),
    );
    let problem = Problem {
        n,
        m,
        d,
        elem_bytes: size_of::<T>(),
        out_bytes: 0,
    };
    let schedule = KnnSchedule::new(problem, k, budget).unwrap();
    let uses_side = row_side(plan.post) != RowSide::Unused;
    let at_least_one = |v: &[T]| {
        if v.is_empty() {
            vec![T::zeroed()]
        } else {
            v.to_vec()
        }
    };
    let (mut idx, mut dist) = (vec![-7i64; n * k], vec![f64::NAN; n * k]);
    let garbage = vec![0xA5u8; schedule.rows * k * 8];
    let (mut dist_dev, mut idx_dev) = (garbage.clone(), garbage);
    for blk in schedule.blocks(n, m) {
        let got = emulate(
            exe,
            &format!("knn_{}_{}", type_name(T::DTYPE), plan.op),
            (blk.rows.div_ceil(KNN_ROWS) as u32, 1),
            THREADS,
            &[
                bytes(&at_least_one(&a[blk.a_elems(d)])),
                bytes(&at_least_one(&b[blk.b_elems(d)])),
                Arg::I(blk.rows as i32),
                Arg::I(blk.cols as i32),
                Arg::I(d as i32),
                Arg::I(k as i32),
                Arg::D(plan.p),
                Arg::I(plan.post.code()),
                bytes(&a_sides[blk.a_sides(uses_side)]),
                bytes(&b_sides[blk.b_sides(uses_side)]),
                Arg::InOut(dist_dev),
                Arg::InOut(idx_dev),
                Arg::L(blk.c0 as i64),
                Arg::I(i32::from(blk.c0 == 0)),
            ],
        );
        [dist_dev, idx_dev] = [got[0].clone(), got[1].clone()];
        if blk.c0 + blk.cols == m {
            let lists = blk.r0 * k..(blk.r0 + blk.rows) * k;
            let len = blk.rows * k;
            dist[lists.clone()].copy_from_slice(&as_f64::<f64>(&dist_dev)[..len]);
            let got_idx = idx_dev
                .chunks_exact(8)
                .map(bytemuck::pod_read_unaligned::<i64>);
            idx[lists].iter_mut().zip(got_idx).for_each(|(d, s)| *d = s);
        }
    }
    if root {
        dist.iter_mut().for_each(|v| *v = v.sqrt());
    }
    (idx, dist, schedule)
}

/// The fused kNN kernel against the CPU back end's knn: the same distances, and each index
/// names a row at its distance. The quarter-grid data makes exact ties common; where the
/// CPU and the kernel compute a metric exactly (sqeuclidean, euclidean, cityblock,
/// chebyshev, hamming and the boolean counts on this data), the tie rule must pick the very
/// same indices.
fn check_knn<T: Element>(
    exe: &Path,
    (n, m, d): (usize, usize, usize),
    k: usize,
    budget: usize,
) -> Vec<KnnSchedule> {
    let exact = [
        "sqeuclidean",
        "euclidean",
        "cityblock",
        "chebyshev",
        "hamming",
        "jaccard",
    ];
    let tol = if T::DTYPE == DType::F32 { 1e-5 } else { 1e-12 };
    let mut schedules = vec![];
    for metric in every_gpu_metric(d) {
        let js = metric == Metric::JensenShannon;
        let (xa, xb) = (data(n, d, 5, js), data(m, d, 6, js));
        let (xa, xb) = (xa.astype(T::DTYPE).unwrap(), xb.astype(T::DTYPE).unwrap());
        let cpu = crate::distance::knn_with(&xa, &xb, k, &metric, &CdistOptions::new()).unwrap();
        let full = cdist_with(&xa, &xb, &metric, &CdistOptions::new()).unwrap();
        let (c_idx, c_dist) = (
            cpu.indices.to_vec::<i64>().unwrap(),
            cpu.distances.to_vec_f64().unwrap(),
        );
        let full = full.to_vec_f64().unwrap();
        let (g_idx, g_dist, schedule) = emulated_knn::<T>(exe, &xa, &xb, k, &metric, budget);
        schedules.push(schedule);
        let near = |a: f64, b: f64| {
            a == b || (a.is_nan() && b.is_nan()) || (a - b).abs() <= tol * a.abs().max(1.0)
        };
        for r in 0..n {
            for j in 0..k {
                let at = r * k + j;
                let (gi, gd) = (g_idx[at], g_dist[at]);
                assert!(
                    near(gd, c_dist[at]),
                    "{metric} {} knn row {r} #{j}: kernel {gd} (index {gi}), CPU {} (index {})",
                    T::DTYPE,
                    c_dist[at],
                    c_idx[at]
                );
                assert!((0..m as i64).contains(&gi) && near(full[r * m + gi as usize], gd));
                if exact.contains(&metric.name()) {
                    assert_eq!(
                        gi,
                        c_idx[at],
                        "{metric} {} knn row {r} #{j}: tie broken differently",
                        T::DTYPE
                    );
                }
            }
            let row = &g_idx[r * k..(r + 1) * k];
            assert!(
                (1..k).all(|j| !row[..j].contains(&row[j])),
                "{metric}: a repeated neighbour in row {r}"
            );
        }
    }
    schedules
}

#[test]
fn knn_kernel_matches_the_cpu_back_end_on_the_emulator() {
    let Some(exe) = harness() else { return };
    // More columns than one 64-column tile, rows over two launches, k past a tile's width.
    let all = usize::MAX;
    let single = |s: &KnnSchedule| s.b_resident && s.rows >= 70;
    assert!(
        check_knn::<f32>(exe, (70, 150, 11), 5, all)
            .iter()
            .all(single)
    );
    // Row blocks of 64: room for 64 rows with their lists beside B, not 128.
    let row = 6 * 8 + 8;
    let budget = 40 * row + 100 * (row + 3 * 16);
    let rows = check_knn::<f64>(exe, (130, 40, 6), 3, budget);
    assert!(rows.iter().all(|s| s.b_resident && s.rows == 64));
    check_knn::<f64>(exe, (3, 70, 4), 70, all);
    // B in column blocks (fewer columns than k in each), the lists kept across launches.
    let row = 4 * 8 + 8;
    let cols = check_knn::<f64>(exe, (6, 70, 4), 30, 2 * 25 * row);
    assert!(cols.iter().all(|s| !s.b_resident && s.cols == 25));
}

/// The device's row preparation (`prep_S_T`, used by `cdist_device`) against the host's
/// (`prepared_rows`, used by the streamed path): for every metric's plan, on a strided source
/// (a transposed, sliced and reversed view with an offset), the same prepared rows and row
/// sides, bit for bit.
fn check_prep<S: Element, T: Element>(exe: &Path, (n, d): (usize, usize)) {
    let mut plans_with_prep = 0;
    for metric in every_gpu_metric(d) {
        let js = metric == Metric::JensenShannon;
        // base is (d, n + 3) C-contiguous; rows 1 ..= n of its transpose, reversed.
        let base = data(n + 3, d, 9, js)
            .t()
            .to_contiguous(crate::Order::C)
            .astype(S::DTYPE)
            .unwrap();
        let view = base.t().slice_str(&format!("{n}:0:-1, :")).unwrap();
        assert_eq!(view.shape(), &[n, d]);
        assert!(view.offset() > 0 && view.strides()[0] < 0);
        let plan = plan(&metric, d).unwrap();
        let (prep, vec) = plan.prep.kernel_code();
        let side = row_side(plan.post);
        plans_with_prep += usize::from(prep != 0 || side != RowSide::Unused);
        let (host_rows, host_sides) = prepared_rows::<T>(&view, d, &plan).unwrap();
        let got = emulate(
            exe,
            &format!("prep_{}_{}", type_name(S::DTYPE), type_name(T::DTYPE)),
            (n.min(65535) as u32, 1),
            128,
            &[
                bytes(base.contiguous_bytes()),
                Arg::L(view.offset() as i64),
                Arg::L(view.strides()[0] as i64),
                Arg::L(view.strides()[1] as i64),
                Arg::I(n as i32),
                Arg::I(d as i32),
                Arg::I(prep),
                bytes(if vec.is_empty() { &[0.0][..] } else { vec }),
                Arg::I(side.kernel_code()),
                Arg::Out(n * d * size_of::<T>()),
                Arg::Out(n * 8),
            ],
        );
        let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
        let rows = as_f64::<T>(&got[0]);
        for (k, (g, h)) in rows.iter().zip(&host_rows).enumerate() {
            assert!(
                same(*g, h.to_f64()),
                "{metric} {}→{}: prepared ({}, {}) device {g}, host {h}",
                S::DTYPE,
                T::DTYPE,
                k / d,
                k % d
            );
        }
        if side != RowSide::Unused {
            let sides = as_f64::<f64>(&got[1]);
            for (i, (g, h)) in sides.iter().zip(&host_sides).enumerate() {
                assert!(
                    same(*g, *h),
                    "{metric}: side of row {i}, device {g}, host {h}"
                );
            }
        }
    }
    assert!(
        plans_with_prep >= 10,
        "{plans_with_prep} plans prepare rows"
    );
}

#[test]
fn device_row_preparation_matches_the_hosts_bit_for_bit_on_the_emulator() {
    let Some(exe) = harness() else { return };
    // More features than the prep kernel's 128 threads in one case.
    check_prep::<f64, f64>(exe, (7, 5));
    check_prep::<f64, f32>(exe, (4, 130));
    check_prep::<f32, f32>(exe, (9, 3));
    check_prep::<f32, f64>(exe, (3, 1));
}
