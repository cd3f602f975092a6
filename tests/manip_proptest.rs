//! Joining, splitting, gathering, selecting and comparing against index-by-index models: a
//! logical array is its shape plus its values as f64 in C order (read through the core's
//! `to_vec_f64`), and every result index is defined by which input index it reads. Inputs are
//! random shapes (0 and 1 included), of several dtypes, through negative-stride and transposed
//! views.

use ndstride::{CopyStats, DType, NdArray, SliceInfo, SliceItem, shares_memory};
use proptest::prelude::*;

mod common;
use common::{all_indices as indices, flat};

const DTYPES: [DType; 5] = [DType::I8, DType::I32, DType::U16, DType::F32, DType::F64];

/// An array of `shape` and `dtype` holding small integers from `seed`, read through a view
/// with every axis in `flips` reversed (negative strides) and, with `transpose`, built
/// transposed and transposed back (so its strides are not C order).
fn make(shape: &[usize], dtype: DType, seed: u64, flips: u32, transpose: bool) -> NdArray {
    let n: usize = shape.iter().product();
    let vals: Vec<f64> = (0..n as u64)
        .map(|i| ((i.wrapping_mul(2654435761).wrapping_add(seed)) % 7) as f64)
        .collect();
    let a = if transpose {
        let rev: Vec<usize> = shape.iter().rev().copied().collect();
        NdArray::from_vec(vals, &rev).unwrap().t()
    } else {
        NdArray::from_vec(vals, shape).unwrap()
    };
    let a = a.astype(dtype).unwrap();
    let items = (0..shape.len())
        .map(|d| {
            if flips >> d & 1 == 1 {
                SliceItem::stepped(.., -1)
            } else {
                SliceItem::stepped(.., 1)
            }
        })
        .collect();
    a.slice(SliceInfo::new(items)).unwrap()
}

fn shape_strategy(max_ndim: usize) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..4, 1..=max_ndim)
}

