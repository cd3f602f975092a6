//! The matrix by blocks under a memory budget (to a callback and to a `.npy` file written
//! piece by piece) equals the one-shot cdist; failures leave no file; radius neighbours and
//! argmin equal a brute-force scan of the full matrix.

mod common;

use common::{files_in, matrix};
use ndstride::distance::{
    CdistOptions, Metric, Strategy, argmin_min, cdist_chunked, cdist_to_npy, cdist_with, knn_with,
    radius_count, radius_neighbors,
};
use ndstride::io::{NpyWriter, load_npy, load_npy_mmap, save_npy};
use ndstride::{DType, Error, NdArray, s};
use proptest::prelude::*;

/// The budget that gives blocks of exactly `rows` rows of `m` float64 distances with the
/// simd strategy: two blocks plus one float64 copy of xb (`m × d`).
fn budget_for_rows(rows: usize, m: usize, d: usize) -> usize {
    budget_for(rows, m, d, 8)
}

/// [`budget_for_rows`] for an output element of `out_size` bytes.
fn budget_for(rows: usize, m: usize, d: usize, out_size: usize) -> usize {
    2 * rows * m * out_size + m * d * 8
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Tiles of one row, of a few rows, and larger than the problem; blocks arrive in order,
    /// cover every row once, and hold exactly the one-shot matrix.
    #[test]
    fn blocks_equal_the_one_shot_matrix(
        n in 0usize..40, m in 1usize..30, d in 1usize..5, rows in 1usize..50,
        which in 0usize..7, f32_in in any::<bool>(), f32_out in any::<bool>(),
        vals in prop::collection::vec(-3i8..=3, 70 * 5),
    ) {
        let dtype = if f32_in { DType::F32 } else { DType::F64 };
        let xa = matrix(&vals, n, d, dtype);
        let xb = matrix(&vals[n * d..], m, d, dtype);
        let name = ["euclidean", "cityblock", "cosine", "seuclidean", "canberra", "braycurtis",
            "chebyshev"][which];
        let metric: Metric = name.parse().unwrap();
        let out_dtype = if f32_out { DType::F32 } else { DType::F64 };
        let one_shot = CdistOptions::new().out_dtype(out_dtype);
        let want = cdist_with(&xa, &xb, &metric, &one_shot);
        let out_size = if f32_out { 4 } else { 8 };
        let opts = one_shot.working_memory(budget_for(rows, m, d, out_size));
        let mut got = vec![];
        let mut next_row = 0;
        let result = if f32_out {
            cdist_chunked::<f32, _>(&xa, &xb, &metric, &opts, |r, block| {
                assert_eq!((r.start, block.shape()), (next_row, &[r.len(), m][..]));
                assert!(r.len() <= rows);
                next_row = r.end;
                got.extend(block.to_vec()?.into_iter().map(f64::from));
                Ok(())
            })
        } else {
            cdist_chunked::<f64, _>(&xa, &xb, &metric, &opts, |r, block| {
                assert_eq!((r.start, block.shape()), (next_row, &[r.len(), m][..]));
                assert!(r.len() <= rows);
                next_row = r.end;
                got.extend(block.to_vec()?);
                Ok(())
            })
        };
        match want {
            Ok(want) => {
                result.unwrap();
                prop_assert_eq!(next_row, n);
                let want = want.to_vec_f64().unwrap();
                prop_assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(&want) {
                    prop_assert!(g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                        "{name}: {g} != {w}");
                }
            }
            // The same refusal (e.g. seuclidean of a single row), as one-shot cdist.
            Err(e) => prop_assert_eq!(result.unwrap_err().to_string(), e.to_string()),
        }
    }
}

