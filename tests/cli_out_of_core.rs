//! The out-of-core verbs of the `ndstride` binary: `cdist --memory` (streamed to disk, no
//! progress bar on a pipe), `knn`, `radius`; a full disk, a missing directory and Ctrl-C end
//! with one clear line and no output file.
#![cfg(all(feature = "cli", unix))]

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::files_in;
use ndstride::distance::{CdistOptions, Metric, cdist_with, knn, radius_neighbors};
use ndstride::io::{load_npy, save_npy};
use ndstride::{DType, NdArray};

fn ndstride(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ndstride"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn text(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn cdist_with_a_memory_budget_streams_the_matrix_to_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (xa, xb, out) = (
        dir.path().join("a.npy"),
        dir.path().join("b.npy"),
        dir.path().join("d.npy"),
    );
    let a = NdArray::normal(&[900, 5], 0.0, 1.0, 1, DType::F64).unwrap();
    let b = NdArray::normal(&[700, 5], 0.0, 1.0, 2, DType::F32).unwrap();
    save_npy(&xa, &a).unwrap();
    save_npy(&xb, &b).unwrap();
    // 900 rows of 700 distances in blocks of a few dozen rows.
    let o = ndstride(&[
        "cdist",
        text(&xa),
        text(&xb),
        "--metric",
        "cosine",
        "--memory",
        "512KiB",
        "-o",
        text(&out),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let want = cdist_with(&a, &b, &Metric::Cosine, &CdistOptions::new()).unwrap();
    let got = load_npy(&out).unwrap();
    assert_eq!(got.shape(), &[900, 700]);
    assert_eq!(got.to_vec_f64().unwrap(), want.to_vec_f64().unwrap());
    // On a pipe: the timing and file lines only, no progress bar.
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(!err.contains('\r') && !err.contains("rows,"), "{err}");
    // A budget too small for one row is refused before anything is written.
    let small = dir.path().join("small.npy");
    let o = ndstride(&["cdist", text(&xa), "--memory", "1KiB", "-o", text(&small)]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("give at least"), "{}", stderr(&o));
    let o = ndstride(&["cdist", text(&xa), "--memory", "lots", "-o", text(&small)]);
    assert!(stderr(&o).contains("not a size"), "{}", stderr(&o));
    // A 0-d input is refused with a message, not a panic (it indexed the shape first).
    let scalar = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/npy/c_f8_scalar.npy");
    let o = ndstride(&[
        "cdist",
        text(&scalar),
        "--memory",
        "1MiB",
        "-o",
        text(&small),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.lines().count() == 1 && !err.contains("panicked"),
        "{err}"
    );
    assert_eq!(files_in(dir.path()), ["a.npy", "b.npy", "d.npy"]);
}

#[test]
fn knn_and_radius_verbs_match_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("x.npy");
    let a = NdArray::normal(&[300, 3], 0.0, 1.0, 3, DType::F64).unwrap();
    save_npy(&x, &a).unwrap();
    let p = |name: &str| dir.path().join(name);
    let o = ndstride(&[
        "knn",
        text(&x),
        "-k",
        "4",
        "--metric",
        "cityblock",
        "-o",
        text(&p("i.npy")),
        "--distances",
        text(&p("d.npy")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let want = knn(&a, &a, 4, &Metric::Cityblock).unwrap();
    assert_eq!(
        load_npy(p("i.npy")).unwrap().to_vec::<i64>().unwrap(),
        want.indices.to_vec::<i64>().unwrap()
    );
    assert_eq!(
        load_npy(p("d.npy")).unwrap().to_vec::<f64>().unwrap(),
        want.distances.to_vec::<f64>().unwrap()
    );
    let o = ndstride(&[
        "radius",
        text(&x),
        "-r",
        "0.5",
        "-o",
        text(&p("ri.npy")),
        "--indptr",
        text(&p("rp.npy")),
        "--distances",
        text(&p("rd.npy")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let want = radius_neighbors(&a, &a, 0.5, (&Metric::Euclidean, &CdistOptions::new())).unwrap();
    for (file, arr) in [("ri.npy", &want.indices), ("rp.npy", &want.indptr)] {
        assert_eq!(
            load_npy(p(file)).unwrap().to_vec::<i64>().unwrap(),
            arr.to_vec::<i64>().unwrap()
        );
    }
    assert!(want.indices.shape()[0] > 300); // each row finds itself, and some others
    let o = ndstride(&[
        "radius",
        text(&x),
        "-r",
        "0.5",
        "--count",
        "-o",
        text(&p("c.npy")),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let counts = load_npy(p("c.npy")).unwrap().to_vec::<i64>().unwrap();
    let indptr = want.indptr.to_vec::<i64>().unwrap();
    assert!(
        counts
            .iter()
            .enumerate()
            .all(|(i, &c)| c == indptr[i + 1] - indptr[i])
    );
    // Errors: k too large, the same file for two outputs, no --indptr.
    let o = ndstride(&["knn", text(&x), "-k", "301", "-o", text(&p("k.npy"))]);
    assert!(
        stderr(&o).contains("k must be between 1 and"),
        "{}",
        stderr(&o)
    );
    let o = ndstride(&[
        "knn",
        text(&x),
        "-k",
        "1",
        "-o",
        text(&p("k.npy")),
        "--distances",
        text(&p("k.npy")),
    ]);
    assert!(
        stderr(&o).contains("named for two outputs"),
        "{}",
        stderr(&o)
    );
    let o = ndstride(&["radius", text(&x), "-r", "1", "-o", text(&p("k.npy"))]);
    assert!(!o.status.success());
    assert!(!p("k.npy").exists());
}

/// A write that fails part-way (the file size limit stands in for a full disk: the same
/// short write, as EFBIG instead of ENOSPC) and an output directory that does not exist.
#[test]
fn a_failed_write_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("x.npy");
    save_npy(
        &x,
        &NdArray::normal(&[2000, 4], 0.0, 1.0, 4, DType::F64).unwrap(),
    )
    .unwrap();
    let out = dir.path().join("d.npy");
    // 2000 × 2000 float64 is 32 MB; the limit is 4 MiB (ulimit counts 1024-byte blocks).
    // SIGXFSZ is ignored so that the write returns an error instead of killing the process.
    let script = format!(
        "ulimit -f 4096; trap '' XFSZ; exec {} cdist {} --memory 2MiB -o {}",
        env!("CARGO_BIN_EXE_ndstride"),
        text(&x),
        text(&out)
    );
    let o = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert!(!o.status.success());
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("d.npy") && err.contains("too large"), "{err}");
    assert_eq!(files_in(dir.path()), ["x.npy"]);
    let o = ndstride(&[
        "cdist",
        text(&x),
        "--memory",
        "1MiB",
        "-o",
        "/nonexistent/dir/d.npy",
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("/nonexistent/dir/d.npy"),
        "{}",
        stderr(&o)
    );
}

/// Ctrl-C while the matrix streams to disk: exit status 130, one line naming the
/// interruption, and neither the file nor its temporary left.
#[test]
fn ctrl_c_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("x.npy");
    // jensenshannon is the slowest metric: this takes seconds, long after the signal.
    let data = NdArray::uniform(&[6000, 64], 0.0, 1.0, 5, DType::F64).unwrap();
    save_npy(&x, &data).unwrap();
    let out = dir.path().join("d.npy");
    let child = Command::new(env!("CARGO_BIN_EXE_ndstride"))
        .args([
            "cdist",
            text(&x),
            "--metric",
            "jensenshannon",
            "--memory",
            "8MiB",
            "-o",
        ])
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the temporary exists: the run is then streaming.
    let start = Instant::now();
    while files_in(dir.path()).len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no temporary appeared"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(files_in(dir.path()), ["x.npy"]);
}

/// The backend contract: without a CUDA driver, `--backend cuda` fails with one line naming
/// CUDA; `auto` (the default) and `cpu` compute on the CPU.
#[test]
fn backend_cuda_without_a_driver_names_cuda() {
    let dir = tempfile::tempdir().unwrap();
    let x = dir.path().join("x.npy");
    save_npy(
        &x,
        &NdArray::normal(&[50, 3], 0.0, 1.0, 6, DType::F64).unwrap(),
    )
    .unwrap();
    let out = dir.path().join("d.npy");
    for backend in ["cpu", "auto"] {
        let o = ndstride(&["cdist", text(&x), "--backend", backend, "-o", text(&out)]);
        assert!(o.status.success(), "{backend}: {}", stderr(&o));
    }
    if std::path::Path::new("/dev/nvidiactl").exists() {
        eprintln!("SKIPPED: this machine has an NVIDIA driver");
        return;
    }
    std::fs::remove_file(&out).unwrap();
    for verb in [
        &["cdist"][..],
        &["knn", "-k", "2"],
        &["cdist", "--memory", "1MiB"],
    ] {
        let mut args = verb.to_vec();
        args.extend([text(&x), "--backend", "cuda", "-o", text(&out)]);
        let o = ndstride(&args);
        let err = stderr(&o);
        assert!(!o.status.success(), "{verb:?}");
        assert_eq!(err.lines().count(), 1, "{verb:?}: {err}");
        assert!(err.contains("CUDA"), "{verb:?}: {err}");
        assert!(!out.exists());
    }
    let o = ndstride(&["cdist", text(&x), "--backend", "tpu", "-o", text(&out)]);
    assert!(stderr(&o).contains("unknown backend"), "{}", stderr(&o));
}
