//! NumPy's internals homework as executable tests: for each operation, the shape, byte
//! strides, offset and flags it produces, whether the result shares memory with its source, and
//! — with the copy counter — how many bytes it copied (zero for metadata-only operations).
//!
//! Expected strides/offsets/flags are NumPy 2.x's values for the same expressions, obtained with
//! `a.strides`, `a.__array_interface__['data'][0] - base_address` and `a.flags`
//! (regenerate with `python3 tests/numpy_reference.py`).

use ndstride::{CopyStats, DType, NdArray, NewAxis, Order, may_share_memory, s, shares_memory};

/// The int8 `np.arange(9).reshape(3, 3)` of the course.
fn a33() -> NdArray {
    NdArray::arange(9, DType::I8)
        .unwrap()
        .reshape(&[3, 3])
        .unwrap()
}

struct Expect<'a> {
    shape: &'a [usize],
    strides: &'a [isize],
    offset: usize,
    c: bool,
    f: bool,
    owndata: bool,
    writeable: bool,
    shares: bool,
    copied: u64,
    values: &'a [i64],
}

#[track_caller]
fn check(name: &str, source: &NdArray, op: impl FnOnce() -> NdArray, e: Expect) {
    let (r, stats) = CopyStats::scope(op);
    assert_eq!(r.shape(), e.shape, "{name}: shape");
    assert_eq!(r.strides(), e.strides, "{name}: strides");
    assert_eq!(r.offset(), e.offset, "{name}: offset");
    let f = r.flags();
    assert_eq!(
        (f.c_contiguous, f.f_contiguous),
        (e.c, e.f),
        "{name}: contiguity flags"
    );
    assert_eq!(f.owndata, e.owndata, "{name}: owndata");
    assert_eq!(f.writeable, e.writeable, "{name}: writeable");
    assert!(f.aligned, "{name}: aligned");
    assert_eq!(shares_memory(source, &r), e.shares, "{name}: shares_memory");
    assert_eq!(stats.bytes_copied, e.copied, "{name}: bytes copied");
    assert_eq!(
        stats.allocations,
        u64::from(e.copied > 0),
        "{name}: allocations"
    );
    let vals: Vec<i64> = r
        .to_vec_f64()
        .unwrap()
        .into_iter()
        .map(|v| v as i64)
        .collect();
    assert_eq!(vals, e.values, "{name}: values");
}

#[test]
fn arange_reshape_is_a_c_contiguous_view() {
    let base = NdArray::arange(9, DType::I8).unwrap();
    check(
        "arange(9).reshape(3,3)",
        &base,
        || base.reshape(&[3, 3]).unwrap(),
        Expect {
            shape: &[3, 3],
            strides: &[3, 1],
            offset: 0,
            c: true,
            f: false,
            owndata: false,
            writeable: true,
            shares: true,
            copied: 0,
            values: &[0, 1, 2, 3, 4, 5, 6, 7, 8],
        },
    );
    assert!(base.flags().owndata);
}

#[test]
fn transpose_swaps_strides_without_copying() {
    let a = a33();
    check(
        "a.T",
        &a,
        || a.t(),
        Expect {
            shape: &[3, 3],
            strides: &[1, 3],
            offset: 0,
            c: false,
            f: true,
            owndata: false,
            writeable: true,
            shares: true,
            copied: 0,
            values: &[0, 3, 6, 1, 4, 7, 2, 5, 8],
        },
    );
    check(
        "a.transpose(1, 0)",
        &a,
        || a.transpose(&[1, 0]).unwrap(),
        Expect {
            shape: &[3, 3],
            strides: &[1, 3],
            offset: 0,
            c: false,
            f: true,
            owndata: false,
            writeable: true,
            shares: true,
            copied: 0,
            values: &[0, 3, 6, 1, 4, 7, 2, 5, 8],
        },
    );
}

#[test]
fn step_slice_doubles_the_row_stride() {
    let a = a33();
    check(
        "a[::2]",
        &a,
        || a.slice(s![..;2]).unwrap(),
        Expect {
            shape: &[2, 3],
            strides: &[6, 1],
            offset: 0,
            c: false,
            f: false,
            owndata: false,
            writeable: true,
            shares: true,
            copied: 0,
            values: &[0, 1, 2, 6, 7, 8],
        },
    );
    check(
        "a[::2] (text)",
        &a,
        || a.slice_str("::2").unwrap(),
        Expect {
            shape: &[2, 3],
            strides: &[6, 1],
            offset: 0,
            c: false,
            f: false,
            owndata: false,
            writeable: true,
            shares: true,
            copied: 0,
            values: &[0, 1, 2, 6, 7, 8],
        },
    );
}

