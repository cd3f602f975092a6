//! Sorting and selection against independent references: std's sorts on f64 with NumPy's
//! order written out (NaN last; -0.0 equal to 0.0 for the stable argsort), over random shapes
//! (0 and 1 included), every axis, strided and negative-stride views and several dtypes, plus
//! lanes long enough for the radix sort and its parallel passes, and NumPy's own outputs.

use std::cmp::Ordering;

use ndstride::{DType, NdArray, SliceInfo, SliceItem};
use proptest::prelude::*;

/// NumPy's order on f64: numbers by value, NaN after every number, NaNs equal.
fn numpy_cmp(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap(),
    }
}

/// The lanes of a C-ordered model along `axis`: for each lane, the flat positions in order.
fn lanes(shape: &[usize], axis: usize) -> Vec<Vec<usize>> {
    let strides: Vec<usize> = (0..shape.len())
        .map(|d| shape[d + 1..].iter().product())
        .collect();
    let total: usize = shape.iter().product();
    let n = shape[axis];
    if n == 0 {
        return vec![];
    }
    (0..total)
        .filter(|&p| (p / strides[axis]).is_multiple_of(n))
        .map(|p| (0..n).map(|i| p + i * strides[axis]).collect())
        .collect()
}

/// Values with many ties, ±0, infinities and NaNs (for float dtypes).
fn value(i: u64, seed: u64, float: bool) -> f64 {
    let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(seed) >> 40;
    match h % 13 {
        0 if float => f64::NAN,
        1 if float => -0.0,
        2 if float => f64::INFINITY,
        3 if float => f64::NEG_INFINITY,
        _ => (h % 9) as f64 - 4.0,
    }
}

fn make(shape: &[usize], dtype: DType, seed: u64, flip: Option<usize>, transpose: bool) -> NdArray {
    let n: usize = shape.iter().product();
    let vals: Vec<f64> = (0..n as u64)
        .map(|i| value(i, seed, dtype.is_float()))
        .collect();
    let a = if transpose {
        let rev: Vec<usize> = shape.iter().rev().copied().collect();
        NdArray::from_vec(vals, &rev).unwrap().t()
    } else {
        NdArray::from_vec(vals, shape).unwrap()
    };
    let a = a.astype(dtype).unwrap();
    match flip {
        Some(d) if d < shape.len() => {
            let mut items = vec![SliceItem::stepped(.., 1); shape.len()];
            items[d] = SliceItem::stepped(.., -1);
            a.slice(SliceInfo::new(items)).unwrap()
        }
        _ => a,
    }
}

const DTYPES: [DType; 6] = [
    DType::F64,
    DType::F32,
    DType::I64,
    DType::I8,
    DType::U16,
    DType::Bool,
];