fn result_type_all(ds: &[DType]) -> DType {
    ds.iter()
        .copied()
        .reduce(ndstride::ufunc::result_type)
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn concatenate_reads_each_part(
        shape in shape_strategy(3),
        lens in prop::collection::vec(0usize..4, 1..4),
        axis_pick in 0usize..3,
        dts in prop::collection::vec(0usize..5, 3),
        flips in 0u32..8,
        transpose in any::<bool>(),
    ) {
        let axis = axis_pick % shape.len();
        let parts: Vec<NdArray> = lens.iter().enumerate().map(|(k, &len)| {
            let mut s = shape.clone();
            s[axis] = len;
            make(&s, DTYPES[dts[k % 3]], k as u64, flips, transpose && k == 0)
        }).collect();
        let refs: Vec<&NdArray> = parts.iter().collect();
        // Negative axes count from the end.
        let neg = axis as isize - shape.len() as isize;
        let c = ndstride::concatenate(&refs, if k_even(&lens) { axis as isize } else { neg }).unwrap();
        let dtypes: Vec<DType> = parts.iter().map(|p| p.dtype()).collect();
        prop_assert_eq!(c.dtype(), result_type_all(&dtypes));
        let mut want_shape = shape.clone();
        want_shape[axis] = lens.iter().sum();
        prop_assert_eq!(c.shape(), &want_shape[..]);
        prop_assert!(c.is_c_contiguous());
        let models: Vec<Vec<f64>> = parts.iter().map(|p| p.to_vec_f64().unwrap()).collect();
        let got = c.to_vec_f64().unwrap();
        for idx in indices(&want_shape) {
            let (mut k, mut i) = (0, idx[axis]);
            while i >= lens[k] { i -= lens[k]; k += 1; }
            let mut src = idx.clone();
            src[axis] = i;
            prop_assert_eq!(got[flat(&want_shape, &idx)], models[k][flat(parts[k].shape(), &src)]);
        }
    }

    #[test]
    fn stack_adds_an_axis(shape in shape_strategy(2), count in 1usize..4, axis_pick in 0usize..3, dt in 0usize..5) {
        let parts: Vec<NdArray> = (0..count).map(|k| make(&shape, DTYPES[(dt + k) % 5], k as u64, k as u32, false)).collect();
        let refs: Vec<&NdArray> = parts.iter().collect();
        let axis = axis_pick % (shape.len() + 1);
        let s = ndstride::stack(&refs, axis as isize).unwrap();
        let mut want = shape.clone();
        want.insert(axis, count);
        prop_assert_eq!(s.shape(), &want[..]);
        let got = s.to_vec_f64().unwrap();
        for idx in indices(&want) {
            let mut src = idx.clone();
            let k = src.remove(axis);
            prop_assert_eq!(got[flat(&want, &idx)], parts[k].to_vec_f64().unwrap()[flat(&shape, &src)]);
        }
    }

    /// Splits are views that cover the axis in order, with NumPy's lengths.
    #[test]
    fn array_split_views_tile_the_axis(shape in shape_strategy(3), sections in 1usize..5, axis_pick in 0usize..3, flips in 0u32..8) {
        let a = make(&shape, DType::I32, 3, flips, false);
        let axis = axis_pick % shape.len();
        let (parts, stats) = CopyStats::scope(|| a.array_split(sections, axis as isize).unwrap());
        prop_assert!(stats.is_metadata_only());
        prop_assert_eq!(parts.len(), sections);
        let n = shape[axis];
        for (k, p) in parts.iter().enumerate() {
            let want = n / sections + usize::from(k < n % sections);
            prop_assert_eq!(p.shape()[axis], want);
            if p.size() > 0 {
                prop_assert!(shares_memory(p, &a));
            }
        }
        let refs: Vec<&NdArray> = parts.iter().collect();
        let joined = ndstride::concatenate(&refs, axis as isize).unwrap();
        prop_assert_eq!(joined.to_vec_f64().unwrap(), a.to_vec_f64().unwrap());
        prop_assert_eq!(a.split(sections, axis as isize).is_ok(), n % sections == 0);
        let rows = a.unstack(axis as isize).unwrap();
        prop_assert_eq!(rows.len(), n);
        for (i, r) in rows.iter().enumerate() {
            let mut item: Vec<SliceItem> = vec![SliceItem::stepped(.., 1); shape.len()];
            item[axis] = SliceItem::Index(i as isize);
            prop_assert_eq!(r.to_vec_f64().unwrap(), a.slice(SliceInfo::new(item)).unwrap().to_vec_f64().unwrap());
        }
    }

    #[test]
    fn take_reads_the_indexed_rows(
        shape in shape_strategy(3),
        axis_pick in 0usize..3,
        raw in prop::collection::vec(-8i64..8, 0..7),
        two_d in any::<bool>(),
        dt in 0usize..5,
        flips in 0u32..8,
    ) {
        let a = make(&shape, DTYPES[dt], 11, flips, dt % 2 == 0);
        let axis = axis_pick % shape.len();
        let n = shape[axis] as i64;
        let idx_shape: Vec<usize> = if two_d && raw.len() % 2 == 0 { vec![2, raw.len() / 2] } else { vec![raw.len()] };
        let idx = NdArray::from_vec(raw.clone(), &idx_shape).unwrap();
        let in_bounds = raw.iter().all(|&i| -n <= i && i < n);
        let r = a.take(&idx, axis as isize);
        prop_assert_eq!(r.is_ok(), in_bounds, "{:?}", r.as_ref().err().map(|e| e.to_string()));
        if let Ok(t) = r {
            prop_assert_eq!(t.dtype(), a.dtype());
            let mut want = shape[..axis].to_vec();
            want.extend(&idx_shape);
            want.extend(&shape[axis + 1..]);
            prop_assert_eq!(t.shape(), &want[..]);
            let (got, model) = (t.to_vec_f64().unwrap(), a.to_vec_f64().unwrap());
            for out_idx in indices(&want) {
                let k = flat(&idx_shape, &out_idx[axis..axis + idx_shape.len()]);
                let i = raw[k].rem_euclid(n.max(1)) as usize;
                let mut src = out_idx[..axis].to_vec();
                src.push(i);
                src.extend(&out_idx[axis + idx_shape.len()..]);
                prop_assert_eq!(got[flat(&want, &out_idx)], model[flat(&shape, &src)]);
            }
            // Other integer dtypes of the same indices give the same result.
            prop_assert_eq!(a.take(&idx.astype(DType::I16).unwrap(), axis as isize).unwrap().to_vec_f64().unwrap(), got);
        }
    }

    #[test]
    fn take_along_axis_reads_per_lane(shape in shape_strategy(3), axis_pick in 0usize..3, m in 0usize..4, seed in 0u64..1000, bcast in 0u32..8) {
        let a = make(&shape, DType::F64, 5, 1, false);
        let axis = axis_pick % shape.len();
        let n = shape[axis];
        prop_assume!(n > 0 || m == 0);
        // Indices broadcast on the axes whose bit is set in `bcast` (length 1 there).
        let mut ishape: Vec<usize> = shape.iter().enumerate().map(|(d, &s)| if bcast >> d & 1 == 1 { 1 } else { s }).collect();
        ishape[axis] = m;
        let count: usize = ishape.iter().product();
        let raw: Vec<i64> = (0..count as u64).map(|i| ((i * 31 + seed) % (2 * n.max(1) as u64)) as i64 - n as i64).collect();
        let idx = NdArray::from_vec(raw.clone(), &ishape).unwrap();
        let t = a.take_along_axis(&idx, axis as isize).unwrap();
        let mut want = shape.clone();
        want[axis] = m;
        prop_assert_eq!(t.shape(), &want[..]);
        let (got, model) = (t.to_vec_f64().unwrap(), a.to_vec_f64().unwrap());
        for out_idx in indices(&want) {
            let ii: Vec<usize> = out_idx.iter().zip(&ishape).map(|(&i, &s)| if s == 1 { 0 } else { i }).collect();
            let mut src = out_idx.clone();
            src[axis] = raw[flat(&ishape, &ii)].rem_euclid(n as i64) as usize;
            prop_assert_eq!(got[flat(&want, &out_idx)], model[flat(&shape, &src)]);
        }
    }

    #[test]
    fn masks_select_the_true_positions(shape in shape_strategy(3), axis_pick in 0usize..3, seed in 0u64..1000, flips in 0u32..8) {
        let a = make(&shape, DType::I32, seed, flips, false);
        let m = make(&shape, DType::F32, seed + 1, 0, true).less(&NdArray::full::<f32>(&[], 3.0).unwrap()).unwrap();
        let (model, mask) = (a.to_vec_f64().unwrap(), m.to_vec_bool().unwrap());
        let picked: Vec<f64> = model.iter().zip(&mask).filter(|(_, t)| **t).map(|(v, _)| *v).collect();
        prop_assert_eq!(a.extract(&m).unwrap().to_vec_f64().unwrap(), picked);
        // nonzero gives the coordinates of the same positions; count_nonzero counts them.
        let nz = m.nonzero().unwrap();
        let coords: Vec<Vec<usize>> = indices(&shape).into_iter().filter(|i| mask[flat(&shape, i)]).collect();
        for (d, c) in nz.iter().enumerate() {
            prop_assert_eq!(c.to_vec::<i64>().unwrap(), coords.iter().map(|i| i[d] as i64).collect::<Vec<_>>());
        }
        prop_assert_eq!(m.count_nonzero(None, false).unwrap().to_vec::<i64>().unwrap(), vec![coords.len() as i64]);
        // compress along one axis with a 1-d condition.
        let axis = axis_pick % shape.len();
        let cond: Vec<bool> = (0..shape[axis]).map(|i| !(i as u64 + seed).is_multiple_of(3)).collect();
        let c = NdArray::from_bools(&cond, &[cond.len()]).unwrap();
        let got = a.compress(&c, axis as isize).unwrap();
        let keep: Vec<i64> = cond.iter().enumerate().filter(|(_, t)| **t).map(|(i, _)| i as i64).collect();
        let via_take = a.take(&NdArray::from_vec(keep, &[got.shape()[axis]]).unwrap(), axis as isize).unwrap();
        prop_assert_eq!(got.to_vec_f64().unwrap(), via_take.to_vec_f64().unwrap());
        prop_assert_eq!(got.shape(), via_take.shape());
    }

    #[test]
    fn where_picks_elementwise_with_broadcasting(
        shape in shape_strategy(3),
        drop_c in 0u32..8, drop_x in 0u32..8,
        dx in 0usize..5, dy in 0usize..5, seed in 0u64..100,
    ) {
        // Each operand has length 1 on the axes whose bit is set (broadcast there).
        let sub = |mask: u32| -> Vec<usize> { shape.iter().enumerate().map(|(d, &s)| if mask >> d & 1 == 1 { 1 } else { s }).collect() };
        let (cs, xs) = (sub(drop_c), sub(drop_x));
        let c = make(&cs, DType::I8, seed, 1, false).greater(&NdArray::full::<i8>(&[], 3).unwrap()).unwrap();
        let x = make(&xs, DTYPES[dx], seed + 1, 2, true);
        let y = make(&shape, DTYPES[dy], seed + 2, 0, false);
        let w = ndstride::where_(&c, &x, &y).unwrap();
        prop_assert_eq!(w.dtype(), ndstride::ufunc::result_type(x.dtype(), y.dtype()));
        let (cm, xm, ym, got) = (c.to_vec_bool().unwrap(), x.to_vec_f64().unwrap(), y.to_vec_f64().unwrap(), w.to_vec_f64().unwrap());
        for idx in indices(&shape) {
            let at = |s: &[usize]| flat(s, &idx.iter().zip(s).map(|(&i, &n)| if n == 1 { 0 } else { i }).collect::<Vec<_>>());
            let want = if cm[at(&cs)] { xm[at(&xs)] } else { ym[at(&shape)] };
            prop_assert_eq!(got[flat(&shape, &idx)], want);
        }
        // A non-bool condition counts nonzero as true.
        let c8 = c.astype(DType::F32).unwrap().mul(&NdArray::full::<f32>(&[], -2.5).unwrap()).unwrap();
        prop_assert_eq!(ndstride::where_(&c8, &x, &y).unwrap().to_vec_f64().unwrap(), got);
    }

    /// isclose against NumPy's formula evaluated in f64 element by element.
    #[test]
    fn isclose_is_numpys_formula(
        vals in prop::collection::vec(prop_oneof![
            Just(f64::NAN), Just(f64::INFINITY), Just(f64::NEG_INFINITY), Just(0.0), -2.0..2.0f64
        ], 1..12),
        shift in prop::collection::vec(prop_oneof![Just(0.0), Just(1e-9), Just(1e-6), Just(1e-3)], 1..12),
        equal_nan in any::<bool>(),
    ) {
        let n = vals.len().min(shift.len());
        let a: Vec<f64> = vals[..n].to_vec();
        let b: Vec<f64> = a.iter().zip(&shift).map(|(x, s)| x + s).rev().collect();
        let (rtol, atol) = (1e-5, 1e-8);
        let got = ndstride::isclose(
            &NdArray::from_vec(a.clone(), &[n]).unwrap(),
            &NdArray::from_vec(b.clone(), &[n]).unwrap(),
            rtol, atol, equal_nan,
        ).unwrap().to_vec_bool().unwrap();
        for i in 0..n {
            let (x, y) = (a[i], b[i]);
            let want = (x == y)
                || ((x - y).abs() <= atol + rtol * y.abs() && y.is_finite())
                || (equal_nan && x.is_nan() && y.is_nan());
            prop_assert_eq!(got[i], want, "{} vs {}", x, y);
        }
        let all = got.iter().all(|&t| t);
        if !equal_nan {
            prop_assert_eq!(ndstride::allclose(&NdArray::from_vec(a.clone(), &[n]).unwrap(), &NdArray::from_vec(b.clone(), &[n]).unwrap(), rtol, atol).unwrap(), all);
        }
    }
}

