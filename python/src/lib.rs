//! `ndstride._ndstride`, the extension module behind the `ndstride` Python package.
//!
//! NumPy arrays come in without a copy (`lend`: the array's `Py_buffer` owns an `NdArray`'s
//! foreign buffer) and results go out without one (`hand`: an owner object whose buffer
//! NumPy wraps). A [`Request`] carries the metric and options, checked once (the Python
//! layer caches the common ones). The work runs with the GIL released and stops on Ctrl-C
//! (`compute`). SciPy's argument checks and messages live in the Python wrappers
//! (`ndstride/_distance.py`); this module still returns an error, never a crash, for
//! anything they let through.

mod compute;
mod errors;
mod hand;
mod lend;

use std::path::PathBuf;

use ndstride::buffer::Buffer;
use ndstride::distance::{self, CdistOptions, DistanceOutput, Metric};
use ndstride::io::NpyWriter;
use ndstride::{ArrayViewMut, CopyStats, DType, Layout, NdArray, Order, SliceInfo, s};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use compute::{RowBlocks, TINY_CALL, Threads, run_call};
use errors::OrPy;
use hand::ArrayOwner;
use lend::{lend, overlaps};

/// What a distance function computes besides its arrays: the metric with its parameters,
/// the options, and how many threads (resolved per call: pools belong to Python threads).
#[pyclass(frozen, module = "ndstride._ndstride")]
struct Request {
    metric: Metric,
    opts: CdistOptions,
    threads: Option<usize>,
}

#[pymethods]
impl Request {
    #[new]
    #[pyo3(signature = (metric, p=None, w=None, v=None, vi=None, dtype="float64", accumulate_f64=false, strategy="simd", backend="cpu", threads=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
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
        if threads == Some(0) {
            return Err(PyValueError::new_err("threads must be at least 1"));
        }
        let opts = CdistOptions::new()
            .out_dtype(out_dtype)
            .accumulate_f64(accumulate_f64)
            .strategy(strategy.parse().or_py()?)
            .backend(backend.parse().or_py()?);
        Ok(Request {
            metric,
            opts,
            threads,
        })
    }
}

impl Request {
    fn threads(&self) -> PyResult<Threads> {
        Threads::new(self.threads)
    }

    /// Whether the metric runs on the register-blocked kernels (or bit counts): tens of G
    /// pair-features/s rather than the pair loops' one or two.
    fn on_kernels(&self) -> bool {
        match &self.metric {
            Metric::Canberra | Metric::JensenShannon | Metric::BrayCurtis => false,
            Metric::Minkowski { p, .. } => *p == 1.0 || *p == 2.0 || p.is_infinite(),
            _ => true,
        }
    }
}

/// Two 2-D operands with the same number of columns, lent from Python.
fn operands(xa: &Bound<'_, PyAny>, xb: &Bound<'_, PyAny>) -> PyResult<(NdArray, NdArray)> {
    let (xa, xb) = (lend(xa, "XA", false)?, lend(xb, "XB", false)?);
    for (x, name) in [(&xa, "XA"), (&xb, "XB")] {
        if x.ndim() != 2 {
            return Err(PyValueError::new_err(format!(
                "{name} must be a 2-dimensional array."
            )));
        }
    }
    if xa.shape()[1] != xb.shape()[1] {
        return Err(PyValueError::new_err(
            "XA and XB must have the same number of columns (i.e. feature dimension.)",
        ));
    }
    Ok((xa, xb))
}

