//! `.npy` interop: files written by NumPy (tests/data/npy, made by
//! tests/data/make_npy_fixtures.py) load with the right shape, dtype, order and values; files
//! we write are byte-for-byte what NumPy writes for the same array; round trips of every dtype
//! and order; malformed files are errors that say what is wrong.

use std::path::{Path, PathBuf};

use ndstride::io::{load_npy, load_npy_mmap, read_npy_header, save_npy};
use ndstride::{DType, NdArray, Order, s};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/npy")
        .join(name)
}

/// The values make_npy_fixtures.py stores for a dtype code, in C order.
fn fixture_values(code: &str) -> Vec<f64> {
    (0..6)
        .map(|i: i64| match code {
            "b1" => (i % 2) as f64,
            c if c.starts_with('i') || c.starts_with('f') => (i - 2) as f64,
            _ => i as f64,
        })
        .collect()
}

const CODES: [(&str, DType); 11] = [
    ("b1", DType::Bool),
    ("i1", DType::I8),
    ("i2", DType::I16),
    ("i4", DType::I32),
    ("i8", DType::I64),
    ("u1", DType::U8),
    ("u2", DType::U16),
    ("u4", DType::U32),
    ("u8", DType::U64),
    ("f4", DType::F32),
    ("f8", DType::F64),
];

#[test]
#[cfg_attr(miri, ignore = "file memory maps are not emulated by Miri")]
fn numpy_files_load_with_shape_dtype_order_and_values() {
    for (code, dtype) in CODES {
        for (prefix, order) in [("c", Order::C), ("f", Order::F)] {
            let path = fixture(&format!("{prefix}_{code}_2x3.npy"));
            for a in [load_npy(&path).unwrap(), load_npy_mmap(&path).unwrap()] {
                assert_eq!(a.dtype(), dtype, "{path:?}");
                assert_eq!(a.shape(), &[2, 3]);
                let isz = dtype.itemsize() as isize;
                let strides = if order == Order::C {
                    [3 * isz, isz]
                } else {
                    [isz, 2 * isz]
                };
                assert_eq!(a.strides(), &strides, "{path:?}");
                assert_eq!(a.to_vec_f64().unwrap(), fixture_values(code), "{path:?}");
            }
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "file memory maps are not emulated by Miri")]
fn numpy_special_files() {
    let s = load_npy(fixture("c_f8_scalar.npy")).unwrap();
    assert_eq!(
        (s.shape(), s.to_vec::<f64>().unwrap()),
        (&[][..], vec![2.5])
    );
    let e = load_npy(fixture("c_f4_0x3.npy")).unwrap();
    assert_eq!((e.shape(), e.dtype()), (&[0usize, 3][..], DType::F32));
    let m = load_npy_mmap(fixture("c_f4_0x3.npy")).unwrap();
    assert_eq!(m.size(), 0);
    let t = load_npy(fixture("c_i8_3d.npy")).unwrap();
    assert_eq!(t.to_vec::<i64>().unwrap(), (0..24).collect::<Vec<_>>());
    for code in ["i4", "f8", "u2"] {
        let path = fixture(&format!("be_{code}_2x3.npy"));
        let a = load_npy(&path).unwrap();
        assert_eq!(
            a.to_vec_f64().unwrap(),
            (0..6).map(|v| v as f64).collect::<Vec<_>>(),
            "{code}"
        );
        assert!(
            load_npy_mmap(&path)
                .unwrap_err()
                .to_string()
                .contains("big-endian")
        );
    }
    for v in [2u8, 3] {
        let path = fixture(&format!("v{v}_f8_2x3.npy"));
        assert_eq!(read_npy_header(&path).unwrap().version, (v, 0));
        assert_eq!(
            load_npy(&path).unwrap().to_vec::<f64>().unwrap(),
            vec![0., 1., 2., 3., 4., 5.]
        );
    }
}

#[test]
fn our_files_are_byte_identical_to_numpys() {
    let dir = tempfile::tempdir().unwrap();
    for (code, _) in CODES {
        for prefix in ["c", "f"] {
            let name = format!("{prefix}_{code}_2x3.npy");
            let a = load_npy(fixture(&name)).unwrap();
            let out = dir.path().join(&name);
            save_npy(&out, &a).unwrap();
            assert_eq!(
                std::fs::read(&out).unwrap(),
                std::fs::read(fixture(&name)).unwrap(),
                "{name}"
            );
        }
    }
    for name in ["c_f8_scalar.npy", "c_f4_0x3.npy", "c_i8_3d.npy"] {
        let out = dir.path().join(name);
        save_npy(&out, &load_npy(fixture(name)).unwrap()).unwrap();
        assert_eq!(
            std::fs::read(&out).unwrap(),
            std::fs::read(fixture(name)).unwrap(),
            "{name}"
        );
    }
    // A strided, negative-stride view is written in C order: the same bytes as its copy.
    let a = NdArray::arange(24, DType::I64)
        .unwrap()
        .reshape(&[2, 3, 4])
        .unwrap();
    let v = a.slice(s![.., ..;-1, 1..;2]).unwrap();
    save_npy(dir.path().join("v.npy"), &v).unwrap();
    save_npy(dir.path().join("c.npy"), &v.copy().unwrap()).unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("v.npy")).unwrap(),
        std::fs::read(dir.path().join("c.npy")).unwrap()
    );
}