#[test]
fn reversed_columns_have_negative_stride_and_offset_2() {
    let a = a33();
    check(
        "a[:, ::-1]",
        &a,
        || a.slice(s![.., ..;-1]).unwrap(),
        Expect {
            shape: &[3, 3],
            strides: &[3, -1],
            offset: 2,
            c: false,
            f: false,
            owndata: false,
            writeable: true,
            shares: true,
            copied: 0,
            values: &[2, 1, 0, 5, 4, 3, 8, 7, 6],
        },
    );
    check(
        "np.flip(a, 1)",
        &a,
        || a.flip(1).unwrap(),
        Expect {
            shape: &[3, 3],
            strides: &[3, -1],
            offset: 2,
            c: false,
            f: false,
            owndata: false,
            writeable: true,
            shares: true,
            copied: 0,
            values: &[2, 1, 0, 5, 4, 3, 8, 7, 6],
        },
    );
}

#[test]
fn fortran_ordered_4x4() {
    let c = NdArray::arange(16, DType::I8)
        .unwrap()
        .reshape(&[4, 4])
        .unwrap();
    check(
        "np.asfortranarray(a)",
        &c,
        || c.to_contiguous(Order::F),
        Expect {
            shape: &[4, 4],
            strides: &[1, 4],
            offset: 0,
            c: false,
            f: true,
            owndata: true,
            writeable: true,
            shares: false,
            copied: 16,
            values: &(0..16).collect::<Vec<_>>(),
        },
    );
    let f = NdArray::zeros_order(&[4, 4], DType::I8, Order::F).unwrap();
    assert_eq!(f.strides(), &[1, 4]);
    // Already Fortran-contiguous: to_contiguous(F) hands back the same buffer.
    check(
        "np.asfortranarray(f)",
        &f,
        || f.to_contiguous(Order::F),
        Expect {
            shape: &[4, 4],
            strides: &[1, 4],
            offset: 0,
            c: false,
            f: true,
            owndata: true,
            writeable: true,
            shares: true,
            copied: 0,
            values: &[0; 16],
        },
    );
}

#[test]
fn row_and_column_steps() {
    let a = a33();
    check(
        "a[1:, ::2]",
        &a,
        || a.slice(s![1.., ..;2]).unwrap(),
        Expect {
            shape: &[2, 2],
            strides: &[3, 2],
            offset: 3,
            c: false,
            f: false,
            owndata: false,
            writeable: true,
            shares: true,
            copied: 0,
            values: &[3, 5, 6, 8],
        },
    );
    check(
        "a[1:, ::2] (text)",
        &a,
        || a.slice_str("1:, ::2").unwrap(),
        Expect {
            shape: &[2, 2],
            strides: &[3, 2],
            offset: 3,
            c: false,
            f: false,
            owndata: false,
            writeable: true,
            shares: true,
            copied: 0,
            values: &[3, 5, 6, 8],
        },
    );
}

#[test]
fn broadcast_row_has_zero_stride_and_is_read_only() {
    let row = NdArray::arange(3, DType::I8).unwrap();
    check(
        "np.broadcast_to(row, (4, 3))",
        &row,
        || row.broadcast_to(&[4, 3]).unwrap(),
        Expect {
            shape: &[4, 3],
            strides: &[0, 1],
            offset: 0,
            c: false,
            f: false,
            owndata: false,
            writeable: false,
            shares: true,
            copied: 0,
            values: &[0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2],
        },
    );
    let a = a33();
    check(
        "a[None]",
        &a,
        || a.slice(s![NewAxis]).unwrap(),
        Expect {
            shape: &[1, 3, 3],
            strides: &[0, 3, 1],
            offset: 0,
            c: true,
            f: false,
            owndata: false,
            writeable: true,
            shares: true,
            copied: 0,
            values: &[0, 1, 2, 3, 4, 5, 6, 7, 8],
        },
    );
    check(
        "np.expand_dims(a, 0)",
        &a,
        || a.expand_dims(0).unwrap(),
        Expect {
            shape: &[1, 3, 3],
            strides: &[9, 3, 1],
            offset: 0,
            c: true,
            f: false,
            owndata: false,
            writeable: true,
            shares: true,
            copied: 0,
            values: &[0, 1, 2, 3, 4, 5, 6, 7, 8],
        },
    );
}

