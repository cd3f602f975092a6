//! Binary ufuncs and reductions on arbitrary small operands: any dtype pair, any shapes
//! (broadcastable or not), any layout (C, Fortran, reversed, stepped slice, broadcast view),
//! values with NaN/±inf/extremes. Properties:
//! - `binary` fails exactly when it fails on contiguous copies of the operands, and otherwise
//!   equals, element by element, the same ufunc applied to the two 0-d elements that
//!   broadcasting pairs at that index (the strided engine against no engine at all);
//! - `a[dst] op= view of a` (apply_within) equals the result computed on copies first;
//! - a reduction of a view equals the reduction of its contiguous copy (exactly for integer,
//!   min/max/arg and any/all reductions; to rounding for float sums, whose pairwise order
//!   follows the layout), and fails exactly when that does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndstride::ufunc::{BinaryOp, ReduceOp, binary, reduce};
use ndstride::{DType, NdArray, SliceInfo, SliceItem};

fn value(b: u8) -> f64 {
    match b {
        250 => f64::NAN,
        251 => f64::INFINITY,
        252 => f64::NEG_INFINITY,
        253 => 1e300,
        254 => -3e9,
        _ => (b as f64 - 100.0) / 4.0,
    }
}

/// NaN equals NaN; everything else compares as f64 (both sides convert the same way).
fn same(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// An operand of `shape` in one of five layouts, values taken from `bytes`.
fn operand(shape: &[usize], dtype: DType, layout: u8, bytes: &[u8]) -> Option<NdArray> {
    let n: usize = shape.iter().product();
    let vals: Vec<f64> = bytes.iter().map(|&b| value(b)).cycle().take(n).collect();
    if vals.len() < n {
        return None;
    }
    let c = NdArray::from_vec(vals, shape).ok()?.astype(dtype).ok()?;
    let nd = shape.len() as isize;
    Some(match layout % 5 {
        0 => c,
        1 => c.t().copy().ok()?.t(), // Fortran order
        2 if nd > 0 => c.flip(0).ok()?.copy().ok()?.flip(0).ok()?, // negative stride
        3 if nd > 0 => {
            // Every other element of an array whose last axis is twice as long; the skipped
            // ones hold a marker value.
            let mut wide = shape.to_vec();
            *wide.last_mut()? *= 2;
            let wide_vals: Vec<f64> = c
                .to_vec_f64()
                .ok()?
                .into_iter()
                .flat_map(|v| [v, 7.0])
                .collect();
            let big = NdArray::from_vec(wide_vals, &wide)
                .ok()?
                .astype(dtype)
                .ok()?;
            let items = vec![
                SliceItem::Ellipsis,
                SliceItem::Slice {
                    start: None,
                    stop: None,
                    step: 2,
                },
            ];
            big.slice(SliceInfo::new(items)).ok()?
        }
        4 if shape.iter().any(|&s| s > 1) => {
            // A broadcast view: one axis of length 1 stretched with stride 0.
            let k = shape.iter().position(|&s| s > 1)?;
            let mut items = vec![
                SliceItem::Slice {
                    start: None,
                    stop: None,
                    step: 1
                };
                shape.len()
            ];
            items[k] = SliceItem::Slice {
                start: Some(0),
                stop: Some(1),
                step: 1,
            };
            c.slice(SliceInfo::new(items))
                .ok()?
                .broadcast_to(shape)
                .ok()?
        }
        _ => c,
    })
}

fn shape_of(b: u8, nd: usize) -> Vec<usize> {
    // Sizes 0..=3 with 1 common (so that broadcasting succeeds often).
    (0..nd)
        .map(|i| [1, 2, 3, 1, 0, 2, 1, 3][(b as usize >> (3 * i)) % 8])
        .collect()
}

fn element(a: &NdArray, idx: &[usize]) -> NdArray {
    // The element that broadcasting pairs with output index `idx` (trailing alignment,
    // length-1 axes repeat).
    let off = idx.len() - a.ndim();
    let items = a
        .shape()
        .iter()
        .enumerate()
        .map(|(k, &s)| SliceItem::Index(if s == 1 { 0 } else { idx[off + k] as isize }))
        .collect();
    a.slice(SliceInfo::new(items)).expect("an in-bounds index")
}

const DTYPES: [DType; 8] = [
    DType::F64,
    DType::F32,
    DType::I64,
    DType::I32,
    DType::I8,
    DType::U8,
    DType::U16,
    DType::Bool,
];

const REDUCTIONS: [ReduceOp; 9] = [
    ReduceOp::Sum,
    ReduceOp::Prod,
    ReduceOp::Min,
    ReduceOp::Max,
    ReduceOp::Mean,
    ReduceOp::Any,
    ReduceOp::All,
    ReduceOp::ArgMin,
    ReduceOp::ArgMax,
];

fuzz_target!(|data: &[u8]| {
    if data.len() < 10 {
        return;
    }
    let (nda, ndb) = (data[0] as usize % 4, data[1] as usize % 4);
    let (sa, sb) = (shape_of(data[2], nda), shape_of(data[3], ndb));
    let (ta, tb) = (DTYPES[data[4] as usize % 8], DTYPES[data[5] as usize % 8]);
    let op = BinaryOp::ALL[data[6] as usize % BinaryOp::ALL.len()];
    let (la, lb) = (data[7], data[7] / 5);
    let red = REDUCTIONS[data[8] as usize % REDUCTIONS.len()];
    let axes_bits = data[9];
    let vals = &data[10..];
    let (Some(a), Some(b)) = (
        operand(&sa, ta, la, vals),
        operand(&sb, tb, lb, &vals[vals.len() / 2..]),
    ) else {
        return;
    };

    // Binary: strided/broadcast engine vs contiguous copies vs one element at a time.
    let got = binary(op, &a, &b);
    let reference = binary(op, &a.copy().unwrap(), &b.copy().unwrap());
    match (&got, &reference) {
        (Ok(g), Ok(r)) => {
            assert_eq!(g.shape(), r.shape());
            assert_eq!(g.dtype(), r.dtype());
            let (gv, rv) = (g.to_vec_f64().unwrap(), r.to_vec_f64().unwrap());
            let idx: Vec<Vec<usize>> = ndstride::iter::IndexIter::new(g.shape()).collect();
            for (k, i) in idx.iter().enumerate() {
                assert!(
                    same(gv[k], rv[k]),
                    "{op:?} {ta}/{tb} at {i:?}: {} vs copies {}",
                    gv[k],
                    rv[k]
                );
                let one = binary(op, &element(&a, i), &element(&b, i)).unwrap();
                let ov = one.to_vec_f64().unwrap()[0];
                assert!(
                    same(gv[k], ov),
                    "{op:?} {ta}/{tb} at {i:?}: {} vs elementwise {ov}",
                    gv[k]
                );
            }
        }
        (Err(_), Err(_)) => {}
        (g, r) => panic!(
            "{op:?}: strided {:?} vs contiguous {:?}",
            g.as_ref().err(),
            r.as_ref().err()
        ),
    }

    // In place with an aliasing right-hand side: a op= a.T (or a reversed view of itself).
    if nda > 0 {
        let mut owner = a.copy().unwrap();
        let rhs = if la % 2 == 0 {
            owner.t()
        } else {
            owner.flip(0).unwrap()
        };
        let expected = binary(op, &owner.copy().unwrap(), &rhs.copy().unwrap());
        let res = owner.apply_within(op, SliceInfo::default(), rhs);
        if res.is_ok() {
            assert!(
                expected.is_ok(),
                "{op:?} in place succeeded where the copies fail"
            );
        }
        if let (Ok(()), Ok(e)) = (&res, &expected)
            && e.dtype() == owner.dtype()
            && e.shape() == owner.shape()
        {
            let (o, e) = (owner.to_vec_f64().unwrap(), e.to_vec_f64().unwrap());
            for (x, y) in o.iter().zip(&e) {
                assert!(
                    same(*x, *y),
                    "{op:?} in place over an aliasing view: {x} vs {y}"
                );
            }
        }
    }

    // Reductions of the view against those of its contiguous copy.
    let axes: Vec<isize> = (0..nda as isize)
        .filter(|k| axes_bits >> k & 1 == 1)
        .collect();
    let axes = if axes_bits & 0x80 != 0 {
        None
    } else {
        Some(&axes[..])
    };
    let keep = axes_bits & 0x40 != 0;
    let got = reduce(red, &a, axes, keep);
    let reference = reduce(red, &a.copy().unwrap(), axes, keep);
    match (&got, &reference) {
        (Ok(g), Ok(r)) => {
            assert_eq!(g.shape(), r.shape(), "{red:?} {axes:?}");
            assert_eq!(g.dtype(), r.dtype());
            let exact = !(g.dtype().is_float()
                && matches!(red, ReduceOp::Sum | ReduceOp::Prod | ReduceOp::Mean));
            // Float sums and products follow the layout's order: allow rounding of the size
            // of eps · (number of terms) · (the largest term), and any non-finite result
            // (overflow, or inf·0, depends on the order too).
            let eps = if g.dtype() == DType::F32 {
                f32::EPSILON as f64
            } else {
                f64::EPSILON
            };
            let av = a.astype(g.dtype()).unwrap().to_vec_f64().unwrap();
            let biggest = av
                .iter()
                .filter(|v| v.is_finite())
                .fold(1.0f64, |m, v| m.max(v.abs()));
            let tol = 4.0 * eps * av.len().max(1) as f64 * biggest;
            for (x, y) in g.to_vec_f64().unwrap().iter().zip(r.to_vec_f64().unwrap()) {
                let ok = if exact {
                    same(*x, y)
                } else if red == ReduceOp::Prod {
                    !x.is_finite()
                        || !y.is_finite()
                        || (x - y).abs() <= 64.0 * eps * x.abs().max(y.abs())
                } else {
                    !x.is_finite() || !y.is_finite() || (x - y).abs() <= tol
                };
                assert!(ok, "{red:?} {ta} axes {axes:?}: view {x} vs copy {y}");
            }
        }
        (Err(_), Err(_)) => {}
        (g, r) => panic!(
            "{red:?}: view {:?} vs copy {:?}",
            g.as_ref().err(),
            r.as_ref().err()
        ),
    }
});
