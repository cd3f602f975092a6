//! `ndstride._ndstride`, the extension module behind the `ndstride` Python package.
//!
//! NumPy arrays come in without a copy (`lend`: the array object owns an `NdArray`'s foreign
//! buffer) and results go out without one (`hand`: an owner object whose buffer NumPy
//! wraps). The work runs with the GIL released, in blocks of rows with Ctrl-C checked
//! between them (`compute`). SciPy's argument checks and messages live in the Python
//! wrappers (`ndstride/_distance.py`); this module trusts the shapes and dtypes they pass,
//! and still returns an error, never a crash, for anything else.

mod compute;
mod errors;
mod hand;
mod lend;

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use ndstride::buffer::Buffer;
use ndstride::distance::{self, CdistOptions, DistanceOutput, Metric, Neighbors, RadiusNeighbors};
use ndstride::io::NpyWriter;
use ndstride::{ArrayViewMut, CopyStats, DType, Layout, NdArray, Order, s};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use compute::{Threads, check_signals, row_blocks, search_blocks};
use errors::OrPy;
use hand::ArrayOwner;
use lend::{lend, overlaps};

/// What every distance function takes besides its arrays.
struct Request {
    metric: Metric,
    opts: CdistOptions,
    threads: Threads,
}

#[allow(clippy::too_many_arguments)]
fn request(
    metric: &str,
    p: Option<f64>,
    w: Option<&Bound<'_, PyAny>>,
    v: Option<&Bound<'_, PyAny>>,
    vi: Option<&Bound<'_, PyAny>>,
    dtype: &str,
    accumulate_f64: bool,
    strategy: &str,
    backend: &str,
    threads: Option<usize>,
) -> PyResult<Request> {
    let vector = |x: Option<&Bound<'_, PyAny>>, name: &str| -> PyResult<Option<Vec<f64>>> {
        x.map(|x| {
            lend(x, name, false)?
                .astype(DType::F64)
                .or_py()?
                .to_vec::<f64>()
                .or_py()
        })
        .transpose()
    };
    let metric = match metric.parse::<Metric>().or_py()? {
        Metric::Minkowski { .. } => Metric::Minkowski {
            p: p.unwrap_or(2.0),
            w: vector(w, "w")?,
        },
        Metric::SEuclidean { .. } => Metric::SEuclidean { v: vector(v, "V")? },
        Metric::Mahalanobis { .. } => Metric::Mahalanobis {
            vi: vector(vi, "VI")?,
        },
        other => other,
    };
    let out_dtype = match dtype {
        "float64" => DType::F64,
        "float32" => DType::F32,
        _ => {
            return Err(PyValueError::new_err(format!(
                "dtype must be float64 or float32, not {dtype}"
            )));
        }
    };
    let opts = CdistOptions::new()
        .out_dtype(out_dtype)
        .accumulate_f64(accumulate_f64)
        .strategy(strategy.parse().or_py()?)
        .backend(backend.parse().or_py()?);
    Ok(Request {
        metric,
        opts,
        threads: Threads::new(threads)?,
    })
}

/// A C-contiguous array whose elements the caller writes in full before anything reads it.
///
/// # Safety
/// Every element is written before the array is read or handed to Python.
unsafe fn uninit(shape: &[usize], dtype: DType) -> PyResult<NdArray> {
    let layout = Layout::contiguous(shape, dtype.itemsize(), Order::C).or_py()?;
    let bytes = layout.size() * dtype.itemsize();
    // SAFETY: forwarded to the caller.
    let buffer = unsafe { Buffer::for_overwrite(bytes) }.or_py()?;
    NdArray::from_buffer(buffer, layout, dtype).or_py()
}

