//! Property tests of the array core against a naive model that knows nothing of strides:
//! a logical array is a shape plus its values in C order, and every operation is defined by
//! which source index each result index reads.

use std::collections::HashSet;

use ndstride::{
    CopyStats, DType, NdArray, NewAxis, Order, SliceInfo, SliceItem, may_share_memory,
    shares_memory,
};
use proptest::prelude::*;

mod common;
use common::{all_indices, flat};

/// The naive model: shape + values in C order.
#[derive(Clone, Debug, PartialEq)]
struct Model {
    shape: Vec<usize>,
    vals: Vec<i64>,
}

impl Model {
    /// Builds the result of an operation from "result index -> source index".
    fn map(&self, shape: Vec<usize>, src: impl Fn(&[usize]) -> Vec<usize>) -> Model {
        let vals = all_indices(&shape)
            .iter()
            .map(|i| self.vals[flat(&self.shape, &src(i))])
            .collect();
        Model { shape, vals }
    }
}

/// Python's `range(*slice(start, stop, step).indices(n))`, written as the naive loop.
fn python_slice(n: usize, start: Option<isize>, stop: Option<isize>, step: isize) -> Vec<usize> {
    let n = n as isize;
    let norm = |v: isize| if v < 0 { v + n } else { v };
    let mut out = vec![];
    if step > 0 {
        let mut i = start.map(norm).unwrap_or(0).max(0);
        let end = stop.map(norm).unwrap_or(n).min(n);
        while i < end {
            out.push(i as usize);
            i += step;
        }
    } else {
        let mut i = start.map(norm).unwrap_or(n - 1).min(n - 1);
        let end = stop.map(norm).unwrap_or(-1).max(-1);
        while i > end {
            if i >= 0 {
                out.push(i as usize);
            }
            i += step;
        }
    }
    out
}

/// One step of a random chain; parameters are interpreted against the current shape.
#[derive(Clone, Debug)]
enum Op {
    Transpose(u64),
    Slice(Vec<(u8, i8, i8, i8)>),
    Reshape(u64),
    Broadcast(u8, u8),
    Flip(u8),
    Swap(u8, u8),
    Squeeze,
    ExpandDims(u8),
    Copy(bool),
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u64>().prop_map(Op::Transpose),
        prop::collection::vec((0u8..10, -5i8..6, -5i8..6, -3i8..4), 0..4).prop_map(Op::Slice),
        any::<u64>().prop_map(Op::Reshape),
        (0u8..4, 1u8..4).prop_map(|(a, b)| Op::Broadcast(a, b)),
        any::<u8>().prop_map(Op::Flip),
        (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Swap(a, b)),
        Just(Op::Squeeze),
        any::<u8>().prop_map(Op::ExpandDims),
        any::<bool>().prop_map(Op::Copy),
    ]
}

/// Random factorisation of `size` into up to 4 factors (with some 1s).
fn random_shape_of(size: usize, mut seed: u64) -> Vec<usize> {
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let ndim = next() % 4 + 1;
    if size == 0 {
        let mut s: Vec<usize> = (0..ndim).map(|_| next() % 3).collect();
        s[next() % ndim] = 0;
        return s;
    }
    let mut rest = size;
    let mut shape = vec![];
    for _ in 0..ndim - 1 {
        let divs: Vec<usize> = (1..=rest).filter(|d| rest.is_multiple_of(*d)).collect();
        let d = divs[next() % divs.len()];
        shape.push(d);
        rest /= d;
    }
    shape.push(rest);
    shape
}

