//! Iteration and mapping (`axis_iter`, `outer_iter`, `lanes`, `indexed_iter`, `mapv`, `map`,
//! `zip_map`, `zip_map3`) and `sliding_window_view`, against index-by-index models over random
//! shapes (0 and 1 included), transposed, reversed and stepped layouts.

mod common;

use common::{all_indices, flat};
use ndstride::{CopyStats, DType, NdArray, Order, s};
use proptest::prelude::*;

/// `0, 1, 2, ...` as float64 in `shape`, laid out in one of four ways with the same values.
fn make(shape: &[usize], layout: u8) -> NdArray {
    let n: usize = shape.iter().product();
    let c = NdArray::arange(n, DType::F64)
        .unwrap()
        .reshape(shape)
        .unwrap();
    match layout % 4 {
        1 => c.t().to_contiguous(Order::C).t(),
        2 if !shape.is_empty() => c.flip(0).unwrap().copy().unwrap().flip(0).unwrap(),
        3 if !shape.is_empty() => {
            // every other element of a buffer twice as long on the last axis
            let mut big_shape = shape.to_vec();
            *big_shape.last_mut().unwrap() *= 2;
            let mut big = NdArray::zeros(&big_shape, DType::F64).unwrap();
            big.apply_within(
                ndstride::ufunc::BinaryOp::Add,
                s![ndstride::Ellipsis, ..;2],
                c,
            )
            .unwrap();
            big.slice(s![ndstride::Ellipsis, ..;2]).unwrap()
        }
        _ => c,
    }
}

/// The value at `idx` of `make(shape, _)`: its C-order position.
fn model(shape: &[usize], idx: &[usize]) -> f64 {
    flat(shape, idx) as f64
}