/// The distances into `out` (`n × m`), block of rows by block of rows, Ctrl-C checked in
/// between.
fn cdist_blocks<O: DistanceOutput>(
    py: Python<'_>,
    xa: &NdArray,
    xb: &NdArray,
    req: &Request,
    out: &mut NdArray,
) -> PyResult<()> {
    let (n, m) = (xa.shape()[0], xb.shape()[0]);
    let blocks = row_blocks(n, m * xa.shape()[1], on_kernels(&req.metric));
    let mut view: ArrayViewMut<'_, O> = out.view_mut::<O>().or_py()?;
    py.detach(|| {
        for (b, r) in blocks.iter().enumerate() {
            let rows = s![r.start as isize..r.end as isize, ..];
            let a = xa.slice(rows.clone()).or_py()?;
            let mut block = view.slice_mut(&rows).or_py()?;
            req.threads
                .run(|| distance::cdist_into(&a, xb, &req.metric, &req.opts, &mut block))
                .or_py()?;
            if b + 1 < blocks.len() {
                check_signals()?;
            }
        }
        Ok(())
    })
}

/// Whether the metric runs on the register-blocked kernels (or bit counts): tens of G
/// pair-features/s rather than the pair loops' one or two.
fn on_kernels(metric: &Metric) -> bool {
    match metric {
        Metric::Canberra | Metric::JensenShannon | Metric::BrayCurtis => false,
        Metric::Minkowski { p, .. } => *p == 1.0 || *p == 2.0 || p.is_infinite(),
        _ => true,
    }
}

fn dims_2d(x: &NdArray, name: &str) -> PyResult<()> {
    if x.ndim() != 2 {
        return Err(PyValueError::new_err(format!(
            "{name} must be a 2-dimensional array."
        )));
    }
    Ok(())
}

/// `cdist` into a fresh array (returned) or into `out` (None returned).
#[pyfunction]
#[pyo3(signature = (xa, xb, metric, p=None, w=None, v=None, vi=None, out=None, dtype="float64", accumulate_f64=false, strategy="simd", backend="cpu", threads=None))]
#[allow(clippy::too_many_arguments)]
fn cdist(
    py: Python<'_>,
    xa: &Bound<'_, PyAny>,
    xb: &Bound<'_, PyAny>,
    metric: &str,
    p: Option<f64>,
    w: Option<&Bound<'_, PyAny>>,
    v: Option<&Bound<'_, PyAny>>,
    vi: Option<&Bound<'_, PyAny>>,
    out: Option<&Bound<'_, PyAny>>,
    dtype: &str,
    accumulate_f64: bool,
    strategy: &str,
    backend: &str,
    threads: Option<usize>,
) -> PyResult<Option<ArrayOwner>> {
    let (xa, xb) = (lend(xa, "XA", false)?, lend(xb, "XB", false)?);
    dims_2d(&xa, "XA")?;
    dims_2d(&xb, "XB")?;
    let req = request(
        metric,
        p,
        w,
        v,
        vi,
        dtype,
        accumulate_f64,
        strategy,
        backend,
        threads,
    )?;
    let (n, m) = (xa.shape()[0], xb.shape()[0]);
    let run = |py: Python<'_>, target: &mut NdArray| -> PyResult<()> {
        match target.dtype() {
            DType::F32 => cdist_blocks::<f32>(py, &xa, &xb, &req, target),
            DType::F64 => cdist_blocks::<f64>(py, &xa, &xb, &req, target),
            other => Err(PyValueError::new_err(format!(
                "out must be float64 or float32, not {other}"
            ))),
        }
    };
    match out {
        None => {
            let dtype = req.opts.get_out_dtype();
            // SAFETY: cdist_blocks writes every element, or fails and the array is dropped.
            let mut fresh = unsafe { uninit(&[n, m], dtype) }?;
            run(py, &mut fresh)?;
            Ok(Some(ArrayOwner::new(fresh)))
        }
        Some(out) => {
            let mut target = lend(out, "out", true)?;
            if overlaps(&target, &xa) || overlaps(&target, &xb) {
                // Written in place, out would change the inputs while they are read: compute
                // aside, then copy (NumPy buffers overlapping operands the same way).
                // SAFETY: as above.
                let mut fresh = unsafe { uninit(&[n, m], target.dtype()) }?;
                run(py, &mut fresh)?;
                assign(&mut target, &fresh)?;
            } else {
                run(py, &mut target)?;
            }
            Ok(None)
        }
    }
}