fn apply(a: &NdArray, m: &Model, op: &Op) -> Option<(NdArray, Model)> {
    let nd = m.shape.len();
    Some(match op {
        Op::Transpose(seed) => {
            let mut axes: Vec<usize> = (0..nd).collect();
            let mut s = *seed;
            for i in (1..nd).rev() {
                axes.swap(i, (s % (i as u64 + 1)) as usize);
                s /= i as u64 + 1;
            }
            let ax: Vec<isize> = axes.iter().map(|&x| x as isize).collect();
            let shape: Vec<usize> = axes.iter().map(|&x| m.shape[x]).collect();
            let model = m.map(shape, |i| {
                let mut src = vec![0; nd];
                for (k, &x) in axes.iter().enumerate() {
                    src[x] = i[k];
                }
                src
            });
            (a.transpose(&ax).unwrap(), model)
        }
        Op::Slice(items) => {
            // Build NumPy items and the model's per-axis index lists side by side.
            let mut info = vec![];
            let mut picks: Vec<Option<Vec<usize>>> = vec![]; // None = new axis
            let mut axis = 0;
            let mut fixed: Vec<(usize, usize)> = vec![]; // (axis, index) for integer indices
            for &(kind, p, q, st) in items {
                if kind == 9 {
                    info.push(SliceItem::NewAxis);
                    picks.push(None);
                    continue;
                }
                if axis >= nd {
                    break;
                }
                let n = m.shape[axis];
                if kind == 8 && n > 0 {
                    let i = (p as isize).rem_euclid(n as isize);
                    let i = if q < 0 { i - n as isize } else { i }; // sometimes a negative index
                    info.push(SliceItem::Index(i));
                    fixed.push((axis, i.rem_euclid(n as isize) as usize));
                } else {
                    let step = if st == 0 { 1 } else { st as isize };
                    let start = (kind % 2 == 0).then_some(p as isize);
                    let stop = (kind % 3 == 0).then_some(q as isize);
                    info.push(SliceItem::Slice { start, stop, step });
                    picks.push(Some(python_slice(n, start, stop, step)));
                    let _ = &picks;
                    // remember which axis this pick belongs to
                    fixed.push((axis, usize::MAX));
                }
                axis += 1;
            }
            let got = a.slice(SliceInfo::new(info)).unwrap();
            // Model: walk items again to map result index -> source index.
            let slice_axes: Vec<usize> = fixed
                .iter()
                .filter(|f| f.1 == usize::MAX)
                .map(|f| f.0)
                .collect();
            let ints: Vec<(usize, usize)> = fixed
                .iter()
                .filter(|f| f.1 != usize::MAX)
                .copied()
                .collect();
            let mut shape = vec![];
            let mut which = vec![]; // for each result axis: Some(k) = k-th slice pick, None = new axis
            let mut k = 0;
            for p in &picks {
                match p {
                    Some(v) => {
                        shape.push(v.len());
                        which.push(Some(k));
                        k += 1;
                    }
                    None => {
                        shape.push(1);
                        which.push(None);
                    }
                }
            }
            let rest: Vec<usize> = (axis..nd).collect();
            for &r in &rest {
                shape.push(m.shape[r]);
            }
            let picks_only: Vec<Vec<usize>> = picks.iter().flatten().cloned().collect();
            let model = m.map(shape, |i| {
                let mut src = vec![0; nd];
                for &(ax, v) in &ints {
                    src[ax] = v;
                }
                for (pos, w) in which.iter().enumerate() {
                    if let Some(k) = w {
                        src[slice_axes[*k]] = picks_only[*k][i[pos]];
                    }
                }
                for (j, &r) in rest.iter().enumerate() {
                    src[r] = i[which.len() + j];
                }
                src
            });
            (got, model)
        }
        Op::Reshape(seed) => {
            let size = m.vals.len();
            let shape = random_shape_of(size, *seed);
            let model = Model {
                shape: shape.clone(),
                vals: m.vals.clone(),
            };
            (a.reshape(&shape).unwrap(), model)
        }
        Op::Broadcast(kind, k) => {
            let k = *k as usize;
            // Either a new leading axis of length k, or a stretched length-1 axis.
            let target: Vec<usize> = match m.shape.iter().position(|&d| d == 1) {
                Some(pos) if kind % 2 == 0 => {
                    let mut t = m.shape.clone();
                    t[pos] = k;
                    t
                }
                _ => [vec![k], m.shape.clone()].concat(),
            };
            let lead = target.len() - nd;
            let model = m.map(target.clone(), |i| {
                (0..nd)
                    .map(|ax| if m.shape[ax] == 1 { 0 } else { i[lead + ax] })
                    .collect()
            });
            (a.broadcast_to(&target).unwrap(), model)
        }
        Op::Flip(ax) => {
            if nd == 0 {
                return None;
            }
            let ax = *ax as usize % nd;
            let model = m.map(m.shape.clone(), |i| {
                let mut s = i.to_vec();
                s[ax] = m.shape[ax] - 1 - i[ax];
                s
            });
            (a.flip(ax as isize).unwrap(), model)
        }
        Op::Swap(x, y) => {
            if nd == 0 {
                return None;
            }
            let (x, y) = (*x as usize % nd, *y as usize % nd);
            let mut shape = m.shape.clone();
            shape.swap(x, y);
            let model = m.map(shape, |i| {
                let mut s = i.to_vec();
                s.swap(x, y);
                s
            });
            (a.swapaxes(x as isize, y as isize).unwrap(), model)
        }
        Op::Squeeze => {
            let keep: Vec<usize> = (0..nd).filter(|&x| m.shape[x] != 1).collect();
            let shape: Vec<usize> = keep.iter().map(|&x| m.shape[x]).collect();
            let model = m.map(shape, |i| {
                let mut s = vec![0; nd];
                for (k, &x) in keep.iter().enumerate() {
                    s[x] = i[k];
                }
                s
            });
            (a.squeeze(None).unwrap(), model)
        }
        Op::ExpandDims(ax) => {
            let ax = *ax as usize % (nd + 1);
            let mut shape = m.shape.clone();
            shape.insert(ax, 1);
            let model = Model {
                shape,
                vals: m.vals.clone(),
            };
            (a.expand_dims(ax as isize).unwrap(), model)
        }
        Op::Copy(fortran) => {
            let order = if *fortran { Order::F } else { Order::C };
            let c = a.to_contiguous(order);
            (c, m.clone())
        }
    })
}