#[test]
fn reshaping_a_transpose() {
    let a = a33();
    let t = a.t();
    // Same shape: NumPy's no-copy rule keeps the view.
    check(
        "a.T.reshape(3, 3)",
        &a,
        || t.reshape(&[3, 3]).unwrap(),
        Expect {
            shape: &[3, 3],
            strides: &[1, 3],
            offset: 0,
            c: false,
            f: true,
            owndata: false,
            writeable: true,
            shares: true,
            copied: 0,
            values: &[0, 3, 6, 1, 4, 7, 2, 5, 8],
        },
    );
    // Flattening a transpose must copy: 9 bytes.
    check(
        "a.T.reshape(9)",
        &a,
        || t.reshape(&[9]).unwrap(),
        Expect {
            shape: &[9],
            strides: &[1],
            offset: 0,
            c: true,
            f: true,
            owndata: false,
            writeable: true,
            shares: false,
            copied: 9,
            values: &[0, 3, 6, 1, 4, 7, 2, 5, 8],
        },
    );
    assert!(t.reshape_view(&[9]).is_err());
    // ...but a Fortran-order reshape of the transpose is a view.
    let (v, stats) = CopyStats::scope(|| t.reshape_order(&[9], Order::F).unwrap());
    assert!(stats.is_metadata_only() && shares_memory(&a, &v));
    assert_eq!(v.strides(), &[1]);
    // ravel is a view when it can be and a copy otherwise; flatten always copies.
    let (r, stats) = CopyStats::scope(|| a.ravel().unwrap());
    assert!(stats.is_metadata_only() && shares_memory(&a, &r));
    let (r, stats) = CopyStats::scope(|| a.flatten().unwrap());
    assert_eq!(stats.bytes_copied, 9);
    assert!(!shares_memory(&a, &r));
}

#[test]
fn transposed_to_contiguous_copies_once() {
    let a = NdArray::arange(12, DType::F64)
        .unwrap()
        .reshape(&[3, 4])
        .unwrap();
    let (c, stats) = CopyStats::scope(|| a.t().to_contiguous(Order::C));
    assert_eq!(
        stats,
        CopyStats {
            allocations: 1,
            bytes_allocated: 96,
            bytes_copied: 96
        }
    );
    assert_eq!(c.strides(), &[24, 8]);
    assert_eq!(
        c.to_vec::<f64>().unwrap(),
        vec![0., 4., 8., 1., 5., 9., 2., 6., 10., 3., 7., 11.]
    );
    // Already contiguous: same buffer, nothing copied.
    let (same, stats) = CopyStats::scope(|| a.to_contiguous(Order::C));
    assert!(stats.is_metadata_only() && shares_memory(&a, &same));
}

#[test]
fn more_metadata_only_operations() {
    let x = NdArray::arange(24, DType::I32)
        .unwrap()
        .reshape(&[2, 3, 4])
        .unwrap();
    let (out, stats) = CopyStats::scope(|| {
        vec![
            x.swapaxes(0, 2).unwrap(),
            x.moveaxis(0, -1).unwrap(),
            x.diagonal(0, 1, 2).unwrap(),
            x.slice(s![.., 1..2, ..]).unwrap().squeeze(None).unwrap(),
            x.view_dtype(DType::I16).unwrap(),
            x.as_strided(&[3, 2], &[4, 8]).unwrap(),
        ]
    });
    assert!(stats.is_metadata_only());
    assert!(out.iter().all(|o| shares_memory(&x, o)));
    // NumPy: x.swapaxes(0, 2).strides == (4, 16, 48); x.diagonal(0, 1, 2).strides == (48, 20)
    assert_eq!(out[0].strides(), &[4, 16, 48]);
    assert_eq!(out[1].strides(), &[16, 4, 48]);
    assert_eq!(
        (out[2].shape(), out[2].strides()),
        (&[2usize, 3][..], &[48isize, 20][..])
    );
    assert!(
        !out[2].flags().writeable,
        "diagonal is read-only as in NumPy"
    );
    assert_eq!(
        (out[3].shape(), out[3].strides(), out[3].offset()),
        (&[2usize, 4][..], &[48isize, 4][..], 16)
    );
    assert_eq!(
        (out[4].shape(), out[4].strides()),
        (&[2usize, 3, 8][..], &[48isize, 16, 2][..])
    );
    assert_eq!(out[5].to_vec::<i32>().unwrap(), vec![0, 2, 1, 3, 2, 4]);
}

#[test]
fn writes_through_a_mutable_slice_reach_the_parent() {
    let mut a = NdArray::arange(6, DType::I64).unwrap();
    a.slice_mut(s![..;2]).unwrap().fill(0i64);
    assert_eq!(a.to_vec::<i64>().unwrap(), vec![0, 1, 0, 3, 0, 5]);
    {
        let mut v = a.view_mut::<i64>().unwrap();
        let mut rev = v.slice_mut(&s![..;-1]).unwrap();
        *rev.get_mut(&[0]).unwrap() = 42; // the last element of `a`
    }
    assert_eq!(a.to_vec::<i64>().unwrap(), vec![0, 1, 0, 3, 0, 42]);

    // While another handle shares the buffer, writing is refused rather than racing it.
    let other = a.slice(s![1..]).unwrap();
    let err = a.view_mut::<i64>().unwrap_err().to_string();
    assert!(err.contains("shared by 2"), "{err}");
    drop(other);
    assert!(a.view_mut::<i64>().is_ok());

    // Broadcast views are read-only; the wrong element type is an error, not a reinterpretation.
    let mut b = a.broadcast_to(&[2, 6]).unwrap();
    assert!(b.view_mut::<i64>().is_err());
    assert!(a.view::<f64>().is_err());
}