/// Copies `src` into `dst` (same shape and dtype).
fn assign(dst: &mut NdArray, src: &NdArray) -> PyResult<()> {
    match dst.dtype() {
        DType::F32 => dst
            .view_mut::<f32>()
            .or_py()?
            .assign(&src.view::<f32>().or_py()?)
            .or_py(),
        _ => dst
            .view_mut::<f64>()
            .or_py()?
            .assign(&src.view::<f64>().or_py()?)
            .or_py(),
    }
}

/// Runs `f` on a thread of its own while this thread waits with the GIL released, checking
/// for Ctrl-C every 20 ms. Interrupted, it returns at once; the abandoned computation owns its
/// output, which nobody sees, and ends on its own.
fn interruptible<R: Send + 'static>(
    py: Python<'_>,
    threads: &Threads,
    f: impl FnOnce() -> R + Send + 'static,
) -> PyResult<R> {
    let (tx, rx) = mpsc::channel();
    let threads = threads.clone();
    std::thread::Builder::new()
        .name("ndstride-call".into())
        .spawn(move || {
            let _ = tx.send(CopyStats::scope(|| threads.run_uncredited(f)));
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread: {e}")))?;
    let (r, stats) = py.detach(move || {
        loop {
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(done) => return Ok(done),
                Err(mpsc::RecvTimeoutError::Timeout) => check_signals()?,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(PyRuntimeError::new_err("ndstride's worker thread panicked"));
                }
            }
        }
    })?;
    let ((r, pool_stats), own) = (r, stats);
    compute::credit(own);
    compute::credit(pool_stats);
    Ok(r)
}

/// `pdist` into a fresh array (returned) or into `out` (None returned).
#[pyfunction]
#[pyo3(signature = (x, metric, p=None, w=None, v=None, vi=None, out=None, dtype="float64", accumulate_f64=false, strategy="simd", backend="cpu", threads=None))]
#[allow(clippy::too_many_arguments)]
fn pdist(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    metric: &str,
    p: Option<f64>,
    w: Option<&Bound<'_, PyAny>>,
    v: Option<&Bound<'_, PyAny>>,
    vi: Option<&Bound<'_, PyAny>>,
    out: Option<&Bound<'_, PyAny>>,
    dtype: &str,
    accumulate_f64: bool,
    strategy: &str,
    backend: &str,
    threads: Option<usize>,
) -> PyResult<Option<ArrayOwner>> {
    let x = lend(x, "X", false)?;
    dims_2d(&x, "X")?;
    let mut req = request(
        metric,
        p,
        w,
        v,
        vi,
        dtype,
        accumulate_f64,
        strategy,
        backend,
        threads,
    )?;
    let mut target = out.map(|o| lend(o, "out", true)).transpose()?;
    if let Some(t) = &target {
        req.opts = req.opts.clone().out_dtype(t.dtype());
    }
    let (n, d) = (x.shape()[0], x.shape()[1]);
    let work = n.saturating_mul(n) / 2 * d.max(1);
    let result = if work <= 1 << 26 {
        py.detach(|| {
            req.threads
                .run(|| distance::pdist_with(&x, &req.metric, &req.opts))
        })
    } else {
        let (metric, opts) = (req.metric.clone(), req.opts.clone());
        interruptible(py, &req.threads, move || {
            distance::pdist_with(&x, &metric, &opts)
        })?
    }
    .or_py()?;
    match &mut target {
        None => Ok(Some(ArrayOwner::new(result))),
        Some(t) => {
            assign(t, &result)?;
            Ok(None)
        }
    }
}

