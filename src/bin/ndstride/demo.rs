//! The no-argument demo: NumPy's "one buffer + metadata" lesson on built-in data, with the copy
//! counter proving which operations copy, then the price of a copy that has to transpose.

use std::time::Instant;

use ndstride::{CopyStats, DType, NdArray, Order, s, shares_memory};

fn show(
    label: &str,
    base: &NdArray,
    f: impl FnOnce() -> ndstride::Result<NdArray>,
) -> ndstride::Result<NdArray> {
    let (r, stats) = CopyStats::scope(f);
    let r = r?;
    let copied = if stats.is_metadata_only() {
        "metadata only".to_string()
    } else {
        format!("COPIED {} bytes", stats.bytes_copied)
    };
    println!(
        "{label:<22} shape={:<9} strides={:<10} offset={:<2} C={:<5} F={:<5} shares={:<5} {copied}",
        ndstride::error::shape_str(r.shape()),
        ndstride::error::strides_str(r.strides()),
        r.offset(),
        r.flags().c_contiguous,
        r.flags().f_contiguous,
        shares_memory(base, &r),
    );
    Ok(r)
}

pub fn run() -> ndstride::Result<()> {
    println!("ndstride demo: one data buffer, many views\n");
    let a = NdArray::arange(9, DType::I8)?.reshape(&[3, 3])?;
    println!(
        "a = np.arange(9, dtype=np.int8).reshape(3, 3)\n{a}\n{}\n",
        a.info()
    );
    show("a.T", &a, || Ok(a.t()))?;
    show("a[::2]", &a, || a.slice(s![..;2]))?;
    show("a[:, ::-1]", &a, || a.slice(s![.., ..;-1]))?;
    show("a[1:, ::2]", &a, || a.slice_str("1:, ::2"))?;
    show("a[None, 1]", &a, || a.slice_str("None, 1"))?;
    show("a.diagonal()", &a, || a.diagonal(0, 0, 1))?;
    show("broadcast_to(a[0],(4,3))", &a, || {
        a.slice(s![0])?.broadcast_to(&[4, 3])
    })?;
    show("a.T.reshape(3, 3)", &a, || a.t().reshape(&[3, 3]))?;
    show("a.T.reshape(9)", &a, || a.t().reshape(&[9]))?;
    show("a.T.ravel(order=F)", &a, || {
        a.t().reshape_order(&[9], Order::F)
    })?;
    show("a.view(uint8)[:, 1:]", &a, || {
        a.view_dtype(DType::U8)?.slice(s![.., 1..])
    })?;
    show("ascontiguousarray(a.T)", &a, || {
        Ok(a.t().to_contiguous(Order::C))
    })?;

    let n = 4096;
    println!(
        "\nCopies that must reorder memory ({n}x{n} float64, {} MiB):",
        (n * n * 8) >> 20
    );
    let x = NdArray::uniform(&[n, n], 0.0, 1.0, 7, DType::F64)?;
    let gbps = |label: &str, f: &dyn Fn() -> NdArray| {
        let bytes = f().nbytes();
        let reps = 5;
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(f());
        }
        let secs = t.elapsed().as_secs_f64() / reps as f64;
        println!(
            "  {label:<34} {:>7.2} ms  {:>6.1} GB/s (read + write)",
            secs * 1e3,
            2.0 * bytes as f64 / secs / 1e9
        );
    };
    gbps("x.copy()   (contiguous memcpy)", &|| {
        x.copy().expect("memory")
    });
    gbps("x.T.to_contiguous(C) (tiled)", &|| {
        x.t().to_contiguous(Order::C)
    });
    gbps("x[:, ::2].copy() (strided rows)", &|| {
        x.slice(s![.., ..;2])
            .expect("valid")
            .copy()
            .expect("memory")
    });
    distance_lab()?;
    println!("\nRun `ndstride info FILE.npy` to inspect a file's metadata without loading it,");
    println!("and `ndstride cdist XA.npy [XB.npy] --metric NAME -o OUT.npy` for your own data");
    println!(
        "(add `--memory 512MiB` to stream a matrix larger than memory to disk block by block,"
    );
    println!("`--backend cuda` for a GPU); `ndstride knn XA.npy -k 10 -o IDX.npy` for neighbours.");
    Ok(())
}

