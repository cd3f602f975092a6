//! The `ndstride` binary: `info` in text and JSON, clear one-line errors on bad files, the demo.
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::Command;

fn ndstride(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ndstride"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/npy")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn info_json_has_numpys_metadata() {
    let out = ndstride(&["info", &fixture("f_i2_2x3.npy"), "--json"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "one JSON object: {text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["shape"], serde_json::json!([2, 3]));
    assert_eq!(v["strides"], serde_json::json!([2, 4]));
    assert_eq!(v["dtype"], "int16");
    assert_eq!(v["fortran_order"], true);
    assert_eq!(v["version"], "1.0");
}

#[test]
fn info_text_lists_the_fields() {
    let out = ndstride(&["info", &fixture("v2_f8_2x3.npy")]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for want in [
        "version:     2.0",
        "dtype:       float64 (<f8)",
        "shape:       (2, 3)",
        "strides:     (24, 8) bytes",
        "order:       C",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

#[test]
fn bad_files_fail_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.npy");
    std::fs::write(&bad, b"\x93NUMPY\x01\x00\x05\x00{'a'}").unwrap();
    let missing = dir.path().join("missing.npy");
    for path in [bad, missing] {
        let out = ndstride(&["info", path.to_str().unwrap()]);
        assert!(!out.status.success());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("ndstride: error:") && !err.contains("panicked"),
            "{err}"
        );
    }
}

#[test]
fn cdist_and_pdist_verbs_write_scipys_results() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("x.csv");
    std::fs::write(&csv, "0,0\n3,4\n\n6,8\n").unwrap();
    let out = dir.path().join("d.npy");
    let o = ndstride(&[
        "cdist",
        csv.to_str().unwrap(),
        "--metric",
        "euclidean",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d = ndstride::io::load_npy(&out).unwrap();
    assert_eq!(d.shape(), &[3, 3]);
    assert_eq!(
        d.to_vec::<f64>().unwrap(),
        vec![0.0, 5.0, 10.0, 5.0, 0.0, 5.0, 10.0, 5.0, 0.0]
    );
    let o = ndstride(&[
        "pdist",
        csv.to_str().unwrap(),
        "--metric",
        "minkowski",
        "--p",
        "1",
        "--dtype",
        "f32",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d = ndstride::io::load_npy(&out).unwrap();
    assert_eq!(d.to_vec::<f32>().unwrap(), vec![7.0, 14.0, 7.0]);
    // Bad input: one clear line, exit status 1, and no output file left behind.
    std::fs::write(&csv, "0,0\n3,x\n").unwrap();
    let bad = dir.path().join("bad.npy");
    let o = ndstride(&["cdist", csv.to_str().unwrap(), "-o", bad.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("x.csv:2: column 2"), "{err}");
    assert!(!bad.exists());
    std::fs::write(&csv, "0,0\n3,4\n").unwrap();
    let o = ndstride(&[
        "cdist",
        csv.to_str().unwrap(),
        "--metric",
        "minkowski",
        "--p",
        "0.5",
        "-o",
        bad.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("p must be at least 1"));
    // A destination in a directory that does not exist fails before the matrix is computed
    // (no "cdist ... G pairs/s" report), naming the path.
    let missing = dir.path().join("no-such-dir").join("out.npy");
    for verb in ["cdist", "pdist", "knn"] {
        let mut args = vec![verb, csv.to_str().unwrap()];
        if verb == "knn" {
            args.extend(["--k", "1"]);
        }
        args.extend(["-o", missing.to_str().unwrap()]);
        let o = ndstride(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success() && err.contains("no-such-dir"),
            "{verb}: {err}"
        );
        assert!(
            !err.contains("pairs/s"),
            "{verb} computed before failing: {err}"
        );
    }
    assert!(!bad.exists());
}