#[test]
#[cfg_attr(miri, ignore = "file memory maps are not emulated by Miri")]
fn round_trips_every_dtype_and_order() {
    let dir = tempfile::tempdir().unwrap();
    for dtype in DType::ALL {
        for shape in [
            vec![],
            vec![0],
            vec![5],
            vec![3, 4],
            vec![2, 0, 3],
            vec![2, 3, 4],
        ] {
            let n: usize = shape.iter().product();
            let base = NdArray::arange(n, DType::I64)
                .unwrap()
                .reshape(&shape)
                .unwrap();
            let a = if dtype == DType::Bool {
                NdArray::from_bools(&(0..n).map(|i| i % 3 == 0).collect::<Vec<_>>(), &shape)
                    .unwrap()
            } else {
                base.astype(dtype).unwrap()
            };
            for order in [Order::C, Order::F] {
                let a = a.to_contiguous(order);
                let path = dir.path().join(format!("{dtype}_{n}_{order:?}.npy"));
                save_npy(&path, &a).unwrap();
                for b in [load_npy(&path).unwrap(), load_npy_mmap(&path).unwrap()] {
                    assert_eq!(
                        (b.dtype(), b.shape(), b.strides()),
                        (a.dtype(), a.shape(), a.strides())
                    );
                    assert_eq!(b.to_vec_f64().unwrap(), a.to_vec_f64().unwrap());
                }
            }
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "file memory maps are not emulated by Miri")]
fn memory_map_is_read_only_and_shares_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.npy");
    save_npy(&path, &NdArray::arange(10, DType::F64).unwrap()).unwrap();
    let mut m = load_npy_mmap(&path).unwrap();
    assert!(m.is_memory_mapped() && !m.flags().writeable);
    assert!(m.view_mut::<f64>().is_err());
    assert_eq!(
        m.slice(s![..;3]).unwrap().to_vec::<f64>().unwrap(),
        vec![0., 3., 6., 9.]
    );
}

#[test]
#[cfg_attr(miri, ignore = "file memory maps are not emulated by Miri")]
fn malformed_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read(fixture("c_f8_2x3.npy")).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let truncated = write("t.npy", &good[..good.len() - 1]);
    for r in [load_npy(&truncated), load_npy_mmap(&truncated)] {
        let e = r.unwrap_err().to_string();
        assert!(
            e.contains("truncated data") && e.contains("needs 48 bytes") && e.contains("has 47"),
            "{e}"
        );
    }
    let mut bad_magic = good.clone();
    bad_magic[1] = b'X';
    assert!(
        load_npy(write("m.npy", &bad_magic))
            .unwrap_err()
            .to_string()
            .contains("magic")
    );
    assert!(
        load_npy(write("e.npy", b""))
            .unwrap_err()
            .to_string()
            .contains("preamble")
    );
    let huge = String::from(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 1000000000000), }",
    );
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&(huge.len() as u16).to_le_bytes());
    h.extend_from_slice(huge.as_bytes());
    let e = load_npy(write("h.npy", &h)).unwrap_err().to_string();
    assert!(e.contains("overflows"), "{e}");
    // NumPy's structured arrays: said to be unsupported, not a parser complaint.
    let rec = String::from(
        "{'descr': [('a', '<i4'), ('b', '<f8')], 'fortran_order': False, 'shape': (2,), }",
    );
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&(rec.len() as u16).to_le_bytes());
    h.extend_from_slice(rec.as_bytes());
    let e = load_npy(write("r.npy", &h)).unwrap_err().to_string();
    assert!(e.contains("structured dtypes"), "{e}");
    // A plausible shape whose data are missing fails before anything is allocated.
    let big = String::from("{'descr': '<f8', 'fortran_order': False, 'shape': (100000, 100000), }");
    let mut h = b"\x93NUMPY\x01\x00".to_vec();
    h.extend_from_slice(&(big.len() as u16).to_le_bytes());
    h.extend_from_slice(big.as_bytes());
    assert!(
        load_npy(write("b.npy", &h))
            .unwrap_err()
            .to_string()
            .contains("truncated data")
    );
    assert!(
        load_npy(dir.path().join("missing.npy"))
            .unwrap_err()
            .to_string()
            .contains("missing.npy")
    );
}

#[test]
fn failed_save_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    // The target is a directory: the rename fails after the data were written.
    let target = dir.path().join("taken");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("x"), b"x").unwrap();
    assert!(save_npy(&target, &NdArray::arange(4, DType::F64).unwrap()).is_err());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("taken")],
        "temporary file removed"
    );
    assert!(
        save_npy(
            dir.path().join("no/such/dir/a.npy"),
            &NdArray::arange(4, DType::F64).unwrap()
        )
        .is_err()
    );
}