fn k_even(lens: &[usize]) -> bool {
    lens.len().is_multiple_of(2)
}

#[test]
fn joining_errors_say_which_array_and_axis() {
    let a = NdArray::zeros(&[2, 3], DType::F64).unwrap();
    let b = NdArray::zeros(&[2, 4], DType::F64).unwrap();
    let e = ndstride::concatenate(&[&a, &b], 0).unwrap_err().to_string();
    assert!(
        e.contains(
            "along dimension 1, the array at index 0 has size 3 and the array at index 1 has size 4"
        ),
        "{e}"
    );
    let c = NdArray::zeros(&[2], DType::F64).unwrap();
    let e = ndstride::concatenate(&[&a, &c], 0).unwrap_err().to_string();
    assert!(
        e.contains(
            "the array at index 0 has 2 dimension(s) and the array at index 1 has 1 dimension(s)"
        ),
        "{e}"
    );
    assert!(ndstride::concatenate(&[], 0).is_err());
    assert!(ndstride::concatenate(&[&a, &a], 2).is_err());
    let z = NdArray::scalar(1.0f64);
    assert!(
        ndstride::concatenate(&[&z], 0)
            .unwrap_err()
            .to_string()
            .contains("zero-dimensional")
    );
    assert!(
        ndstride::stack(&[&a, &b], 0)
            .unwrap_err()
            .to_string()
            .contains("same shape")
    );
    assert_eq!(
        ndstride::concatenate(&[&a, &a], -1).unwrap().shape(),
        &[2, 6]
    );
    assert!(
        a.split(4, 1)
            .unwrap_err()
            .to_string()
            .contains("equal division")
    );
    let parts = a.split_at(&[1, 5, 2], 1).unwrap();
    let lens: Vec<usize> = parts.iter().map(|p| p.shape()[1]).collect();
    assert_eq!(
        lens,
        vec![1, 2, 0, 1],
        "NumPy's np.split(a, [1, 5, 2], axis=1)"
    );
}