fn neighbors_blocks(
    py: Python<'_>,
    xa: &NdArray,
    xb: &NdArray,
    req: &Request,
    per_block: impl Fn(&NdArray) -> ndstride::Result<Neighbors> + Sync,
    k: usize,
) -> PyResult<(NdArray, NdArray)> {
    let n = xa.shape()[0];
    let blocks = search_blocks(n, xb.shape()[0] * xa.shape()[1]);
    let mut dist = NdArray::zeros(&[n, k], DType::F64).or_py()?;
    let mut idx = NdArray::zeros(&[n, k], DType::I64).or_py()?;
    py.detach(|| -> PyResult<()> {
        let mut dv = dist.view_mut::<f64>().or_py()?;
        let mut iv = idx.view_mut::<i64>().or_py()?;
        for (b, r) in blocks.iter().enumerate() {
            let rows = s![r.start as isize..r.end as isize, ..];
            let a = xa.slice(rows.clone()).or_py()?;
            let found = req.threads.run(|| per_block(&a)).or_py()?;
            dv.slice_mut(&rows)
                .or_py()?
                .assign(&found.distances.view::<f64>().or_py()?)
                .or_py()?;
            iv.slice_mut(&rows)
                .or_py()?
                .assign(&found.indices.view::<i64>().or_py()?)
                .or_py()?;
            if b + 1 < blocks.len() {
                check_signals()?;
            }
        }
        Ok(())
    })?;
    Ok((dist, idx))
}

/// The `k` nearest rows of `xb` for each row of `xa`: `(distances, indices)`.
#[pyfunction]
#[pyo3(signature = (xa, xb, k, metric, p=None, w=None, v=None, vi=None, strategy="simd", backend="cpu", threads=None))]
#[allow(clippy::too_many_arguments)]
fn knn(
    py: Python<'_>,
    xa: &Bound<'_, PyAny>,
    xb: &Bound<'_, PyAny>,
    k: usize,
    metric: &str,
    p: Option<f64>,
    w: Option<&Bound<'_, PyAny>>,
    v: Option<&Bound<'_, PyAny>>,
    vi: Option<&Bound<'_, PyAny>>,
    strategy: &str,
    backend: &str,
    threads: Option<usize>,
) -> PyResult<(ArrayOwner, ArrayOwner)> {
    let (xa, xb) = (lend(xa, "XA", false)?, lend(xb, "XB", false)?);
    dims_2d(&xa, "XA")?;
    dims_2d(&xb, "XB")?;
    let req = request(
        metric, p, w, v, vi, "float64", false, strategy, backend, threads,
    )?;
    // The whole problem's checks (k against XB, widths) before any block runs.
    if xa.shape()[0] == 0 || xa.shape()[1] != xb.shape()[1] {
        let found = distance::knn_with(&xa, &xb, k, &req.metric, &req.opts).or_py()?;
        return Ok((
            ArrayOwner::new(found.distances),
            ArrayOwner::new(found.indices),
        ));
    }
    let (dist, idx) = neighbors_blocks(
        py,
        &xa,
        &xb,
        &req,
        |a| distance::knn_with(a, &xb, k, &req.metric, &req.opts),
        k,
    )?;
    Ok((ArrayOwner::new(dist), ArrayOwner::new(idx)))
}

/// For each row of `xa`, the index of its nearest row of `xb` and the distance:
/// scikit-learn's `pairwise_distances_argmin_min`.
#[pyfunction]
#[pyo3(signature = (xa, xb, metric, p=None, w=None, v=None, vi=None, strategy="simd", backend="cpu", threads=None))]
#[allow(clippy::too_many_arguments)]
fn argmin_min(
    py: Python<'_>,
    xa: &Bound<'_, PyAny>,
    xb: &Bound<'_, PyAny>,
    metric: &str,
    p: Option<f64>,
    w: Option<&Bound<'_, PyAny>>,
    v: Option<&Bound<'_, PyAny>>,
    vi: Option<&Bound<'_, PyAny>>,
    strategy: &str,
    backend: &str,
    threads: Option<usize>,
) -> PyResult<(ArrayOwner, ArrayOwner)> {
    let (xa, xb) = (lend(xa, "XA", false)?, lend(xb, "XB", false)?);
    dims_2d(&xa, "XA")?;
    dims_2d(&xb, "XB")?;
    let req = request(
        metric, p, w, v, vi, "float64", false, strategy, backend, threads,
    )?;
    let (idx, dist) = py
        .detach(|| {
            req.threads
                .run(|| distance::argmin_min(&xa, &xb, &req.metric, &req.opts))
        })
        .or_py()?;
    Ok((ArrayOwner::new(idx), ArrayOwner::new(dist)))
}

