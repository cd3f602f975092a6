//! `ndstride knn XA [XB] -k K ... -o IDX.npy [--distances D.npy]` and
//! `ndstride radius XA [XB] --radius R ... -o OUT.npy [--count | --indptr P.npy ...]`: the
//! fused reductions, which never hold the distance matrix.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndstride::distance::{knn_with, radius_count, radius_neighbors};
use ndstride::io::save_npy;
use ndstride::{Error, NdArray};

use crate::distance::{MetricArgs, load_mapped};

#[derive(clap::Args)]
pub struct KnnArgs {
    /// Neighbours per row.
    #[arg(short, long)]
    k: usize,
    #[command(flatten)]
    metric: MetricArgs,
    /// Where to write the indices (n × k int64, nearest first; ties by lower index).
    #[arg(short, long)]
    output: PathBuf,
    /// Also write the distances (n × k float64).
    #[arg(long, value_name = "D.npy")]
    distances: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct RadiusArgs {
    /// Rows of XB at distance <= RADIUS are neighbours.
    #[arg(short, long)]
    radius: f64,
    #[command(flatten)]
    metric: MetricArgs,
    /// With --count: the number of neighbours per row (n, int64). Otherwise their indices,
    /// row after row in increasing order (CSR's indices; int64).
    #[arg(short, long)]
    output: PathBuf,
    /// Write counts only to OUTPUT (no pairs are stored).
    #[arg(long, conflicts_with_all = ["indptr", "distances"])]
    count: bool,
    /// CSR row pointers (n + 1, int64): row i's neighbours are OUTPUT[indptr[i]..indptr[i+1]].
    #[arg(long, value_name = "P.npy", required_unless_present = "count")]
    indptr: Option<PathBuf>,
    /// The neighbours' distances (float64), aligned with OUTPUT.
    #[arg(long, value_name = "D.npy")]
    distances: Option<PathBuf>,
}

fn inputs(xa: &Path, xb: Option<&Path>) -> ndstride::Result<(NdArray, NdArray)> {
    let a = load_mapped(xa)?;
    let b = match xb {
        Some(p) => load_mapped(p)?,
        None => a.clone(),
    };
    Ok((a, b))
}

/// Checks the outputs before any work: two that name the same file are refused (the second
/// would silently replace the first), and each must be writable where it is to go.
fn check_outputs(paths: &[Option<&Path>]) -> ndstride::Result<()> {
    let given: Vec<&Path> = paths.iter().flatten().copied().collect();
    for (i, p) in given.iter().enumerate() {
        if given[..i].contains(p) {
            return Err(Error::InvalidArgument(format!(
                "{} is named for two outputs",
                p.display()
            )));
        }
    }
    given
        .into_iter()
        .try_for_each(crate::distance::check_destination)
}

pub fn knn(xa: &Path, xb: Option<&Path>, args: &KnnArgs) -> ndstride::Result<()> {
    check_outputs(&[Some(&args.output), args.distances.as_deref()])?;
    let (metric, opts) = args.metric.resolve()?;
    let (a, b) = inputs(xa, xb)?;
    let t = Instant::now();
    let nn = knn_with(&a, &b, args.k, &metric, &opts)?;
    let s = t.elapsed().as_secs_f64();
    let pairs = a.shape()[0] as f64 * b.shape()[0] as f64;
    eprintln!(
        "knn {metric} ({}): {} nearest of {} rows for {} rows in {s:.3} s ({:.3} G pairs/s)",
        opts.get_strategy(),
        args.k,
        b.shape()[0],
        a.shape()[0],
        pairs / s.max(1e-12) / 1e9
    );
    save_npy(&args.output, &nn.indices)?;
    if let Some(d) = &args.distances {
        save_npy(d, &nn.distances)?;
    }
    eprintln!(
        "wrote {}",
        written(&[Some(&args.output), args.distances.as_deref()])
    );
    Ok(())
}

pub fn radius(xa: &Path, xb: Option<&Path>, args: &RadiusArgs) -> ndstride::Result<()> {
    check_outputs(&[
        Some(&args.output),
        args.indptr.as_deref(),
        args.distances.as_deref(),
    ])?;
    let (metric, opts) = args.metric.resolve()?;
    let (a, b) = inputs(xa, xb)?;
    let t = Instant::now();
    if args.count {
        let counts = radius_count(&a, &b, args.radius, (&metric, &opts))?;
        eprintln!(
            "radius {metric}: counted in {:.3} s",
            t.elapsed().as_secs_f64()
        );
        save_npy(&args.output, &counts)?;
        eprintln!("wrote {}", args.output.display());
        return Ok(());
    }
    let Some(indptr) = &args.indptr else {
        return Err(Error::InvalidArgument(
            "radius: give --indptr P.npy for the row pointers, or --count".into(),
        ));
    };
    let r = radius_neighbors(&a, &b, args.radius, (&metric, &opts))?;
    eprintln!(
        "radius {metric}: {} pairs within {} in {:.3} s",
        r.indices.shape()[0],
        args.radius,
        t.elapsed().as_secs_f64()
    );
    save_npy(&args.output, &r.indices)?;
    save_npy(indptr, &r.indptr)?;
    if let Some(d) = &args.distances {
        save_npy(d, &r.distances)?;
    }
    eprintln!(
        "wrote {}",
        written(&[Some(&args.output), Some(indptr), args.distances.as_deref()])
    );
    Ok(())
}

fn written(paths: &[Option<&Path>]) -> String {
    let names: Vec<String> = paths
        .iter()
        .flatten()
        .map(|p| p.display().to_string())
        .collect();
    names.join(", ")
}