#[test]
fn gathering_errors_name_the_index_and_axis() {
    let a = NdArray::arange(6, DType::F64)
        .unwrap()
        .reshape(&[2, 3])
        .unwrap();
    let idx = NdArray::from_vec(vec![0i64, 3], &[2]).unwrap();
    assert_eq!(
        a.take(&idx, 1).unwrap_err().to_string(),
        "index 3 is out of bounds for axis 1 with size 3"
    );
    assert_eq!(
        a.take(&idx, -2).unwrap_err().to_string(),
        "index 3 is out of bounds for axis 0 with size 2"
    );
    let f = NdArray::from_vec(vec![0.0f64], &[1]).unwrap();
    assert!(
        a.take(&f, 0)
            .unwrap_err()
            .to_string()
            .contains("integer dtype")
    );
    assert!(a.take(&idx, 2).is_err());
    assert!(
        a.take_along_axis(&idx, 0)
            .unwrap_err()
            .to_string()
            .contains("same number of dimensions")
    );
    let m = NdArray::from_bools(&[true, false], &[2]).unwrap();
    assert!(
        a.extract(&m)
            .unwrap_err()
            .to_string()
            .contains("boolean index did not match")
    );
    assert!(NdArray::scalar(1.0f64).nonzero().is_err());
    let long = NdArray::from_bools(&[false, false, false, true], &[4]).unwrap();
    assert_eq!(
        a.compress(&long, 1).unwrap_err().to_string(),
        "index 3 is out of bounds for axis 1 with size 3"
    );
    // An unsigned index beyond i64 is out of bounds, not wrapped to a negative one.
    let huge = NdArray::from_vec(vec![u64::MAX], &[1]).unwrap();
    assert!(a.take(&huge, 1).is_err());
}