/// Byte positions (relative to the buffer) of every element, in C order.
fn addresses(a: &NdArray) -> Vec<isize> {
    all_indices(a.shape())
        .iter()
        .map(|i| {
            a.offset() as isize
                + i.iter()
                    .zip(a.strides())
                    .map(|(&x, &s)| x as isize * s)
                    .sum::<isize>()
        })
        .collect()
}

/// Absolute addresses of every byte of every element (so arrays in different buffers never meet).
fn byte_set(a: &NdArray) -> HashSet<usize> {
    fn typed<T: ndstride::Element>(a: &NdArray) -> Vec<usize> {
        let v = a.view::<T>().unwrap();
        all_indices(a.shape())
            .iter()
            .map(|i| v.get(i).unwrap() as *const T as usize)
            .collect()
    }
    let starts = match a.dtype() {
        DType::I64 => typed::<i64>(a),
        DType::I32 => typed::<i32>(a),
        DType::U8 => typed::<u8>(a),
        d => panic!("unexpected dtype {d}"),
    };
    starts
        .into_iter()
        .flat_map(|p| (0..a.itemsize()).map(move |k| p + k))
        .collect()
}

/// Can some strides read the elements of `a` in C order as `shape`? (Brute force.)
fn view_possible(a: &NdArray, shape: &[usize]) -> bool {
    let addr = addresses(a);
    if addr.is_empty() {
        return true;
    }
    let idx = all_indices(shape);
    let mut strides = vec![0isize; shape.len()];
    for ax in 0..shape.len() {
        if shape[ax] > 1 {
            let mut e = vec![0; shape.len()];
            e[ax] = 1;
            strides[ax] = addr[flat(shape, &e)] - addr[0];
        }
    }
    idx.iter().enumerate().all(|(f, i)| {
        addr[f]
            == addr[0]
                + i.iter()
                    .zip(&strides)
                    .map(|(&x, &s)| x as isize * s)
                    .sum::<isize>()
    })
}

fn start_array(shape: &[usize], fortran: bool) -> (NdArray, Model) {
    let n: usize = shape.iter().product();
    let vals: Vec<i64> = (0..n as i64).map(|v| v * 7 + 3).collect();
    let a = NdArray::from_vec(vals.clone(), shape).unwrap();
    let a = if fortran {
        a.to_contiguous(Order::F)
    } else {
        a
    };
    (
        a,
        Model {
            shape: shape.to_vec(),
            vals,
        },
    )
}

