//! `ndstride cdist XA [XB] --metric NAME ... -o OUT.npy` and `ndstride pdist X ... -o OUT.npy`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndstride::distance::{CdistOptions, Metric, Strategy, cdist_with, pdist_with};
use ndstride::io::{load_npy, save_npy};
use ndstride::{DType, Error, NdArray};

/// The options both verbs share.
#[derive(clap::Args)]
pub struct DistanceArgs {
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
    /// Where to write the result (.npy); written to a temporary file and renamed when complete.
    #[arg(short, long)]
    output: PathBuf,
}

impl DistanceArgs {
    fn resolve(&self) -> ndstride::Result<(Metric, CdistOptions)> {
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
        let mut opts = CdistOptions::new().strategy(strategy).out_dtype(out_dtype);
        if let Some(t) = self.threads {
            opts = opts.threads(t);
        }
        Ok((metric, opts))
    }
}

/// A matrix from `.npy`, or from `.csv` (numbers separated by commas; blank lines ignored).
fn load_matrix(path: &Path) -> ndstride::Result<NdArray> {
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if !is_csv {
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

pub fn cdist(xa: &Path, xb: Option<&Path>, args: &DistanceArgs) -> ndstride::Result<()> {
    let (metric, opts) = args.resolve()?;
    let a = load_matrix(xa)?;
    let b = match xb {
        Some(p) => load_matrix(p)?,
        None => a.clone(),
    };
    let t = Instant::now();
    let d = cdist_with(&a, &b, &metric, &opts)?;
    report("cdist", &d, &metric, &opts, t, a.shape()[1]);
    save_npy(&args.output, &d)?;
    eprintln!("wrote {}", args.output.display());
    Ok(())
}

pub fn pdist(x: &Path, args: &DistanceArgs) -> ndstride::Result<()> {
    let (metric, opts) = args.resolve()?;
    let a = load_matrix(x)?;
    let t = Instant::now();
    let d = pdist_with(&a, &metric, &opts)?;
    report(
        "pdist",
        &d,
        &metric,
        &opts,
        t,
        a.shape().get(1).copied().unwrap_or(0),
    );
    save_npy(&args.output, &d)?;
    eprintln!("wrote {}", args.output.display());
    Ok(())
}

fn report(verb: &str, d: &NdArray, metric: &Metric, opts: &CdistOptions, t: Instant, dim: usize) {
    let s = t.elapsed().as_secs_f64();
    eprintln!(
        "{verb} {metric} ({}): {} {} distances of {dim} features in {:.3} s ({:.3} G pairs/s)",
        opts.get_strategy(),
        ndstride::error::shape_str(d.shape()),
        d.dtype(),
        s,
        d.size() as f64 / s.max(1e-12) / 1e9
    );
}