fn shape_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..5, 1..4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn axis_iter_and_index_axis_are_the_subviews(
        shape in shape_strategy(), layout in 0u8..4, axis in any::<prop::sample::Index>(), neg in any::<bool>(),
    ) {
        let a = make(&shape, layout);
        let ax = axis.index(shape.len());
        let axis_arg = if neg { ax as isize - shape.len() as isize } else { ax as isize };
        let (views, stats) = CopyStats::scope(|| a.axis_iter(axis_arg).unwrap().collect::<Vec<NdArray>>());
        prop_assert!(stats.is_metadata_only());
        prop_assert_eq!(views.len(), shape[ax]);
        let mut sub_shape = shape.clone();
        sub_shape.remove(ax);
        for (i, v) in views.iter().enumerate() {
            prop_assert_eq!(v.shape(), &sub_shape[..]);
            prop_assert!(v.size() == 0 || v.shares_buffer_with(&a));
            let vals = v.to_vec_f64().unwrap();
            for sub in all_indices(&sub_shape) {
                let mut idx = sub.clone();
                idx.insert(ax, i);
                prop_assert_eq!(vals[flat(&sub_shape, &sub)], model(&shape, &idx));
            }
            prop_assert_eq!(a.index_axis(axis_arg, i).unwrap().to_vec_f64().unwrap(), vals);
        }
        let back: Vec<NdArray> = a.axis_iter(axis_arg).unwrap().rev().collect();
        prop_assert_eq!(back.len(), views.len());
        for (b, v) in back.iter().rev().zip(&views) {
            prop_assert_eq!(b.to_vec_f64().unwrap(), v.to_vec_f64().unwrap());
        }
        prop_assert!(a.index_axis(axis_arg, shape[ax]).is_err());
        if ax == 0 {
            prop_assert_eq!(a.outer_iter().unwrap().len(), shape[0]);
        }
    }

    #[test]
    fn lanes_walk_the_other_axes_in_c_order(
        shape in shape_strategy(), layout in 0u8..4, axis in any::<prop::sample::Index>(),
    ) {
        let a = make(&shape, layout);
        let ax = axis.index(shape.len());
        let mut others = shape.clone();
        others.remove(ax);
        let lanes: Vec<NdArray> = a.lanes(ax as isize).unwrap().collect();
        let want_count: usize = others.iter().product();
        prop_assert_eq!(lanes.len(), want_count);
        for (lane, o) in lanes.iter().zip(all_indices(&others)) {
            prop_assert_eq!(lane.shape(), &[shape[ax]][..]);
            let vals = lane.to_vec_f64().unwrap();
            for (k, v) in vals.iter().enumerate() {
                let mut idx = o.clone();
                idx.insert(ax, k);
                prop_assert_eq!(*v, model(&shape, &idx));
            }
        }
    }

    #[test]
    fn indexed_iter_and_maps_follow_the_index_model(shape in shape_strategy(), layout in 0u8..4) {
        let a = make(&shape, layout);
        let items: Vec<(Vec<usize>, f64)> = a.indexed_iter::<f64>().unwrap().collect();
        let want: Vec<(Vec<usize>, f64)> = all_indices(&shape).into_iter().map(|i| { let v = model(&shape, &i); (i, v) }).collect();
        prop_assert_eq!(items, want);
        let m = a.mapv(|x: f64| (3.0 * x - 1.0) as i32).unwrap();
        prop_assert_eq!(m.dtype(), DType::I32);
        prop_assert_eq!(m.shape(), &shape[..]);
        prop_assert!(m.is_c_contiguous());
        let mv = m.to_vec::<i32>().unwrap();
        for idx in all_indices(&shape) {
            prop_assert_eq!(mv[flat(&shape, &idx)], (3.0 * model(&shape, &idx) - 1.0) as i32);
        }
        let r = m.map(|x: &i32| *x as f64 / 2.0).unwrap();
        prop_assert_eq!(r.dtype(), DType::F64);
        prop_assert!(a.mapv(|x: f32| x).is_err(), "the closure's type must be the dtype's");
    }

    /// zip_map/zip_map3 over shapes that broadcast: the model reads each operand at the output
    /// index with its length-1 axes pinned to 0 and its missing leading axes dropped.
    #[test]
    fn zips_broadcast_like_numpy(
        out_shape in prop::collection::vec(0usize..4, 0..4), ones in any::<u8>(), drop in 0usize..3, layout in 0u8..4,
    ) {
        let drop = drop.min(out_shape.len());
        let b_shape: Vec<usize> = out_shape[drop..].iter().enumerate().map(|(k, &d)| if ones & (1 << k) != 0 { 1 } else { d }).collect();
        let a = make(&out_shape, layout).astype(DType::I64).unwrap();
        let b = make(&b_shape, layout.wrapping_add(1));
        let c = NdArray::scalar(0.5f32);
        let z = ndstride::zip_map(&a, &b, |x: i64, y: f64| x as f64 * 100.0 + y).unwrap();
        let z3 = ndstride::zip_map3(&a, &b, &c, |x: i64, y: f64, w: f32| if x % 2 == 0 { y } else { w as f64 }).unwrap();
        let shape = ndstride::broadcast_shapes(&[&out_shape, &b_shape]).unwrap();
        prop_assert_eq!(z.shape(), &shape[..]);
        let (zv, z3v) = (z.to_vec_f64().unwrap(), z3.to_vec_f64().unwrap());
        for idx in all_indices(&shape) {
            let lead = shape.len() - out_shape.len();
            let ia: Vec<usize> = idx[lead..].to_vec();
            let ib: Vec<usize> = idx[shape.len() - b_shape.len()..].iter().zip(&b_shape).map(|(&i, &d)| if d == 1 { 0 } else { i }).collect();
            let (x, y) = (model(&out_shape, &ia), model(&b_shape, &ib));
            prop_assert_eq!(zv[flat(&shape, &idx)], x * 100.0 + y);
            prop_assert_eq!(z3v[flat(&shape, &idx)], if x as i64 % 2 == 0 { y } else { 0.5 });
        }
    }

    /// Every window element against the model `w[i..., k...] = a[i + k]` (window axes appended
    /// in the order given), over random window lengths up to the axis and repeated axes.
    #[test]
    fn sliding_windows_are_checked_views(
        shape in prop::collection::vec(0usize..6, 1..3), layout in 0u8..4,
        picks in prop::collection::vec((any::<prop::sample::Index>(), 0usize..7), 1..3),
    ) {
        let a = make(&shape, layout);
        let axes: Vec<isize> = picks.iter().map(|(i, _)| i.index(shape.len()) as isize).collect();
        let windows: Vec<usize> = picks.iter().map(|p| p.1).collect();
        // the trimmed shape, axis by axis as NumPy applies them
        let mut trimmed = shape.clone();
        let mut fits = true;
        for (&ax, &w) in axes.iter().zip(&windows) {
            let ax = ax as usize;
            if trimmed[ax] < w { fits = false; break; }
            trimmed[ax] = trimmed[ax] + 1 - w;
        }
        let got = a.sliding_window_view(&windows, Some(&axes));
        if !fits {
            let e = got.unwrap_err().to_string();
            prop_assert!(e.contains("window shape cannot be larger than input array shape"), "{}", e);
            return Ok(());
        }
        let v = got.unwrap();
        let mut want_shape = trimmed.clone();
        want_shape.extend(&windows);
        prop_assert_eq!(v.shape(), &want_shape[..]);
        prop_assert!(!v.flags().writeable);
        let vals = v.to_vec_f64().unwrap();
        for idx in all_indices(&want_shape) {
            let mut src = idx[..shape.len()].to_vec();
            for (k, &ax) in axes.iter().enumerate() {
                src[ax as usize] += idx[shape.len() + k];
            }
            prop_assert_eq!(vals[flat(&want_shape, &idx)], model(&shape, &src));
        }
    }
}

#[test]
fn sliding_window_view_errors_and_the_all_axes_form() {
    let a = NdArray::arange(12, DType::F32)
        .unwrap()
        .reshape(&[3, 4])
        .unwrap();
    let w = a.sliding_window_view(&[2, 3], None).unwrap();
    assert_eq!(w.shape(), &[2, 2, 2, 3]);
    assert_eq!(
        w.index_axis(0, 1)
            .unwrap()
            .index_axis(0, 1)
            .unwrap()
            .to_vec::<f32>()
            .unwrap(),
        [5., 6., 7., 9., 10., 11.]
    );
    // NumPy 2.4.6's messages
    assert_eq!(
        a.sliding_window_view(&[2], None).unwrap_err().to_string(),
        "Since axis is `None`, must provide window_shape for all dimensions of `x`; got 1 window_shape elements and `x.ndim` is 2."
    );
    assert_eq!(
        a.sliding_window_view(&[2], Some(&[0, 1]))
            .unwrap_err()
            .to_string(),
        "Must provide matching length window_shape and axis; got 1 window_shape elements and 2 axes elements."
    );
    assert!(a.sliding_window_view(&[5], Some(&[1])).is_err());
    assert!(a.sliding_window_view(&[1], Some(&[2])).is_err());
    assert!(
        NdArray::scalar(1.0f64).outer_iter().is_err(),
        "iteration over a 0-d array"
    );
}