/// Checks `sort`, `argsort`, `partition` and `argpartition` of `a` along `axis` against the
/// references, lane by lane.
fn check(a: &NdArray, axis: usize, kth_pick: usize) -> Result<(), TestCaseError> {
    let shape = a.shape().to_vec();
    let model = a.to_vec_f64().unwrap();
    let sorted = a.sort(axis as isize).unwrap();
    let arg = a.argsort(axis as isize).unwrap();
    prop_assert_eq!(sorted.dtype(), a.dtype());
    prop_assert_eq!(arg.dtype(), DType::I64);
    prop_assert_eq!(sorted.shape(), &shape[..]);
    prop_assert!(sorted.is_c_contiguous() && arg.is_c_contiguous());
    let (s, g) = (sorted.to_vec_f64().unwrap(), arg.to_vec::<i64>().unwrap());
    let n = shape[axis];
    let kth = if n > 0 { kth_pick % n } else { 0 };
    let (part, argp) = if n > 0 {
        (
            Some(
                a.partition(kth as isize, axis as isize)
                    .unwrap()
                    .to_vec_f64()
                    .unwrap(),
            ),
            Some(
                a.argpartition(kth as isize, axis as isize)
                    .unwrap()
                    .to_vec::<i64>()
                    .unwrap(),
            ),
        )
    } else {
        prop_assert!(a.partition(0, axis as isize).is_err());
        (None, None)
    };
    for lane in lanes(&shape, axis) {
        let vals: Vec<f64> = lane.iter().map(|&p| model[p]).collect();
        // Stable argsort: positions ordered by value, ties (±0, NaNs) by position.
        let mut want: Vec<usize> = (0..n).collect();
        want.sort_by(|&i, &j| numpy_cmp(vals[i], vals[j]));
        let got: Vec<usize> = lane.iter().map(|&p| g[p] as usize).collect();
        prop_assert_eq!(&got, &want);
        let mut want_vals = vals.clone();
        want_vals.sort_by(|a, b| numpy_cmp(*a, *b));
        for (k, &p) in lane.iter().enumerate() {
            let (x, y) = (s[p], want_vals[k]);
            prop_assert!(x == y || (x.is_nan() && y.is_nan()), "sort {} vs {}", x, y);
        }
        if let (Some(part), Some(argp)) = (&part, &argp) {
            let pv: Vec<f64> = lane.iter().map(|&p| part[p]).collect();
            let pivot = want_vals[kth];
            prop_assert!(numpy_cmp(pv[kth], pivot) == Ordering::Equal);
            prop_assert!(
                pv[..kth]
                    .iter()
                    .all(|&x| numpy_cmp(x, pivot) != Ordering::Greater)
            );
            prop_assert!(
                pv[kth + 1..]
                    .iter()
                    .all(|&x| numpy_cmp(x, pivot) != Ordering::Less)
            );
            let mut multiset = pv.clone();
            multiset.sort_by(|a, b| numpy_cmp(*a, *b));
            prop_assert!(
                multiset
                    .iter()
                    .zip(&want_vals)
                    .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()))
            );
            // argpartition: position kth is the stable argsort's, the ones before it the
            // same set.
            let ap: Vec<usize> = lane.iter().map(|&p| argp[p] as usize).collect();
            prop_assert_eq!(ap[kth], want[kth]);
            let mut left = ap[..kth].to_vec();
            left.sort();
            let mut want_left = want[..kth].to_vec();
            want_left.sort();
            prop_assert_eq!(left, want_left);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn sort_family_matches_the_references(
        shape in prop::collection::vec(0usize..6, 1..4),
        axis_pick in 0usize..3,
        dt in 0usize..6,
        seed in 0u64..1000,
        flip in prop::option::of(0usize..3),
        transpose in any::<bool>(),
        kth_pick in 0usize..100,
    ) {
        let a = make(&shape, DTYPES[dt], seed, flip, transpose);
        check(&a, axis_pick % shape.len(), kth_pick)?;
    }

    /// Lanes of radix size, one lane (passes split across threads) and several.
    #[test]
    fn long_lanes_match_the_references(
        len in 2000usize..6000,
        lanes_n in 1usize..3,
        dt in 0usize..6,
        seed in 0u64..1000,
    ) {
        let a = make(&[lanes_n, len], DTYPES[dt], seed, Some(1), false);
        check(&a, 1, seed as usize)?;
    }
}

#[test]
fn a_lane_for_parallel_radix_passes() {
    // 300k elements: two threads split each pass. f64 (u64 keys), f32 and i32 (u32 keys).
    for dtype in [DType::F64, DType::F32, DType::I32] {
        let a = make(&[300_000], dtype, 7, None, false);
        check(&a, 0, 123_456).unwrap();
    }
}

#[test]
fn extremes_of_every_integer_type_sort_exactly() {
    let v = vec![i64::MAX, i64::MIN, -1, 0, 1, i64::MIN + 1, i64::MAX - 1];
    let mut want = v.clone();
    want.sort();
    let a = NdArray::from_vec(v.clone(), &[v.len()]).unwrap();
    assert_eq!(a.sort(0).unwrap().to_vec::<i64>().unwrap(), want);
    let u = vec![u64::MAX, 0, 1u64 << 63, (1u64 << 63) - 1];
    let a = NdArray::from_vec(u.clone(), &[4]).unwrap();
    assert_eq!(
        a.sort(0).unwrap().to_vec::<u64>().unwrap(),
        vec![0, (1 << 63) - 1, 1 << 63, u64::MAX]
    );
    // Long enough for the radix path.
    let big: Vec<i64> = (0..5000i64)
        .map(|i| i.wrapping_mul(0x5851_F42D_4C95_7F2D))
        .collect();
    let mut want = big.clone();
    want.sort();
    let a = NdArray::from_vec(big, &[5000]).unwrap();
    assert_eq!(a.sort(0).unwrap().to_vec::<i64>().unwrap(), want);
    // NaN payloads and signs survive a sort bit for bit.
    let nan = f64::from_bits(0xFFF8_0000_0000_0001);
    let a = NdArray::from_vec(vec![nan, 1.0, -0.0, f64::NAN], &[4]).unwrap();
    let s = a.sort(0).unwrap().to_vec::<f64>().unwrap();
    assert_eq!(
        s.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        vec![
            (-0.0f64).to_bits(),
            1.0f64.to_bits(),
            nan.to_bits(),
            f64::NAN.to_bits()
        ]
    );
}