/// Pair-features of a problem, for choosing how to run it.
fn work(xa: &NdArray, m: usize) -> usize {
    xa.shape()[0]
        .saturating_mul(m)
        .saturating_mul(xa.shape()[1].max(1))
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
/// between: the work stops, so `out` is never written after an interrupt.
fn cdist_blocks<O: DistanceOutput>(
    py: Python<'_>,
    xa: &NdArray,
    xb: &NdArray,
    req: &Request,
    out: &mut NdArray,
) -> PyResult<()> {
    let total = work(xa, xb.shape()[0]);
    let threads = req.threads()?;
    let mut view: ArrayViewMut<'_, O> = out.view_mut::<O>().or_py()?;
    if total <= TINY_CALL {
        // Over in microseconds: releasing and taking back the GIL (or waking a pool) would
        // cost a tenth of it.
        return distance::cdist_into(xa, xb, &req.metric, &req.opts, &mut view).or_py();
    }
    let blocks = RowBlocks::new(
        xa.shape()[0],
        total / xa.shape()[0].max(1),
        req.on_kernels(),
        &threads,
        usize::MAX,
    );
    py.detach(|| {
        blocks.run(|r| {
            let rows = s![r.start as isize..r.end as isize, ..];
            let a = xa.slice(rows.clone()).or_py()?;
            let mut block = view.slice_mut(&rows).or_py()?;
            threads
                .run(|| distance::cdist_into(&a, xb, &req.metric, &req.opts, &mut block))
                .or_py()
        })
    })
}

/// `cdist` into a fresh array (returned) or into `out` (None returned). With `plain`, inputs
/// that need the Python layer's handling (a conversion, SciPy's error messages) return None
/// instead of raising, so the wrapper can take its full path for them.
#[pyfunction]
#[pyo3(signature = (xa, xb, req, out=None, plain=false))]
fn cdist(
    py: Python<'_>,
    xa: &Bound<'_, PyAny>,
    xb: &Bound<'_, PyAny>,
    req: &Request,
    out: Option<&Bound<'_, PyAny>>,
    plain: bool,
) -> PyResult<Option<ArrayOwner>> {
    let (xa, xb) = match operands(xa, xb) {
        Ok(ab) => ab,
        Err(_) if plain => return Ok(None),
        Err(e) => return Err(e),
    };
    let (n, m) = (xa.shape()[0], xb.shape()[0]);
    let run = |py: Python<'_>, target: &mut NdArray| -> PyResult<()> {
        match target.dtype() {
            DType::F32 => cdist_blocks::<f32>(py, &xa, &xb, req, target),
            DType::F64 => cdist_blocks::<f64>(py, &xa, &xb, req, target),
            other => Err(PyValueError::new_err(format!(
                "out must be float64 or float32, not {other}"
            ))),
        }
    };
    let Some(out) = out else {
        // SAFETY: cdist_blocks writes every element, or fails and the array is dropped.
        let mut fresh = unsafe { uninit(&[n, m], req.opts.get_out_dtype()) }?;
        run(py, &mut fresh)?;
        return Ok(Some(ArrayOwner::new(fresh)));
    };
    let mut target = lend(out, "out", true)?;
    if target.shape() != [n, m] {
        return Err(PyValueError::new_err("Output array has incorrect shape."));
    }
    if overlaps(&target, &xa) || overlaps(&target, &xb) {
        // Written in place, out would change the inputs while they are read: compute aside,
        // then copy (NumPy buffers overlapping operands the same way).
        // SAFETY: as above.
        let mut fresh = unsafe { uninit(&[n, m], target.dtype()) }?;
        run(py, &mut fresh)?;
        assign(&mut target, &fresh)?;
    } else {
        run(py, &mut target)?;
    }
    Ok(None)
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

/// `pdist` into a fresh array (returned) or into `out` (None returned).
#[pyfunction]
#[pyo3(signature = (x, req, out=None))]
fn pdist(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    req: &Request,
    out: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<ArrayOwner>> {
    let x = lend(x, "X", false)?;
    if x.ndim() != 2 {
        return Err(PyValueError::new_err("X must be a 2-dimensional array."));
    }
    let mut target = out.map(|o| lend(o, "out", true)).transpose()?;
    let opts = match &target {
        Some(t) => req.opts.clone().out_dtype(t.dtype()),
        None => req.opts.clone(),
    };
    let metric = req.metric.clone();
    let half = work(&x, x.shape()[0]) / 2;
    // A fresh result computed aside, also for `out`: an abandoned call never writes there.
    let result = run_call(py, &req.threads()?, half, move || {
        distance::pdist_with(&x, &metric, &opts)
    })?
    .or_py()?;
    match &mut target {
        None => Ok(Some(ArrayOwner::new(result))),
        Some(t) => {
            assign(t, &result)?;
            Ok(None)
        }
    }
}

/// The `k` nearest rows of `xb` for each row of `xa`: `(distances, indices)`.
#[pyfunction]
fn knn(
    py: Python<'_>,
    xa: &Bound<'_, PyAny>,
    xb: &Bound<'_, PyAny>,
    k: usize,
    req: &Request,
) -> PyResult<(ArrayOwner, ArrayOwner)> {
    let (xa, xb) = operands(xa, xb)?;
    let (metric, opts) = (req.metric.clone(), req.opts.clone());
    let w = work(&xa, xb.shape()[0]);
    let found = run_call(py, &req.threads()?, w, move || {
        distance::knn_with(&xa, &xb, k, &metric, &opts)
    })?
    .or_py()?;
    Ok((
        ArrayOwner::new(found.distances),
        ArrayOwner::new(found.indices),
    ))
}

/// For each row of `xa`, the index of its nearest row of `xb` and the distance:
/// scikit-learn's `pairwise_distances_argmin_min`.
#[pyfunction]
fn argmin_min(
    py: Python<'_>,
    xa: &Bound<'_, PyAny>,
    xb: &Bound<'_, PyAny>,
    req: &Request,
) -> PyResult<(ArrayOwner, ArrayOwner)> {
    let (xa, xb) = operands(xa, xb)?;
    let (metric, opts) = (req.metric.clone(), req.opts.clone());
    let w = work(&xa, xb.shape()[0]);
    let (idx, dist) = run_call(py, &req.threads()?, w, move || {
        distance::argmin_min(&xa, &xb, (&metric, &opts))
    })?
    .or_py()?;
    Ok((ArrayOwner::new(idx), ArrayOwner::new(dist)))
}

/// Radius neighbours in CSR form `(indptr, indices, distances)`, or only the counts.
#[pyfunction]
#[pyo3(signature = (xa, xb, radius, req, count_only=false))]
fn radius_neighbors(
    py: Python<'_>,
    xa: &Bound<'_, PyAny>,
    xb: &Bound<'_, PyAny>,
    radius: f64,
    req: &Request,
    count_only: bool,
) -> PyResult<Vec<ArrayOwner>> {
    let (xa, xb) = operands(xa, xb)?;
    let (metric, opts) = (req.metric.clone(), req.opts.clone());
    let w = work(&xa, xb.shape()[0]);
    let arrays = run_call(py, &req.threads()?, w, move || {
        if count_only {
            distance::radius_count(&xa, &xb, radius, (&metric, &opts)).map(|c| vec![c])
        } else {
            distance::radius_neighbors(&xa, &xb, radius, (&metric, &opts))
                .map(|r| vec![r.indptr, r.indices, r.distances])
        }
    })?
    .or_py()?;
    Ok(arrays.into_iter().map(ArrayOwner::new).collect())
}

/// The `n × m` matrix written to the `.npy` file `path` block by block within `memory` bytes;
/// the file appears under its name only when complete.
#[pyfunction]
#[pyo3(signature = (xa, xb, path, req, memory, progress=false))]
fn cdist_to_npy(
    py: Python<'_>,
    xa: &Bound<'_, PyAny>,
    xb: &Bound<'_, PyAny>,
    path: PathBuf,
    req: &Request,
    memory: usize,
    progress: bool,
) -> PyResult<()> {
    let (xa, xb) = operands(xa, xb)?;
    let dtype = req.opts.get_out_dtype();
    let (n, m) = (xa.shape()[0], xb.shape()[0]);
    // Rows per block: the budget holds one block; the work target keeps Ctrl-C responsive.
    let row_bytes = (m * dtype.itemsize()).max(1);
    if memory < row_bytes {
        return Err(PyValueError::new_err(format!(
            "memory={memory} bytes cannot hold one row of {m} distances ({row_bytes} bytes)"
        )));
    }
    let threads = req.threads()?;
    let blocks = RowBlocks::new(
        n,
        m * xa.shape()[1],
        req.on_kernels(),
        &threads,
        memory / row_bytes,
    );
    let mut writer = NpyWriter::create(&path, dtype, &[n, m]).or_py()?;
    // SAFETY: each block's rows are written by cdist_into before they are read.
    let mut buf = unsafe { uninit(&[blocks.max_rows().min(n), m], dtype) }?;
    py.detach(|| -> PyResult<()> {
        blocks.run(|r| {
            let a = xa.slice(s![r.start as isize..r.end as isize, ..]).or_py()?;
            let part = s![..r.len() as isize, ..];
            let block = Block {
                a: &a,
                xb: &xb,
                req,
                threads: &threads,
                part: &part,
            };
            match dtype {
                DType::F32 => block.write::<f32>(&mut buf, &mut writer)?,
                _ => block.write::<f64>(&mut buf, &mut writer)?,
            }
            if progress {
                eprint!("\rcdist_to_npy: {:3}%", 100 * r.end / n.max(1));
            }
            Ok(())
        })?;
        if progress {
            eprintln!();
        }
        Ok(())
    })?;
    writer.finish().or_py()
}

/// One block of rows of `cdist_to_npy`.
struct Block<'a> {
    a: &'a NdArray,
    xb: &'a NdArray,
    req: &'a Request,
    threads: &'a Threads,
    /// The rows of the block buffer this block fills.
    part: &'a SliceInfo,
}

impl Block<'_> {
    /// Computes the block into `buf` and appends it to the file.
    fn write<O: DistanceOutput>(&self, buf: &mut NdArray, writer: &mut NpyWriter) -> PyResult<()> {
        let mut all = buf.view_mut::<O>().or_py()?;
        let mut block = all.slice_mut(self.part).or_py()?;
        let req = self.req;
        self.threads
            .run(|| distance::cdist_into(self.a, self.xb, &req.metric, &req.opts, &mut block))
            .or_py()?;
        let done = all.view().slice(self.part).or_py()?;
        let values = done
            .as_slice()
            .ok_or_else(|| PyRuntimeError::new_err("block is not contiguous"))?;
        writer.write(values).or_py()
    }
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
    m.add_class::<Request>()?;
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
