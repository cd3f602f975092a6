//! Helpers shared by the integration tests (each test file that needs them has `mod common;`,
//! and uses only some of them).
#![allow(dead_code)]

use std::path::Path;

use ndstride::{DType, NdArray};

/// A `rows × d` matrix of the first `rows·d` small integers of `vals`, as `dtype`.
pub fn matrix(vals: &[i8], rows: usize, d: usize, dtype: DType) -> NdArray {
    let data: Vec<f64> = vals.iter().take(rows * d).map(|&v| v as f64).collect();
    NdArray::from_vec(data, &[rows, d])
        .unwrap()
        .astype(dtype)
        .unwrap()
}

/// Every name in `dir`, sorted (temporaries included: they start with a dot), for checking
/// that nothing was left behind.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every multi-index of `shape` in C order (one empty index for a 0-d shape, none when an axis
/// has length 0): the naive walk the models in the property tests index by.
pub fn all_indices(shape: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![vec![]];
    for &d in shape {
        out = out
            .into_iter()
            .flat_map(|p| (0..d).map(move |i| [p.clone(), vec![i]].concat()))
            .collect();
    }
    out
}

/// The C-order position of `idx` in `shape`.
pub fn flat(shape: &[usize], idx: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (&i, &d)| acc * d + i)
}