/// The course's distance-matrix lab: the same matrix by each strategy, timed, with its error
/// against a float64 reference, on points far from the origin (N(0, 1) + 100, where the
/// matmul trick cancels) and a second set of points close to the first.
fn distance_lab() -> ndstride::Result<()> {
    use ndstride::distance::{CdistOptions, Metric, Strategy, cdist_with};
    let (n, d) = (600, 64);
    println!(
        "\nDistance matrices: {n} points x {n} points, d = {d}, data N(0,1) + 100; XB = XA + N(0, 0.01)"
    );
    let xa64 = NdArray::normal(&[n, d], 100.0, 1.0, 11, DType::F64)?;
    let xb64 = xa64.add(&NdArray::normal(&[n, d], 0.0, 0.01, 12, DType::F64)?)?;
    println!(
        "  {:<10} {:<8} {:<10} {:>9} {:>12} {:>14} {:>12}",
        "metric", "dtype", "strategy", "ms", "M pairs/s", "max rel err", "d(x, x)"
    );
    for metric in [Metric::Euclidean, Metric::Cityblock] {
        let reference = cdist_with(&xa64, &xb64, &metric, &CdistOptions::new())?.to_vec_f64()?;
        let mut best: Option<(f64, String)> = None;
        for dtype in [DType::F64, DType::F32] {
            let (xa, xb) = (xa64.astype(dtype)?, xb64.astype(dtype)?);
            for strategy in [Strategy::Simd, Strategy::MatmulTrick, Strategy::Broadcast] {
                let opts = CdistOptions::new().strategy(strategy);
                // Best of two runs: the first also pays for faulting in fresh memory.
                let mut secs = f64::INFINITY;
                let mut result = None;
                for _ in 0..2 {
                    let start = Instant::now();
                    let r = cdist_with(&xa, &xb, &metric, &opts);
                    secs = secs.min(start.elapsed().as_secs_f64());
                    result = Some(r);
                }
                let got = match result.expect("ran twice") {
                    Ok(g) => g,
                    Err(e) => {
                        println!(
                            "  {:<10} {:<8} {:<10} refused: {e}",
                            metric.name(),
                            dtype.name(),
                            strategy.name()
                        );
                        continue;
                    }
                };
                let err = got
                    .to_vec_f64()?
                    .iter()
                    .zip(&reference)
                    .map(|(g, r)| ((g - r) / r).abs())
                    .fold(0.0, f64::max);
                let own = cdist_with(&xa.slice(s![..4])?, &xa.slice(s![..4])?, &metric, &opts)?
                    .diagonal(0, 0, 1)?
                    .max(None, false)?
                    .to_vec_f64()?[0];
                println!(
                    "  {:<10} {:<8} {:<10} {:>9.2} {:>12.1} {:>14.2e} {:>12.3e}",
                    metric.name(),
                    dtype.name(),
                    strategy.name(),
                    secs * 1e3,
                    (n * n) as f64 / secs / 1e6,
                    err,
                    own
                );
                let label = format!("{} {}", strategy.name(), dtype.name());
                if err <= 1e-5 && best.as_ref().is_none_or(|(t, _)| secs < *t) {
                    best = Some((secs, label));
                }
            }
        }
        if let Some((_, label)) = best {
            println!(
                "  -> fastest accurate {} (error <= 1e-5): {label}",
                metric.name()
            );
        }
    }
    println!(
        "  Why: simd keeps an 8 x 24 tile of distances in registers and reads each input once\n  \
         per tile, so it is exact (a point's distance to itself is 0) and needs no temporary.\n  \
         broadcast materialises the n x m x d difference (here {} MiB) and reads it twice.\n  \
         The matmul trick is a GEMM, but x^2 + y^2 - 2xy cancels for points far from the\n  \
         origin: its error above, and cityblock has no such trick at all.",
        (n * n * d * 8) >> 20
    );
    Ok(())
}
