//! `ndarray` interop (feature `ndarray`): arrays cross in both directions without a copy
//! (proved with `CopyStats` and by writes seen on the other side), with equal values index by
//! index over random shapes (0 and 1 included), slices with negative steps and transposes.
#![cfg(feature = "ndarray")]

use ndarray::{ArrayD, IxDyn};
use ndstride::{CopyStats, DType, NdArray, SliceInfo, SliceItem};
use proptest::prelude::*;

mod common;
use common::all_indices as indices;

/// A random shape of 0-4 axes and a slice of it (start, stop, step with either sign per axis).
fn shape_and_slice() -> impl Strategy<Value = (Vec<usize>, Vec<(usize, usize, isize)>, bool)> {
    prop::collection::vec(0usize..5, 0..4).prop_flat_map(|shape| {
        let items: Vec<_> = shape
            .iter()
            .map(|&n| (0..=n, 0..=n, prop_oneof![1isize..3, -3isize..0]))
            .collect();
        (Just(shape), items, any::<bool>())
    })
}

fn slice_info(items: &[(usize, usize, isize)]) -> SliceInfo {
    SliceInfo::new(
        items
            .iter()
            .map(|&(a, b, step)| {
                let (lo, hi) = (a.min(b) as isize, a.max(b) as isize);
                if step > 0 {
                    SliceItem::stepped(lo..hi, step)
                } else {
                    SliceItem::stepped(.., step)
                }
            })
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// A strided NdArray view seen through `as_ndarray` reads the same element at every index,
    /// at the same address, and making the view copies nothing.
    #[test]
    fn as_ndarray_reads_every_index_in_place((shape, items, transpose) in shape_and_slice()) {
        let n: usize = shape.iter().product();
        let a = NdArray::from_vec((0..n as i64).collect(), &shape).unwrap();
        let mut v = a.slice(slice_info(&items)).unwrap();
        if transpose {
            v = v.t();
        }
        let (nd, stats) = CopyStats::scope(|| v.as_ndarray::<i64>().unwrap());
        prop_assert!(stats.is_metadata_only());
        prop_assert_eq!(nd.shape(), v.shape());
        let typed = v.view::<i64>().unwrap();
        for idx in indices(v.shape()) {
            let ours = typed.get(&idx).unwrap();
            let theirs = &nd[IxDyn(&idx)];
            prop_assert_eq!(ours, theirs);
            prop_assert!(std::ptr::eq(ours, theirs), "a copy, not the same element");
        }
    }

    /// An owned ndarray array in any layout ndarray makes (reversed axes, negative-step
    /// slices) becomes an NdArray with the same values, adopting its allocation.
    #[test]
    fn from_ndarray_adopts_any_layout((shape, items, transpose) in shape_and_slice()) {
        let n: usize = shape.iter().product();
        let full = ArrayD::from_shape_vec(IxDyn(&shape), (0..n as i64).collect()).unwrap();
        let mut nd = full.slice_move(ndarray::SliceInfo::<_, IxDyn, IxDyn>::try_from(
            items.iter().map(|&(a, b, step)| {
                let (lo, hi) = (a.min(b) as isize, a.max(b) as isize);
                if step > 0 {
                    ndarray::SliceInfoElem::Slice { start: lo, end: Some(hi), step }
                } else {
                    // ndarray's negative steps count from the end of the whole axis, as
                    // NumPy's `..;step` does.
                    ndarray::SliceInfoElem::Slice { start: 0, end: None, step }
                }
            }).collect::<Vec<_>>(),
        ).unwrap());
        if transpose {
            nd = nd.reversed_axes();
        }
        let expected: Vec<i64> = nd.iter().copied().collect();
        let first = if nd.is_empty() { None } else { Some(nd.as_ptr()) };
        let (a, stats) = CopyStats::scope(|| NdArray::from_ndarray(nd).unwrap());
        prop_assert!(stats.is_metadata_only());
        prop_assert_eq!(a.to_vec::<i64>().unwrap(), expected);
        if let Some(p) = first {
            prop_assert_eq!(a.as_ptr(), p.cast::<u8>(), "element zero moved: a copy");
        }
        // And back: the view is the same elements again.
        let back = a.as_ndarray::<i64>().unwrap();
        prop_assert_eq!(back.iter().copied().collect::<Vec<_>>(), a.to_vec::<i64>().unwrap());
    }
}

#[test]
fn writes_cross_in_both_directions() {
    let nd = ndarray::Array2::<f64>::zeros((3, 4));
    let mut a = NdArray::from_ndarray(nd).unwrap();
    a.as_ndarray_mut::<f64>().unwrap()[[2, 1]] = 7.0;
    assert_eq!(a.view::<f64>().unwrap().get(&[2, 1]), Some(&7.0));
    a.slice_mut::<f64>(ndstride::s![.., ..;-1])
        .unwrap()
        .fill(1.0);
    let v = a.as_ndarray::<f64>().unwrap();
    assert!(v.iter().all(|&x| x == 1.0));
    // Through a reversed mutable view: element [0, 0] of the view is a's [0, 3].
    let mut r = a.slice(ndstride::s![.., ..;-1]).unwrap();
    drop(a);
    r.as_ndarray_mut::<f64>().unwrap()[[0, 0]] = 5.0;
    assert_eq!(
        r.base().unwrap().view::<f64>().unwrap().get(&[0, 3]),
        Some(&5.0)
    );
}

#[test]
fn what_ndarray_cannot_express_or_may_not_write_is_an_error() {
    let a = NdArray::from_vec((0..6).map(f64::from).collect(), &[6]).unwrap();
    assert!(a.as_ndarray::<f32>().is_err(), "wrong dtype");
    // A stride of 12 bytes over float64: not a whole number of elements.
    let odd = NdArray::zeros(&[32], DType::U8)
        .unwrap()
        .view_dtype(DType::U8)
        .unwrap();
    let odd = odd.as_strided(&[2], &[3]).unwrap();
    assert!(
        odd.as_ndarray::<u8>().is_ok(),
        "any stride is whole for bytes"
    );
    let f = NdArray::zeros(&[8], DType::F64).unwrap();
    assert!(
        f.as_strided(&[2], &[12])
            .unwrap()
            .as_ndarray::<f64>()
            .is_err()
    );
    // Shared buffers and broadcasts are not writeable.
    let mut shared = a.clone();
    assert!(shared.as_ndarray_mut::<f64>().is_err());
    let mut b = a.broadcast_to(&[3, 6]).unwrap();
    drop(shared);
    assert!(b.as_ndarray_mut::<f64>().is_err());
    let bv = b.as_ndarray::<f64>().unwrap();
    assert_eq!(bv.strides(), &[0, 1]);
    assert_eq!(bv[[2, 5]], 5.0);
}