/// Bray–Curtis takes one of two kernels, which round differently: cityblock over row sums
/// when no element of either operand is negative, a kernel with both sums otherwise. The job
/// chooses once for the whole problem, so blocks of nonnegative rows in a matrix with one
/// negative (or NaN) element elsewhere still give the one-shot matrix bit for bit, and so do
/// the nearest-neighbour distances, which are computed in blocks of rows and columns.
#[test]
fn braycurtis_blocks_take_the_kernel_of_the_whole_problem() {
    let metric = Metric::BrayCurtis;
    let (n, m, d) = (64, 8, 16);
    let value = |k: usize| (k * 37 % 101) as f64 / 7.0 + 0.1;
    for dtype in [DType::F64, DType::F32] {
        for odd in [None, Some(-0.3), Some(f64::NAN)] {
            let mut a: Vec<f64> = (0..n * d).map(value).collect();
            if let Some(v) = odd {
                a[n * d - 1] = v; // the last row's last feature
            }
            let b: Vec<f64> = (0..m * d).map(|k| value(k + 5000)).collect();
            let xa = NdArray::from_vec(a, &[n, d])
                .unwrap()
                .astype(dtype)
                .unwrap();
            let xb = NdArray::from_vec(b, &[m, d])
                .unwrap()
                .astype(dtype)
                .unwrap();
            let want = cdist_with(&xa, &xb, &metric, &CdistOptions::new()).unwrap();
            let want = want.to_vec_f64().unwrap();
            let opts = CdistOptions::new().working_memory(budget_for_rows(8, m, d));
            let mut got = vec![];
            cdist_chunked::<f64, _>(&xa, &xb, &metric, &opts, |_, block| {
                got.extend(block.to_vec()?);
                Ok(())
            })
            .unwrap();
            assert_eq!(got.len(), want.len());
            for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                    "{dtype:?} {odd:?}: element {k}: block {g} vs one-shot {w}"
                );
            }
            let nn = knn_with(&xa, &xb, 3, &metric, &opts).unwrap();
            let (idx, dist) = (
                nn.indices.to_vec_f64().unwrap(),
                nn.distances.to_vec_f64().unwrap(),
            );
            for (k, (&j, &g)) in idx.iter().zip(&dist).enumerate() {
                let w = want[k / 3 * m + j as usize];
                assert!(
                    g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
                    "{dtype:?} {odd:?}: neighbour {k}: {g} vs one-shot {w}"
                );
            }
        }
    }
}

#[test]
fn strategies_and_threads_in_blocks() {
    let xa = NdArray::normal(&[523, 9], 0.0, 1.0, 1, DType::F64).unwrap();
    let xb = NdArray::normal(&[301, 9], 0.0, 1.0, 2, DType::F64).unwrap();
    for (metric, strategy) in [
        (Metric::Euclidean, Strategy::MatmulTrick),
        (Metric::Cityblock, Strategy::Broadcast),
        (Metric::Mahalanobis { vi: None }, Strategy::Simd),
    ] {
        let base = CdistOptions::new().strategy(strategy);
        let want = cdist_with(&xa, &xb, &metric, &base).unwrap();
        let want = want.to_vec_f64().unwrap();
        for opts in [
            base.clone().working_memory(256 << 10),
            base.clone().working_memory(256 << 10).threads(1),
        ] {
            let mut got = vec![];
            let mut blocks = 0;
            cdist_chunked::<f64, _>(&xa, &xb, &metric, &opts, |_, b| {
                blocks += 1;
                got.extend(b.to_vec()?);
                Ok(())
            })
            .unwrap();
            assert!(blocks > 1, "{metric} {strategy}: one block");
            assert_eq!(got, want, "{metric} {strategy}");
        }
    }
}

#[test]
fn npy_written_in_blocks_loads_as_the_matrix() {
    let dir = tempfile::tempdir().unwrap();
    // Inputs memory-mapped from .npy files, as the CLI reads them.
    let (pa, pb) = (dir.path().join("a.npy"), dir.path().join("b.npy"));
    save_npy(
        &pa,
        &NdArray::normal(&[1000, 7], 0.0, 1.0, 3, DType::F32).unwrap(),
    )
    .unwrap();
    save_npy(
        &pb,
        &NdArray::normal(&[450, 7], 0.0, 1.0, 4, DType::F32).unwrap(),
    )
    .unwrap();
    let (xa, xb) = (load_npy_mmap(&pa).unwrap(), load_npy_mmap(&pb).unwrap());
    assert!(xa.is_memory_mapped());
    for out_dtype in [DType::F64, DType::F32] {
        let opts = CdistOptions::new()
            .out_dtype(out_dtype)
            .working_memory(budget_for_rows(37, 450, 7));
        let path = dir.path().join("d.npy");
        cdist_to_npy(&xa, &xb, &Metric::Cityblock, &opts, &path).unwrap();
        let got = load_npy(&path).unwrap();
        let want = cdist_with(&xa, &xb, &Metric::Cityblock, &opts).unwrap();
        assert_eq!(got.dtype(), out_dtype);
        assert_eq!(got.shape(), &[1000, 450]);
        assert_eq!(got.to_vec_f64().unwrap(), want.to_vec_f64().unwrap());
    }
    assert_eq!(files_in(dir.path()), ["a.npy", "b.npy", "d.npy"]);
}