#[test]
fn comparisons_follow_numpy() {
    let a = NdArray::from_vec(vec![1.0, f64::NAN, f64::INFINITY], &[3]).unwrap();
    assert!(a != a, "NaN is not equal to itself");
    let b = NdArray::from_vec(vec![1i64, 2], &[2]).unwrap();
    assert!(b == NdArray::from_vec(vec![1.0f64, 2.0], &[2]).unwrap());
    assert!(b != NdArray::from_vec(vec![1.0f64, 2.0], &[2, 1]).unwrap());
    assert!(!ndstride::array_equal(&b, &b.reshape(&[1, 2]).unwrap()).unwrap());
    let inf = NdArray::from_vec(vec![f64::INFINITY, f64::NEG_INFINITY], &[2]).unwrap();
    let got = ndstride::isclose(&inf, &inf.flip(0).unwrap(), 1e-5, 1e-8, false).unwrap();
    assert_eq!(got.to_vec_bool().unwrap(), vec![false, false]);
    assert!(ndstride::allclose(&inf, &inf, 1e-5, 1e-8).unwrap());
    // Broadcasting, and float32 compares in float32.
    let x = NdArray::from_vec(vec![1.0f32, 1.000001], &[2]).unwrap();
    assert!(ndstride::allclose(&x, &NdArray::scalar(1.0f32), 1e-5, 0.0).unwrap());
}