/// Radius neighbours in CSR form `(indptr, indices, distances)`, or only the counts.
#[pyfunction]
#[pyo3(signature = (xa, xb, radius, metric, count_only=false, p=None, w=None, v=None, vi=None, strategy="simd", backend="cpu", threads=None))]
#[allow(clippy::too_many_arguments)]
fn radius_neighbors(
    py: Python<'_>,
    xa: &Bound<'_, PyAny>,
    xb: &Bound<'_, PyAny>,
    radius: f64,
    metric: &str,
    count_only: bool,
    p: Option<f64>,
    w: Option<&Bound<'_, PyAny>>,
    v: Option<&Bound<'_, PyAny>>,
    vi: Option<&Bound<'_, PyAny>>,
    strategy: &str,
    backend: &str,
    threads: Option<usize>,
) -> PyResult<Vec<ArrayOwner>> {
    let (xa, xb) = (lend(xa, "XA", false)?, lend(xb, "XB", false)?);
    dims_2d(&xa, "XA")?;
    dims_2d(&xb, "XB")?;
    let req = request(
        metric, p, w, v, vi, "float64", false, strategy, backend, threads,
    )?;
    if count_only {
        let counts = py
            .detach(|| {
                req.threads
                    .run(|| distance::radius_count(&xa, &xb, radius, &req.metric, &req.opts))
            })
            .or_py()?;
        return Ok(vec![ArrayOwner::new(counts)]);
    }
    let found: RadiusNeighbors = py
        .detach(|| {
            req.threads
                .run(|| distance::radius_neighbors(&xa, &xb, radius, &req.metric, &req.opts))
        })
        .or_py()?;
    Ok(vec![
        ArrayOwner::new(found.indptr),
        ArrayOwner::new(found.indices),
        ArrayOwner::new(found.distances),
    ])
}

/// The `n × m` matrix written to the `.npy` file `path` block by block within `memory` bytes;
/// the file appears under its name only when complete.
#[pyfunction]
#[pyo3(signature = (xa, xb, path, metric, memory, progress=false, p=None, w=None, v=None, vi=None, dtype="float64", accumulate_f64=false, strategy="simd", backend="cpu", threads=None))]
#[allow(clippy::too_many_arguments)]
fn cdist_to_npy(
    py: Python<'_>,
    xa: &Bound<'_, PyAny>,
    xb: &Bound<'_, PyAny>,
    path: PathBuf,
    metric: &str,
    memory: usize,
    progress: bool,
    p: Option<f64>,
    w: Option<&Bound<'_, PyAny>>,
    v: Option<&Bound<'_, PyAny>>,
    vi: Option<&Bound<'_, PyAny>>,
    dtype: &str,
    accumulate_f64: bool,
    strategy: &str,
    backend: &str,
    threads: Option<usize>,
) -> PyResult<()> {
    let (xa, xb) = (lend(xa, "XA", false)?, lend(xb, "XB", false)?);
    dims_2d(&xa, "XA")?;
    dims_2d(&xb, "XB")?;
    let req = request(
        metric,
        p,
        w,
        v,
        vi,
        dtype,
        accumulate_f64,
        strategy,
        backend,
        threads,
    )?;
    let dtype = req.opts.get_out_dtype();
    let (n, m) = (xa.shape()[0], xb.shape()[0]);
    if xa.shape()[1] != xb.shape()[1] {
        return Err(PyValueError::new_err(
            "XA and XB must have the same number of columns (i.e. feature dimension.)",
        ));
    }
    // Rows per block: the budget holds one block (and its packing); the work target keeps
    // Ctrl-C responsive.
    let row_bytes = (m * dtype.itemsize()).max(1);
    let by_memory = (memory / row_bytes).max(1);
    if memory < row_bytes {
        return Err(PyValueError::new_err(format!(
            "memory={memory} bytes cannot hold one row of {m} distances ({row_bytes} bytes)"
        )));
    }
    let blocks: Vec<_> = row_blocks(n, m * xa.shape()[1], on_kernels(&req.metric))
        .into_iter()
        .flat_map(|r| {
            (r.start..r.end)
                .step_by(by_memory)
                .map(move |r0| r0..(r0 + by_memory).min(r.end))
        })
        .collect();
    let mut writer = NpyWriter::create(&path, dtype, &[n, m]).or_py()?;
    let rows = blocks.iter().map(|r| r.len()).max().unwrap_or(0);
    // SAFETY: each block's rows are written by cdist_into before they are read.
    let mut buf = unsafe { uninit(&[rows, m], dtype) }?;
    py.detach(|| -> PyResult<()> {
        for r in &blocks {
            let a = xa.slice(s![r.start as isize..r.end as isize, ..]).or_py()?;
            let part = s![..r.len() as isize, ..];
            match dtype {
                DType::F32 => write_block::<f32>(&a, &xb, &req, &mut buf, &part, &mut writer)?,
                _ => write_block::<f64>(&a, &xb, &req, &mut buf, &part, &mut writer)?,
            }
            check_signals()?;
            if progress {
                eprint!("\rcdist_to_npy: {:3}%", 100 * r.end / n.max(1));
            }
        }
        if progress {
            eprintln!();
        }
        Ok(())
    })?;
    writer.finish().or_py()
}