/// NumPy itself reads the file (with `$NDSTRIDE_PYTHON`, default `python3`, where it has
/// NumPy; the test says so when it has not).
#[test]
fn numpy_loads_a_file_written_in_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.npy");
    let x = NdArray::arange(60, DType::F64)
        .unwrap()
        .reshape(&[20, 3])
        .unwrap();
    let opts = CdistOptions::new().working_memory(budget_for_rows(3, 20, 3));
    cdist_to_npy(&x, &x, &Metric::SqEuclidean, &opts, &path).unwrap();
    let script = format!(
        "import numpy as np; d = np.load({:?}); i = np.arange(20); \
         want = 27.0 * (i[:, None] - i[None, :]) ** 2; \
         assert d.shape == (20, 20) and d.dtype == np.float64 and (d == want).all(); print('ok')",
        path.to_str().unwrap()
    );
    let python = std::env::var("NDSTRIDE_PYTHON").unwrap_or_else(|_| "python3".into());
    match std::process::Command::new(&python)
        .args(["-c", &script])
        .output()
    {
        Ok(o) if o.status.success() => assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "ok"),
        Ok(o) if String::from_utf8_lossy(&o.stderr).contains("No module named 'numpy'") => {
            eprintln!(
                "SKIPPED: {python} has no NumPy (set NDSTRIDE_PYTHON); the header encoder is \
                 checked against NumPy's own files in npy_io"
            )
        }
        Ok(o) => panic!(
            "NumPy rejected the file: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(_) => eprintln!("SKIPPED: no {python} here"),
    }
}

/// A failure in the middle of the run (the fourth block's consumer fails, as a full disk
/// would) leaves neither the file nor its temporary.
#[test]
fn an_injected_failure_mid_run_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.npy");
    let x = NdArray::normal(&[200, 4], 0.0, 1.0, 5, DType::F64).unwrap();
    let opts = CdistOptions::new().working_memory(budget_for_rows(10, 200, 4));
    let mut writer = NpyWriter::create(&path, DType::F64, &[200, 200]).unwrap();
    let mut blocks = 0;
    let err = cdist_chunked::<f64, _>(&x, &x, &Metric::Euclidean, &opts, |_, b| {
        blocks += 1;
        if blocks == 4 {
            return Err(Error::Cancelled("injected failure".into()));
        }
        writer.write(b.as_slice().unwrap())
    })
    .unwrap_err();
    assert!(matches!(err, Error::Cancelled(_)), "{err}");
    assert_eq!(blocks, 4);
    // The temporary holds three blocks until the writer is dropped; never the final name.
    assert!(!path.exists());
    assert_eq!(files_in(dir.path()).len(), 1);
    drop(writer);
    assert!(files_in(dir.path()).is_empty());
    // finish() refuses an incomplete file, and leaves nothing either.
    let mut w = NpyWriter::create(&path, DType::F64, &[2, 2]).unwrap();
    w.write(&[1.0f64, 2.0, 3.0]).unwrap();
    let e = w.finish().unwrap_err().to_string();
    assert!(
        e.contains("3 of the 4") || e.contains("24 of the 32"),
        "{e}"
    );
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn writer_and_budget_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.npy");
    let mut w = NpyWriter::create(&path, DType::F32, &[2]).unwrap();
    assert!(w.write(&[1.0f64]).is_err()); // wrong dtype
    let e = w.write(&[1.0f32, 2.0, 3.0]).unwrap_err().to_string();
    assert!(e.contains("exceed") && e.contains("(2,)"), "{e}");
    w.write(&[1.0f32, 2.0]).unwrap();
    w.finish().unwrap();
    assert_eq!(
        load_npy(&path).unwrap().to_vec::<f32>().unwrap(),
        [1.0, 2.0]
    );
    // A directory that does not exist: the error names the path asked for.
    let missing = dir.path().join("no/such/dir/d.npy");
    let x = NdArray::zeros(&[3, 2], DType::F64).unwrap();
    let e = cdist_to_npy(&x, &x, &Metric::Euclidean, &CdistOptions::new(), &missing)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no/such/dir/d.npy"), "{e}");
    // A budget smaller than one row: refused with the bytes needed.
    let e = cdist_chunked::<f64, _>(
        &x,
        &x,
        &Metric::Euclidean,
        &CdistOptions::new().working_memory(10),
        |_, _| Ok(()),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("give at least 96 bytes"), "{e}");
    // Bad shapes are refused before any file is created.
    let y = NdArray::zeros(&[3, 5], DType::F64).unwrap();
    let p2 = dir.path().join("bad.npy");
    assert!(cdist_to_npy(&x, &y, &Metric::Euclidean, &CdistOptions::new(), &p2).is_err());
    assert_eq!(files_in(dir.path()), ["w.npy"]);
}

