//! Chains of metadata operations decoded from bytes, checked against a model that knows no
//! strides: a shape plus the values in C order. Properties: every operation that succeeds
//! yields exactly the model's values; reshape is a view or a copy, never wrong.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndstride::{DType, NdArray, SliceInfo, SliceItem};

fn indices(shape: &[usize]) -> Vec<Vec<usize>> {
    // The crate's C-order index walk (unit-tested on its own); the property checked here is
    // the stride arithmetic of the views, which it does not touch.
    ndstride::iter::IndexIter::new(shape).collect()
}

fn flat(shape: &[usize], idx: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |a, (&i, &d)| a * d + i)
}

fuzz_target!(|data: &[u8]| {
    let Some((&s0, ops)) = data.split_first() else {
        return;
    };
    let shape0 = [
        (s0 % 4) as usize + 1,
        (s0 / 4 % 4) as usize + 1,
        (s0 / 16 % 4) as usize + 1,
    ];
    let n: usize = shape0.iter().product();
    let mut a = NdArray::arange(n, DType::I64)
        .unwrap()
        .reshape(&shape0)
        .unwrap();
    let (mut shape, mut vals): (Vec<usize>, Vec<i64>) = (shape0.to_vec(), (0..n as i64).collect());
    for op in ops.chunks(2).take(8) {
        let (kind, p) = (op[0] % 5, *op.get(1).unwrap_or(&0) as usize);
        let nd = shape.len();
        let (next, model): (NdArray, Vec<i64>) = match kind {
            0 if nd > 0 => {
                let t = a.t();
                let ts: Vec<usize> = shape.iter().rev().cloned().collect();
                let m = indices(&ts)
                    .iter()
                    .map(|i| vals[flat(&shape, &i.iter().rev().cloned().collect::<Vec<_>>())])
                    .collect();
                (t, m)
            }
            1 if nd > 0 => {
                let ax = p % nd;
                let m = indices(&shape)
                    .iter()
                    .map(|i| {
                        let mut j = i.clone();
                        j[ax] = shape[ax] - 1 - i[ax];
                        vals[flat(&shape, &j)]
                    })
                    .collect();
                (a.flip(ax as isize).unwrap(), m)
            }
            2 if nd > 0 => {
                // a[..., start::step] on one axis
                let ax = p % nd;
                let (start, step) = ((p / 8 % 3) as isize, if p & 4 == 0 { 2 } else { -1 });
                let mut items = vec![
                    SliceItem::Slice {
                        start: None,
                        stop: None,
                        step: 1
                    };
                    nd
                ];
                items[ax] = SliceItem::Slice {
                    start: Some(start),
                    stop: None,
                    step,
                };
                let picks: Vec<usize> = if shape[ax] == 0 {
                    vec![]
                } else if step > 0 {
                    (start as usize..shape[ax]).step_by(2).collect()
                } else {
                    (0..=(start as usize).min(shape[ax] - 1)).rev().collect()
                };
                let mut ns = shape.clone();
                ns[ax] = picks.len();
                let m = indices(&ns)
                    .iter()
                    .map(|i| {
                        let mut j = i.clone();
                        j[ax] = picks[i[ax]];
                        vals[flat(&shape, &j)]
                    })
                    .collect();
                (a.slice(SliceInfo::new(items)).unwrap(), m)
            }
            3 => {
                let size = vals.len();
                let d = (1..=size).filter(|d| size % d == 0).nth(p % 3).unwrap_or(1);
                let ns = vec![d, size / d];
                (a.reshape(&ns).unwrap(), vals.clone())
            }
            _ => {
                // broadcast along a new leading axis of length 1..=2
                let k = p % 2 + 1;
                let ns = [vec![k], shape.clone()].concat();
                (
                    a.broadcast_to(&ns).unwrap(),
                    vals.iter().cloned().cycle().take(k * vals.len()).collect(),
                )
            }
        };
        shape = next.shape().to_vec();
        assert_eq!(
            next.to_vec::<i64>().unwrap(),
            model,
            "after op {kind} on {:?}",
            a.shape()
        );
        vals = model;
        a = next;
    }
});