fn write_block<O: DistanceOutput>(
    a: &NdArray,
    xb: &NdArray,
    req: &Request,
    buf: &mut NdArray,
    part: &ndstride::SliceInfo,
    writer: &mut NpyWriter,
) -> PyResult<()> {
    let mut all = buf.view_mut::<O>().or_py()?;
    let mut block = all.slice_mut(part).or_py()?;
    req.threads
        .run(|| distance::cdist_into(a, xb, &req.metric, &req.opts, &mut block))
        .or_py()?;
    let done = all.view().slice(part).or_py()?;
    writer
        .write(
            done.as_slice()
                .ok_or_else(|| PyRuntimeError::new_err("block is not contiguous"))?,
        )
        .or_py()
}

/// SciPy's `squareform` conversion (the Python wrapper does SciPy's checks first).
#[pyfunction]
fn squareform(x: &Bound<'_, PyAny>) -> PyResult<ArrayOwner> {
    let x = lend(x, "X", false)?;
    Ok(ArrayOwner::new(distance::squareform(&x).or_py()?))
}

/// This thread's copy totals: `(allocations, bytes_allocated, bytes_copied)`.
#[pyfunction]
fn copy_totals() -> (u64, u64, u64) {
    let t = compute::totals();
    (t.allocations, t.bytes_allocated, t.bytes_copied)
}

/// Records a copy the Python layer made (a dtype NumPy had to convert) in this thread's totals.
#[pyfunction]
fn credit_copy(bytes: u64) {
    compute::credit(CopyStats {
        allocations: 1,
        bytes_allocated: bytes,
        bytes_copied: bytes,
    });
}

/// The metric names ndstride computes (SciPy's canonical names).
#[pyfunction]
fn metric_names() -> Vec<&'static str> {
    distance::METRIC_NAMES.to_vec()
}

#[pymodule]
fn _ndstride(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ArrayOwner>()?;
    m.add_function(wrap_pyfunction!(cdist, m)?)?;
    m.add_function(wrap_pyfunction!(pdist, m)?)?;
    m.add_function(wrap_pyfunction!(knn, m)?)?;
    m.add_function(wrap_pyfunction!(argmin_min, m)?)?;
    m.add_function(wrap_pyfunction!(radius_neighbors, m)?)?;
    m.add_function(wrap_pyfunction!(cdist_to_npy, m)?)?;
    m.add_function(wrap_pyfunction!(squareform, m)?)?;
    m.add_function(wrap_pyfunction!(copy_totals, m)?)?;
    m.add_function(wrap_pyfunction!(credit_copy, m)?)?;
    m.add_function(wrap_pyfunction!(metric_names, m)?)?;
    Ok(())
}