fn shape_strategy() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0usize..5, 0..4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: if cfg!(miri) { 4 } else { 3000 }, ..ProptestConfig::default() })]

    #[test]
    fn chains_of_views_read_what_the_index_model_predicts(
        shape in shape_strategy(), fortran in any::<bool>(), ops in prop::collection::vec(op_strategy(), 1..6)
    ) {
        let (mut a, mut m) = start_array(&shape, fortran);
        for op in &ops {
            let Some((na, nm)) = apply(&a, &m, op) else { continue };
            a = na;
            m = nm;
            prop_assert_eq!(a.shape(), &m.shape[..], "after {:?}", op);
            // Element by element through a typed view...
            let v = a.view::<i64>().unwrap();
            for (k, idx) in all_indices(&m.shape).iter().enumerate() {
                prop_assert_eq!(*v.get(idx).unwrap(), m.vals[k], "index {:?} after {:?}", idx, op);
            }
            // ...and through the copy engine.
            prop_assert_eq!(a.to_vec::<i64>().unwrap(), m.vals.clone());
            // Flags against the brute-force definition of contiguity.
            let addr = addresses(&a);
            let c_brute = addr.windows(2).all(|w| w[1] - w[0] == 8);
            prop_assert_eq!(a.flags().c_contiguous, c_brute || addr.len() <= 1);
        }
    }

    #[test]
    fn reshape_is_a_view_exactly_when_one_exists(
        shape in shape_strategy(), fortran in any::<bool>(), ops in prop::collection::vec(op_strategy(), 0..4), seed in any::<u64>()
    ) {
        let (mut a, mut m) = start_array(&shape, fortran);
        for op in &ops {
            if let Some((na, nm)) = apply(&a, &m, op) { a = na; m = nm; }
        }
        let new_shape = random_shape_of(a.size(), seed);
        let (r, stats) = CopyStats::scope(|| a.reshape(&new_shape).unwrap());
        let is_view = stats.is_metadata_only();
        prop_assert_eq!(is_view, view_possible(&a, &new_shape), "{:?} {:?} -> {:?}", a.shape(), a.strides(), new_shape);
        prop_assert_eq!(is_view, a.reshape_view(&new_shape).is_ok());
        prop_assert_eq!(r.to_vec::<i64>().unwrap(), m.vals);
        if a.size() > 0 {
            prop_assert_eq!(shares_memory(&a, &r), is_view);
        }
    }

    #[test]
    fn shares_memory_matches_byte_sets(
        shape in prop::collection::vec(1usize..5, 1..4),
        ops1 in prop::collection::vec(op_strategy(), 0..4),
        ops2 in prop::collection::vec(op_strategy(), 0..4),
        dt in 0usize..3,
    ) {
        let (base, m0) = start_array(&shape, false);
        let (mut a, mut ma) = (base.clone(), m0.clone());
        let (mut b, mut mb) = (base.clone(), m0);
        for op in ops1.iter().filter(|o| !matches!(o, Op::Copy(_))) {
            if let Some((x, y)) = apply(&a, &ma, op) { a = x; ma = y; }
        }
        for op in ops2.iter().filter(|o| !matches!(o, Op::Copy(_))) {
            if let Some((x, y)) = apply(&b, &mb, op) { b = x; mb = y; }
        }
        // Reinterpret one side with a smaller item size when its last axis allows it.
        if dt > 0 {
            let t = if dt == 1 { DType::I32 } else { DType::U8 };
            if let Ok(v) = b.view_dtype(t) { b = v; }
        }
        let brute = !byte_set(&a).is_disjoint(&byte_set(&b));
        prop_assert_eq!(shares_memory(&a, &b), brute, "{:?}/{:?} vs {:?}/{:?}", a.shape(), a.strides(), b.shape(), b.strides());
        prop_assert!(may_share_memory(&a, &b) || !brute);
    }

    #[test]
    fn as_strided_is_ok_iff_every_byte_is_inside(
        len in 0usize..40,
        shape in prop::collection::vec(0usize..5, 0..4),
        strides in prop::collection::vec(-20isize..20, 4),
        offset in -10isize..50,
    ) {
        let buf = NdArray::from_vec((0..len as i16).collect::<Vec<i16>>(), &[len]).unwrap();
        let strides = &strides[..shape.len()];
        let got = buf.as_strided_at(&shape, strides, offset);
        let empty = shape.contains(&0);
        let inside = offset >= 0 && offset as usize <= 2 * len && (empty || all_indices(&shape).iter().all(|i| {
            let p = offset + i.iter().zip(strides).map(|(&x, &s)| x as isize * s).sum::<isize>();
            p >= 0 && p + 2 <= 2 * len as isize
        }));
        prop_assert_eq!(got.is_ok(), inside);
        if let Ok(v) = got {
            // Reading goes through unaligned-safe copies; odd strides are fine for that.
            let bytes = v.view_dtype(DType::I16).unwrap().to_vec_f64().unwrap();
            prop_assert_eq!(bytes.len(), v.size());
        }
    }
}

#[test]
fn newaxis_marker_works_in_macro() {
    let a = NdArray::arange(6, DType::I64)
        .unwrap()
        .reshape(&[2, 3])
        .unwrap();
    let v = a.slice(ndstride::s![.., NewAxis, 1..;2]).unwrap();
    assert_eq!(
        (v.shape(), v.strides()),
        (&[2usize, 1, 1][..], &[24isize, 0, 16][..])
    );
}