#[test]
fn may_share_memory_is_extent_based() {
    let x = NdArray::zeros(&[10, 10], DType::F64).unwrap();
    let even = x.slice(s![.., ..;2]).unwrap();
    let odd = x.slice(s![.., 1..;2]).unwrap();
    assert!(may_share_memory(&even, &odd));
    assert!(!shares_memory(&even, &odd));
    let other = NdArray::zeros(&[10, 10], DType::F64).unwrap();
    assert!(!may_share_memory(&x, &other));
}

#[test]
fn base_and_views() {
    let a = NdArray::arange(9, DType::I8).unwrap();
    assert!(!a.is_view() && a.base().is_none());
    let v = a.reshape(&[3, 3]).unwrap().t().slice(s![1]).unwrap();
    assert!(v.is_view());
    let base = v.base().unwrap();
    assert_eq!(
        (base.shape(), base.strides()),
        (&[9usize][..], &[1isize][..])
    );
    assert!(
        a.info()
            .starts_with("{'shape': (9,), 'strides': (1,), 'dtype': int8, 'ndim': 1, 'offset': 0")
    );
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let a = a33();
    assert!(
        a.as_strided(&[3, 3], &[3, 2]).is_err(),
        "reaches byte 10 of a 9-byte buffer"
    );
    assert!(a.as_strided_at(&[1], &[1], -1).is_err());
    assert!(a.as_strided(&[2], &[1, 1]).is_err());
    assert!(a.reshape(&[4, 2]).is_err());
    assert!(a.transpose(&[0, 0]).is_err());
    assert!(a.swapaxes(0, 2).is_err());
    assert!(a.slice(s![5]).is_err());
    assert!(a.slice_str("1:2:0").is_err());
    assert!(a.broadcast_to(&[3]).is_err());
    assert!(NdArray::zeros(&[usize::MAX, 2], DType::F64).is_err());
    assert!(NdArray::from_vec(vec![1i32, 2, 3], &[2, 2]).is_err());
    let e = NdArray::broadcast_arrays(&[&a, &NdArray::arange(5, DType::I8).unwrap()]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "operands could not be broadcast together with shapes (3,3) (5,)"
    );
    // An overlapping as_strided view is allowed for reading but is read-only.
    let mut w = a.as_strided(&[4, 3], &[1, 1]).unwrap();
    assert!(!w.flags().writeable);
    assert!(w.view_mut::<i8>().is_err());
}

#[test]
fn huge_broadcast_views_fail_cleanly_when_materialised() {
    // 2^62 logical elements over one 8-byte buffer: fine as a view, too big to copy.
    let one = NdArray::full::<f64>(&[1], 1.0).unwrap();
    let huge = one.broadcast_to(&[1 << 31, 1 << 31]).unwrap();
    assert_eq!(huge.size(), 1 << 62);
    assert!(huge.to_vec::<f64>().is_err());
    assert!(huge.to_vec_f64().is_err());
    assert!(huge.view::<f64>().unwrap().to_vec().is_err());
    assert!(huge.copy().is_err());
    assert!(huge.try_to_contiguous(Order::C).is_err());
    assert!(huge.add(&one).is_err());
    assert!(huge.astype(DType::F32).is_err());
}

#[test]
fn absurd_ndim_is_an_error() {
    // NumPy 2 allows 64 axes; so do we, and say so past that.
    assert!(NdArray::zeros(&[1; 64], DType::U8).is_ok());
    let e = NdArray::zeros(&[1; 65], DType::U8).unwrap_err().to_string();
    assert_eq!(
        e,
        "maximum supported dimension for an ndarray is currently 64, found 65"
    );
    let a = NdArray::zeros(&[1; 64], DType::U8).unwrap();
    assert!(a.expand_dims(0).is_err());
    assert!(
        a.slice(ndstride::SliceInfo::new(vec![ndstride::SliceItem::NewAxis]))
            .is_err()
    );
    // A million axes natively; Miri would take minutes to interpret the shape arithmetic.
    if !cfg!(miri) {
        assert!(NdArray::zeros(&[1; 1_000_000], DType::U8).is_err());
    }
}