/// NumPy 2.4's outputs (tests/numpy_reference.py prints them).
#[test]
fn numpy_outputs() {
    let v = NdArray::from_vec(
        vec![
            3.0,
            f64::NAN,
            -0.0,
            1.0,
            0.0,
            f64::NEG_INFINITY,
            f64::NAN,
            1.0,
            -1.0,
        ],
        &[9],
    )
    .unwrap();
    let s = v.sort(0).unwrap().to_vec::<f64>().unwrap();
    assert_eq!(
        format!("{:?}", s),
        "[-inf, -1.0, -0.0, 0.0, 1.0, 1.0, 3.0, NaN, NaN]"
    );
    assert_eq!(
        v.argsort(0).unwrap().to_vec::<i64>().unwrap(),
        vec![5, 8, 2, 4, 3, 7, 0, 1, 6]
    );
    let p = v.partition(6, 0).unwrap().to_vec::<f64>().unwrap();
    assert_eq!(p[6], 3.0);
    assert!(p[7].is_nan() && p[8].is_nan());
    // Ties: NumPy's introselect gives [6, 1, 5, 3, 2, 0, 4, 7], values [0, 1, 1, 1, 2, 2, 2, 2]
    // for kth 0, 3 and 5; the values at kth agree, and ndstride's index there is the stable
    // argsort's (lower index first among ties).
    let t = NdArray::from_vec(vec![2i64, 1, 2, 1, 2, 1, 0, 2], &[8]).unwrap();
    let numpy_values = [0i64, 1, 1, 1, 2, 2, 2, 2];
    let stable = [6i64, 1, 3, 5, 0, 2, 4, 7];
    for kth in [0usize, 3, 5] {
        let ap = t
            .argpartition(kth as isize, 0)
            .unwrap()
            .to_vec::<i64>()
            .unwrap();
        let vals = t
            .take(&NdArray::from_vec(ap.clone(), &[8]).unwrap(), 0)
            .unwrap()
            .to_vec::<i64>()
            .unwrap();
        assert_eq!(vals[kth], numpy_values[kth]);
        assert_eq!(ap[kth], stable[kth]);
    }
    let m = NdArray::arange(6, DType::I64)
        .unwrap()
        .reshape(&[2, 3])
        .unwrap();
    assert_eq!(
        m.argpartition(5, 1).unwrap_err().to_string(),
        "kth(=5) out of bounds (3)"
    );
    // Promotion (NumPy 2's result_type).
    let z = |d| NdArray::zeros(&[1], d).unwrap();
    assert_eq!(
        ndstride::concatenate(&[&z(DType::I8), &z(DType::U8)], 0)
            .unwrap()
            .dtype(),
        DType::I16
    );
    assert_eq!(
        ndstride::concatenate(&[&z(DType::I32), &z(DType::F32)], 0)
            .unwrap()
            .dtype(),
        DType::F64
    );
    assert_eq!(
        ndstride::stack(&[&z(DType::U64), &z(DType::I64)], 0)
            .unwrap()
            .dtype(),
        DType::F64
    );
    let yes = NdArray::from_bools(&[true], &[1]).unwrap();
    assert_eq!(
        ndstride::where_(&yes, &z(DType::I16), &z(DType::F32))
            .unwrap()
            .dtype(),
        DType::F32
    );
}

/// kNN and argpartition share the ranking rule: the k-th neighbour of a row is the element
/// argpartition puts at k-1 of that row's distances, ties and NaN included.
#[test]
fn knn_and_argpartition_rank_alike() {
    use ndstride::distance::{Metric, cdist, knn};
    let xb =
        NdArray::from_vec(vec![0.0, 1.0, -1.0, 2.0, 1.0, f64::NAN, -2.0, 0.0], &[8, 1]).unwrap();
    let xa = NdArray::from_vec(vec![0.0, 0.5], &[2, 1]).unwrap();
    let d = cdist(&xa, &xb, Metric::Cityblock).unwrap();
    for k in 1..=8 {
        let nn = knn(&xa, &xb, k, &Metric::Cityblock)
            .unwrap()
            .indices
            .to_vec::<i64>()
            .unwrap();
        let ap = d
            .argpartition(k as isize - 1, 1)
            .unwrap()
            .to_vec::<i64>()
            .unwrap();
        for row in 0..2 {
            assert_eq!(nn[row * k + k - 1], ap[row * 8 + k - 1], "row {row}, k {k}");
        }
    }
}
