//! `ndstride cdist XA [XB] --metric NAME ... -o OUT.npy [--memory SIZE]` and
//! `ndstride pdist X ... -o OUT.npy`.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use ndstride::distance::{
    Backend, CdistOptions, DistanceOutput, Metric, Strategy, cdist_chunked, cdist_with, pdist_with,
};
use ndstride::io::{NpyWriter, load_npy, load_npy_mmap, read_npy_header, save_npy};
use ndstride::{DType, Error, NdArray};

use crate::interrupt;

/// The options every distance verb shares.
#[derive(clap::Args)]
pub struct MetricArgs {
    /// SciPy's metric name (euclidean, cityblock, cosine, hamming, ...); default euclidean,
    /// or minkowski when --p is given.
    #[arg(long)]
    metric: Option<String>,
    /// Minkowski's exponent p (>= 1; implies --metric minkowski when that is not given).
    #[arg(long)]
    p: Option<f64>,
    /// simd (exact, default), matmul (the ‖x‖²+‖y‖²−2x·y trick) or broadcast (NumPy's temporary).
    #[arg(long, default_value = "simd")]
    strategy: String,
    /// Output dtype: f64 (default, as SciPy) or f32. f32 inputs are computed in f32 either way.
    #[arg(long, default_value = "f64")]
    dtype: String,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// cpu, cuda (a GPU; an error without one) or auto (a GPU when one is present and the
    /// problem is large enough to pay for the transfers, the CPU otherwise).
    #[arg(long, default_value = "auto")]
    backend: String,
    /// Device memory the GPU back end may use (e.g. 4GiB; default half the free memory):
    /// larger problems stream through it in blocks of rows and columns.
    #[arg(long, value_name = "SIZE", value_parser = crate::size::parse_size)]
    device_memory: Option<usize>,
}

/// The options of cdist and pdist.
#[derive(clap::Args)]
pub struct DistanceArgs {
    #[command(flatten)]
    metric: MetricArgs,
    /// Where to write the result (.npy); written to a temporary file and renamed when complete.
    #[arg(short, long)]
    output: PathBuf,
}

impl MetricArgs {
    pub fn resolve(&self) -> ndstride::Result<(Metric, CdistOptions)> {
        let name = self.metric.as_deref().unwrap_or(match self.p {
            Some(_) => "minkowski",
            None => "euclidean",
        });
        let mut metric: Metric = name.parse()?;
        if let Some(p) = self.p {
            metric = match metric {
                Metric::Minkowski { w, .. } => Metric::Minkowski { p, w },
                m => {
                    return Err(Error::InvalidArgument(format!(
                        "--p applies to minkowski, not {m}"
                    )));
                }
            };
        }
        let out_dtype = match self.dtype.as_str() {
            "f64" | "float64" => DType::F64,
            "f32" | "float32" => DType::F32,
            d => {
                return Err(Error::InvalidArgument(format!(
                    "--dtype must be f64 or f32, not {d:?}"
                )));
            }
        };
        let strategy: Strategy = self.strategy.parse()?;
        let backend: Backend = self.backend.parse()?;
        let mut opts = CdistOptions::new()
            .strategy(strategy)
            .out_dtype(out_dtype)
            .backend(backend);
        if let Some(t) = self.threads {
            opts = opts.threads(t);
        }
        if let Some(bytes) = self.device_memory {
            opts = opts.device_memory(bytes);
        }
        Ok((metric, opts))
    }
}