/// A strided, transposed operand and a view of rows: blocks are sliced from any layout.
#[test]
fn strided_inputs_in_blocks() {
    let base = NdArray::normal(&[12, 90], 0.0, 1.0, 6, DType::F64).unwrap();
    let xa = base.t(); // 90 × 12, F-order
    let xb = base.t().slice(s![..;3, ..]).unwrap(); // every third row
    let want = cdist_with(&xa, &xb, &Metric::Chebyshev, &CdistOptions::new()).unwrap();
    let mut got = vec![];
    let opts = CdistOptions::new().working_memory(budget_for_rows(7, 30, 12));
    cdist_chunked::<f64, _>(&xa, &xb, &Metric::Chebyshev, &opts, |_, b| {
        got.extend(b.to_vec()?);
        Ok(())
    })
    .unwrap();
    assert_eq!(got, want.to_vec_f64().unwrap());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Radius neighbours (CSR and counts) and argmin/min against a scan of the full matrix,
    /// on small integers where ties and distances exactly at the radius are common.
    #[test]
    fn radius_and_argmin_equal_a_scan_of_the_full_matrix(
        n in 0usize..40, m in 1usize..1200, d in 1usize..4, radius in 0.0f64..4.0,
        which in 0usize..3, nan_row in any::<bool>(),
        vals in prop::collection::vec(-2i8..=2, 1250 * 4),
    ) {
        let radius = radius.round(); // integer radii hit integer distances exactly
        let xa = matrix(&vals, n, d, DType::F64);
        let mut xb = matrix(&vals[n * d..], m, d, DType::F64);
        if nan_row {
            xb.slice_mut::<f64>(s![0, ..]).unwrap().fill(f64::NAN);
        }
        let metric: Metric = ["euclidean", "cityblock", "chebyshev"][which].parse().unwrap();
        let opts = CdistOptions::new();
        let full = cdist_with(&xa, &xb, &metric, &opts).unwrap().to_vec_f64().unwrap();
        let r = radius_neighbors(&xa, &xb, radius, (&metric, &opts)).unwrap();
        let counts = radius_count(&xa, &xb, radius, (&metric, &opts)).unwrap().to_vec::<i64>().unwrap();
        let (indptr, idx, dist) = (r.indptr.to_vec::<i64>().unwrap(), r.indices.to_vec::<i64>().unwrap(),
            r.distances.to_vec::<f64>().unwrap());
        prop_assert_eq!(indptr.len(), n + 1);
        let (mut want_idx, mut want_dist) = (vec![], vec![]);
        for i in 0..n {
            let row = &full[i * m..(i + 1) * m];
            let within: Vec<usize> = (0..m).filter(|&j| row[j] <= radius).collect();
            prop_assert_eq!(counts[i] as usize, within.len());
            prop_assert_eq!((indptr[i + 1] - indptr[i]) as usize, within.len());
            want_idx.extend(within.iter().map(|&j| j as i64));
            want_dist.extend(within.iter().map(|&j| row[j]));
        }
        prop_assert_eq!(idx, want_idx);
        prop_assert_eq!(dist, want_dist);
        let (amin, dmin) = argmin_min(&xa, &xb, (&metric, &opts)).unwrap();
        let (amin, dmin) = (amin.to_vec::<i64>().unwrap(), dmin.to_vec::<f64>().unwrap());
        for i in 0..n {
            let row = &full[i * m..(i + 1) * m];
            // np.nanargmin's choice: the first smallest number (NaN only if all are NaN).
            let best = (0..m).filter(|&j| !row[j].is_nan())
                .min_by(|&a, &b| row[a].partial_cmp(&row[b]).unwrap().then(a.cmp(&b)));
            match best {
                Some(j) => prop_assert_eq!((amin[i], dmin[i]), (j as i64, row[j])),
                None => prop_assert!(amin[i] == 0 && dmin[i].is_nan()),
            }
        }
    }
}

#[test]
fn radius_errors() {
    let x = NdArray::zeros(&[3, 2], DType::F64).unwrap();
    let o = CdistOptions::new();
    assert!(radius_neighbors(&x, &x, f64::NAN, (&Metric::Euclidean, &o)).is_err());
    let empty = NdArray::zeros(&[0, 2], DType::F64).unwrap();
    assert!(argmin_min(&x, &empty, (&Metric::Euclidean, &o)).is_err());
    // No rows of xb: every count is zero.
    assert_eq!(
        radius_count(&x, &empty, 1.0, (&Metric::Euclidean, &o))
            .unwrap()
            .to_vec::<i64>()
            .unwrap(),
        [0, 0, 0]
    );
}

/// No rows of xb: each block is `rows × 0` and the blocks still cover every row once (the
/// cdist fuzz target found a division by zero here).
#[test]
fn no_columns() {
    let x = NdArray::zeros(&[5, 3], DType::F64).unwrap();
    let none = NdArray::zeros(&[0, 3], DType::F64).unwrap();
    let mut covered = 0;
    for budget in [0, 1, 1 << 20] {
        let opts = CdistOptions::new().working_memory(budget);
        cdist_chunked::<f64, _>(&x, &none, &Metric::Euclidean, &opts, |r, b| {
            assert_eq!((r.start, b.shape()), (covered % 5, &[r.len(), 0][..]));
            covered += r.len();
            Ok(())
        })
        .unwrap();
    }
    assert_eq!(covered, 15);
}
