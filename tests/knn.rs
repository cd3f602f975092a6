//! k nearest neighbours against a brute-force sort of the full distance matrix (ties by the
//! lower index, NaN last), over random shapes, k, metrics and small-integer data where ties
//! are common; data-derived metric defaults; errors.

mod common;

use common::matrix;
use ndstride::distance::{CdistOptions, Metric, Neighbors, Strategy, cdist_with, knn, knn_with};
use ndstride::{DType, NdArray};
use proptest::prelude::*;

/// The `k` best `(distance, index)` of each row of a full `n × m` matrix, by a stable sort.
fn brute_force(full: &[f64], n: usize, m: usize, k: usize) -> Vec<(f64, i64)> {
    let mut out = vec![];
    for i in 0..n {
        let mut row: Vec<(f64, i64)> = (0..m).map(|j| (full[i * m + j], j as i64)).collect();
        row.sort_by(|a, b| match (a.0.is_nan(), b.0.is_nan()) {
            (false, false) => a.0.partial_cmp(&b.0).unwrap().then(a.1.cmp(&b.1)),
            (x, y) => x.cmp(&y).then(a.1.cmp(&b.1)),
        });
        out.extend_from_slice(&row[..k]);
    }
    out
}

/// Where `nn` differs from a stable sort of the exact one-shot matrix (same index, and the
/// same distance or both NaN), described; `None` when it does not.
fn mismatch(
    nn: &Neighbors,
    xa: &NdArray,
    xb: &NdArray,
    metric: &Metric,
    k: usize,
) -> Option<String> {
    let (n, m) = (xa.shape()[0], xb.shape()[0]);
    let full = cdist_with(xa, xb, metric, &CdistOptions::new())
        .unwrap()
        .to_vec_f64()
        .unwrap();
    let want = brute_force(&full, n, m, k);
    let (idx, dist) = (
        nn.indices.to_vec::<i64>().unwrap(),
        nn.distances.to_vec_f64().unwrap(),
    );
    want.iter().enumerate().find_map(|(p, &(wd, wi))| {
        let same = idx[p] == wi && (dist[p] == wd || (dist[p].is_nan() && wd.is_nan()));
        (!same).then(|| {
            format!(
                "{metric} row {} rank {}: got ({}, {}), want ({wd}, {wi})",
                p / k,
                p % k,
                dist[p],
                idx[p]
            )
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn knn_equals_a_sort_of_the_full_matrix(
        n in 0usize..70, m in 1usize..2100, d in 1usize..6, k in 1usize..12,
        f32_in in any::<bool>(), which in 0usize..5,
        vals in prop::collection::vec(-2i8..=2, 2200 * 6),
    ) {
        let k = k.min(m);
        let dtype = if f32_in { DType::F32 } else { DType::F64 };
        let xa = matrix(&vals, n, d, dtype);
        let xb = matrix(&vals[n * d..], m, d, dtype);
        let metric: Metric = ["euclidean", "cityblock", "chebyshev", "cosine", "seuclidean"][which].parse().unwrap();
        let nn = knn(&xa, &xb, k, &metric).unwrap();
        prop_assert_eq!(nn.indices.shape(), &[n, k][..]);
        prop_assert_eq!(nn.distances.dtype(), DType::F64);
        if let Some(wrong) = mismatch(&nn, &xa, &xb, &metric, k) {
            prop_assert!(false, "{}", wrong);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The fused matmul-trick search (sqeuclidean, euclidean): on small integers the trick is
    /// exact in both precisions, so ranking, ties and the (exactly recomputed) distances must
    /// equal a sort of the exact matrix. NaN rows rank last.
    #[test]
    fn matmul_knn_equals_the_exact_search_on_integers(
        n in 0usize..300, m in 1usize..2300, d in 1usize..6, k in 1usize..12,
        f32_in in any::<bool>(), root in any::<bool>(), nan_row in 0usize..3,
        vals in prop::collection::vec(-2i8..=2, 2600 * 6),
    ) {
        let k = k.min(m);
        let dtype = if f32_in { DType::F32 } else { DType::F64 };
        let xa = matrix(&vals, n, d, dtype);
        let mut xb = matrix(&vals[n * d..], m, d, dtype);
        // A NaN row first (met while the lists fill) or in the middle (met by the filter).
        if nan_row < 2 {
            xb = xb.astype(DType::F64).unwrap();
            let at = if nan_row == 0 { 0 } else { m / 2 };
            xb.slice_mut::<f64>(ndstride::s![at, ..]).unwrap().fill(f64::NAN);
            xb = xb.astype(dtype).unwrap();
        }
        let metric = if root { Metric::Euclidean } else { Metric::SqEuclidean };
        let opts = CdistOptions::new().strategy(Strategy::MatmulTrick);
        let nn = knn_with(&xa, &xb, k, &metric, &opts).unwrap();
        if let Some(wrong) = mismatch(&nn, &xa, &xb, &metric, k) {
            prop_assert!(false, "{}", wrong);
        }
    }
}

#[test]
fn ties_go_to_the_lower_index_and_nan_ranks_last() {
    let xb = NdArray::from_vec(vec![f64::NAN, 3.0, 1.0, 3.0, 1.0], &[5, 1]).unwrap();
    let xa = NdArray::from_vec(vec![2.0f64], &[1, 1]).unwrap();
    let nn = knn(&xa, &xb, 5, &Metric::Euclidean).unwrap();
    assert_eq!(nn.indices.to_vec::<i64>().unwrap(), vec![1, 2, 3, 4, 0]);
}

#[test]
fn strategies_and_threads_give_the_same_neighbours_on_distinct_distances() {
    let xa = NdArray::normal(&[300, 16], 0.0, 1.0, 7, DType::F64).unwrap();
    let xb = NdArray::normal(&[2500, 16], 0.0, 1.0, 8, DType::F64).unwrap();
    let base = knn(&xa, &xb, 7, &Metric::Euclidean).unwrap();
    for opts in [
        CdistOptions::new().threads(1),
        CdistOptions::new().strategy(Strategy::MatmulTrick),
    ] {
        let other = knn_with(&xa, &xb, 7, &Metric::Euclidean, &opts).unwrap();
        assert_eq!(
            other.indices.to_vec::<i64>().unwrap(),
            base.indices.to_vec::<i64>().unwrap()
        );
    }
}

#[test]
fn bad_k_and_shapes_are_clear_errors() {
    let x = NdArray::zeros(&[4, 3], DType::F64).unwrap();
    let y = NdArray::zeros(&[4, 2], DType::F64).unwrap();
    let e = knn(&x, &x, 0, &Metric::Euclidean).unwrap_err().to_string();
    assert!(
        e.contains("k must be between 1 and") && e.contains("got k = 0"),
        "{e}"
    );
    let e = knn(&x, &x, 5, &Metric::Euclidean).unwrap_err().to_string();
    assert!(e.contains("(4)") && e.contains("k = 5"), "{e}");
    assert!(knn(&x, &y, 1, &Metric::Euclidean).is_err());
    assert!(knn(&x, &x, 1, Metric::minkowski(0.5)).is_err());
}

#[test]
fn several_row_and_column_blocks_match_the_full_matrix() {
    // More rows than one task's block (3072) and columns than one column block (512).
    let (n, m, d, k) = (3100, 1100, 3, 4);
    let vals: Vec<i8> = (0..(n + m) * d)
        .map(|i| ((i * 7919) % 9) as i8 - 4)
        .collect();
    let xa = matrix(&vals, n, d, DType::F64);
    let xb = matrix(&vals[n * d..], m, d, DType::F64);
    let nn = knn(&xa, &xb, k, &Metric::Cityblock).unwrap();
    let full = cdist_with(&xa, &xb, &Metric::Cityblock, &CdistOptions::new())
        .unwrap()
        .to_vec_f64()
        .unwrap();
    let want = brute_force(&full, n, m, k);
    let got: Vec<(f64, i64)> = nn
        .distances
        .to_vec_f64()
        .unwrap()
        .into_iter()
        .zip(nn.indices.to_vec::<i64>().unwrap())
        .collect();
    assert_eq!(got, want);
}