/// A matrix from `.npy` (memory-mapped where the file's byte order allows it, so an input
/// larger than memory is read from disk as the blocks need it), or from `.csv`.
pub fn load_mapped(path: &Path) -> ndstride::Result<NdArray> {
    if is_csv(path) || read_npy_header(path)?.big_endian {
        return load_matrix(path);
    }
    load_npy_mmap(path)
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// A matrix from `.npy`, or from `.csv` (numbers separated by commas; blank lines ignored).
pub fn load_matrix(path: &Path) -> ndstride::Result<NdArray> {
    if !is_csv(path) {
        return load_npy(path);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::InvalidArgument(format!("cannot read {}: {e}", path.display())))?;
    let mut values = Vec::new();
    let (mut rows, mut cols) = (0usize, None);
    for (line_no, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let before = values.len();
        for (col, field) in line.split(',').enumerate() {
            let v: f64 = field.trim().parse().map_err(|_| {
                Error::InvalidArgument(format!(
                    "{}:{}: column {}: {:?} is not a number",
                    path.display(),
                    line_no + 1,
                    col + 1,
                    field.trim()
                ))
            })?;
            values.push(v);
        }
        let width = values.len() - before;
        match cols {
            None => cols = Some(width),
            Some(c) if c != width => {
                return Err(Error::InvalidArgument(format!(
                    "{}:{}: {width} columns, earlier rows have {c}",
                    path.display(),
                    line_no + 1
                )));
            }
            _ => {}
        }
        rows += 1;
    }
    NdArray::from_vec(values, &[rows, cols.unwrap_or(0)])
}

pub fn cdist(
    xa: &Path,
    xb: Option<&Path>,
    args: &DistanceArgs,
    memory: Option<usize>,
) -> ndstride::Result<()> {
    let (metric, opts) = args.metric.resolve()?;
    if let Some(budget) = memory {
        return cdist_streamed(xa, xb, &metric, &opts.working_memory(budget), &args.output);
    }
    check_destination(&args.output)?;
    let a = load_matrix(xa)?;
    let b = match xb {
        Some(p) => load_matrix(p)?,
        None => a.clone(),
    };
    let t = Instant::now();
    let d = cdist_with(&a, &b, &metric, &opts)?;
    report(
        "cdist",
        d.shape(),
        d.dtype(),
        &metric,
        &opts,
        t,
        a.shape()[1],
    );
    save_npy(&args.output, &d)?;
    eprintln!("wrote {}", args.output.display());
    Ok(())
}

/// cdist under a memory budget: inputs memory-mapped, the matrix computed block by block
/// and appended to the output file as each block is done, with a progress bar on a terminal.
fn cdist_streamed(
    xa: &Path,
    xb: Option<&Path>,
    metric: &Metric,
    opts: &CdistOptions,
    output: &Path,
) -> ndstride::Result<()> {
    let a = load_mapped(xa)?;
    let b = match xb {
        Some(p) => load_mapped(p)?,
        None => a.clone(),
    };
    if a.ndim() != 2 || b.ndim() != 2 {
        // cdist_chunked gives the precise error.
        return cdist_chunked::<f64, _>(&a, &b, metric, opts, |_, _| Ok(()));
    }
    let (n, m) = (a.shape()[0], b.shape()[0]);
    let dtype = opts.get_out_dtype();
    // Before the temporary file exists, so that Ctrl-C from now on goes through the
    // writer's clean-up.
    interrupt::poll_from_now();
    let mut writer = NpyWriter::create(output, dtype, &[n, m])?;
    let bar = rows_bar(n as u64, m);
    let t = Instant::now();
    match dtype {
        DType::F32 => stream::<f32>(&a, &b, metric, opts, &mut writer, &bar)?,
        _ => stream::<f64>(&a, &b, metric, opts, &mut writer, &bar)?,
    }
    bar.finish_and_clear();
    writer.finish()?; // the time reported includes flushing the file to disk
    report("cdist", &[n, m], dtype, metric, opts, t, a.shape()[1]);
    eprintln!(
        "wrote {} (block by block within a working memory of {:.1} MiB)",
        output.display(),
        opts.get_working_memory() as f64 / (1u64 << 20) as f64
    );
    Ok(())
}

fn stream<O: DistanceOutput>(
    a: &NdArray,
    b: &NdArray,
    metric: &Metric,
    opts: &CdistOptions,
    writer: &mut NpyWriter,
    bar: &ProgressBar,
) -> ndstride::Result<()> {
    cdist_chunked::<O, _>(a, b, metric, opts, |rows: Range<usize>, block| {
        interrupt::check()?;
        let values = block
            .as_slice()
            .ok_or_else(|| Error::InvalidArgument("a block is not contiguous".into()))?;
        writer.write(values)?;
        bar.inc(rows.len() as u64);
        Ok(())
    })
}

/// A progress bar over rows of `m` distances on standard error (indicatif hides it when
/// that is not a terminal): rows done, the rate in pairs per second, time left.
fn rows_bar(rows: u64, m: usize) -> ProgressBar {
    let bar = ProgressBar::new(rows);
    let rate = move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
        let _ = write!(w, "{:.3} G pairs/s", state.per_sec() * m as f64 / 1e9);
    };
    if let Ok(style) = ProgressStyle::with_template(
        "{elapsed_precise} [{bar:30}] {pos}/{len} rows, {rate}, ETA {eta}",
    ) {
        bar.set_style(style.with_key("rate", rate).progress_chars("=> "));
    }
    bar
}

pub fn pdist(x: &Path, args: &DistanceArgs) -> ndstride::Result<()> {
    let (metric, opts) = args.metric.resolve()?;
    check_destination(&args.output)?;
    let a = load_matrix(x)?;
    let t = Instant::now();
    let d = pdist_with(&a, &metric, &opts)?;
    report(
        "pdist",
        d.shape(),
        d.dtype(),
        &metric,
        &opts,
        t,
        a.shape().get(1).copied().unwrap_or(0),
    );
    save_npy(&args.output, &d)?;
    eprintln!("wrote {}", args.output.display());
    Ok(())
}

pub fn report(
    verb: &str,
    shape: &[usize],
    dtype: DType,
    metric: &Metric,
    opts: &CdistOptions,
    t: Instant,
    dim: usize,
) {
    let s = t.elapsed().as_secs_f64();
    let count: usize = shape.iter().product();
    eprintln!(
        "{verb} {metric} ({}, backend {}): {} {} distances of {dim} features in {:.3} s ({:.3} G pairs/s)",
        opts.get_strategy(),
        opts.get_backend(),
        ndstride::error::shape_str(shape),
        dtype,
        s,
        count as f64 / s.max(1e-12) / 1e9
    );
}

/// Fails before any work when `path` cannot be written: a probe file is created (and removed)
/// next to it, so a missing or read-only directory is found before the matrix is computed,
/// not after.
pub fn check_destination(path: &Path) -> ndstride::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let probe = dir.join(format!(".{name}.probe-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| ndstride::Error::Io {
            path: path.display().to_string(),
            source: e,
        })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}
