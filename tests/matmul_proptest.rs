//! `matmul` against a naive triple loop (f64, or exact integers wrapped to the dtype), over
//! random shapes (0, 1, primes, sizes just off the register-tile and cache-block sizes),
//! layouts (transposed, stepped, reversed, broadcast) and dtypes, plus NumPy's stacking and
//! 1-D rules and the `out` form.

use ndstride::linalg::{matmul, matmul_into};
use ndstride::ufunc::result_type;
use ndstride::{DType, NdArray, Order, s};
use proptest::prelude::*;

/// Deterministic small values: integers for integer dtypes, quarters for floats.
fn values(d: DType, n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            match d {
                DType::Bool => s.is_multiple_of(3) as u8 as f64,
                _ if d.is_unsigned_int() => (s % 200) as f64,
                _ if d.is_float() => ((s % 2001) as f64 - 1000.0) / 256.0,
                _ => (s % 201) as f64 - 100.0,
            }
        })
        .collect()
}

/// A `rows × cols` matrix of `dtype` holding `vals` (row-major) in layout `layout`.
fn matrix(vals: &[f64], rows: usize, cols: usize, dtype: DType, layout: u8) -> NdArray {
    let c = NdArray::from_vec(vals.to_vec(), &[rows, cols])
        .unwrap()
        .astype(dtype)
        .unwrap();
    match layout % 6 {
        0 => c,
        // Fortran order: the transpose of a C array, so the kernel sees unit row stride.
        1 => c.t().to_contiguous(Order::C).t(),
        // Every other column of a wider buffer.
        2 => {
            let interleaved: Vec<f64> = (0..rows * 2 * cols)
                .map(|i| if i % 2 == 0 { vals[i / 2] } else { f64::NAN })
                .collect();
            NdArray::from_vec(interleaved, &[rows, 2 * cols])
                .unwrap()
                .astype(dtype)
                .unwrap()
                .slice(s![.., ..;2])
                .unwrap()
        }
        // Negative strides on both axes.
        3 => c
            .flip(0)
            .unwrap()
            .flip(1)
            .unwrap()
            .copy()
            .unwrap()
            .flip(0)
            .unwrap()
            .flip(1)
            .unwrap(),
        // Negative row stride only, Fortran underneath.
        4 => c.flip(0).unwrap().t().copy().unwrap().t().flip(0).unwrap(),
        // Broadcast rows (zero stride) when every row is the same: use row 0 for all.
        _ if rows > 0 => c
            .slice(s![0..1, ..])
            .unwrap()
            .broadcast_to(&[rows, cols])
            .unwrap(),
        _ => c,
    }
}

/// The exact result of an integer product wrapped to `d`'s width, as NumPy's loops wrap.
fn wrap(v: i128, d: DType) -> f64 {
    let bits = d.itemsize() as u32 * 8;
    let m = 1i128 << bits;
    let mut r = v.rem_euclid(m);
    if d.is_signed_int() && r >= m / 2 {
        r -= m;
    }
    r as f64
}

/// Checks `got` (m × n) against the naive product of `a` (m × k) and `b` (k × n) in `d`.
fn check(got: &NdArray, a: &NdArray, b: &NdArray, d: DType) -> Result<(), TestCaseError> {
    let (m, k) = (a.shape()[0], a.shape()[1]);
    let n = b.shape()[1];
    prop_assert_eq!(got.shape(), &[m, n][..]);
    prop_assert_eq!(got.dtype(), d);
    // Operands in the result dtype, as NumPy casts them before multiplying.
    let x = a.astype(d).unwrap().to_vec_f64().unwrap();
    let y = b.astype(d).unwrap().to_vec_f64().unwrap();
    let g = got.to_vec_f64().unwrap();
    for i in 0..m {
        for j in 0..n {
            let got = g[i * n + j];
            let want = match d {
                DType::Bool => {
                    (0..k).any(|p| x[i * k + p] != 0.0 && y[p * n + j] != 0.0) as u8 as f64
                }
                _ if d.is_float() => (0..k).map(|p| x[i * k + p] * y[p * n + j]).sum::<f64>(),
                _ => wrap(
                    (0..k)
                        .map(|p| x[i * k + p] as i128 * y[p * n + j] as i128)
                        .sum(),
                    d,
                ),
            };
            let tol = match d {
                // f32 relative error under 1e-5·sqrt(k), relative to Σ|a||b| (the scale that
                // rounding errors grow with), per the issue.
                DType::F32 => {
                    let scale: f64 = (0..k).map(|p| (x[i * k + p] * y[p * n + j]).abs()).sum();
                    1e-5 * (k as f64).sqrt().max(1.0) * scale.max(1e-30)
                }
                DType::F64 => {
                    let scale: f64 = (0..k).map(|p| (x[i * k + p] * y[p * n + j]).abs()).sum();
                    1e-13 * scale
                }
                _ => 0.0,
            };
            prop_assert!(
                (got - want).abs() <= tol,
                "({}, {}) of {}x{}x{} {}: got {} want {}",
                i,
                j,
                m,
                k,
                n,
                d,
                got,
                want
            );
        }
    }
    Ok(())
}

/// Sizes that exercise the tiles: 0, 1, primes, and just off 6/8 (mr) and 16/24/48 (nr).
fn dim() -> impl Strategy<Value = usize> {
    prop_oneof![
        0usize..10,
        15usize..18,
        23usize..26,
        47usize..50,
        Just(61),
        Just(97)
    ]
}

const DTYPES: [DType; 6] = [
    DType::F64,
    DType::F32,
    DType::I32,
    DType::I64,
    DType::U8,
    DType::Bool,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn matmul_matches_the_naive_product(
        m in dim(), n in dim(), k in dim(), da in 0usize..6, db in 0usize..6,
        la in 0u8..6, lb in 0u8..6, seed in any::<u64>(),
    ) {
        let (da, db) = (DTYPES[da], DTYPES[db]);
        let a = matrix(&values(da, m * k, seed), m, k, da, la);
        let b = matrix(&values(db, k * n, seed ^ 0x9e37), k, n, db, lb);
        let got = matmul(&a, &b).unwrap();
        check(&got, &a, &b, result_type(da, db))?;
        let fresh = NdArray::zeros(&[m, n], got.dtype()).unwrap();
        prop_assert_eq!(got.strides(), fresh.strides());
    }

    #[test]
    fn stacks_broadcast_and_vectors_promote(
        batch_a in prop::collection::vec(1usize..4, 0..3), ones in any::<u8>(),
        m in 1usize..6, n in 1usize..6, k in 0usize..6, a_vec in any::<bool>(), b_vec in any::<bool>(),
        seed in any::<u64>(),
    ) {
        // b's batch: a's with some axes set to 1 and possibly one axis fewer.
        let mut batch_b: Vec<usize> = batch_a.iter().enumerate()
            .map(|(i, &d)| if ones >> i & 1 == 1 { 1 } else { d }).collect();
        if ones & 0x80 != 0 && !batch_b.is_empty() {
            batch_b.remove(0);
        }
        let shape = |batch: &[usize], r: usize, c: usize, vector: Option<usize>| {
            match vector {
                Some(len) if batch.is_empty() => vec![len],
                _ => batch.iter().copied().chain([r, c]).collect::<Vec<_>>(),
            }
        };
        let sa = shape(&batch_a, m, k, a_vec.then_some(k));
        let sb = shape(&batch_b, k, n, b_vec.then_some(k));
        let na: usize = sa.iter().product();
        let nb: usize = sb.iter().product();
        let a = NdArray::from_vec(values(DType::F64, na, seed), &sa).unwrap();
        let b = NdArray::from_vec(values(DType::F64, nb, !seed), &sb).unwrap();
        let got = matmul(&a, &b).unwrap();
        // NumPy's result shape: broadcast batch, then m unless a is 1-D, n unless b is 1-D.
        let a_is_vec = sa.len() == 1;
        let b_is_vec = sb.len() == 1;
        let ab = if a_is_vec { &[][..] } else { &sa[..sa.len() - 2] };
        let bb = if b_is_vec { &[][..] } else { &sb[..sb.len() - 2] };
        let batch = ndstride::broadcast_shapes(&[ab, bb]).unwrap();
        let mut want_shape = batch.clone();
        if !a_is_vec { want_shape.push(m); }
        if !b_is_vec { want_shape.push(n); }
        prop_assert_eq!(got.shape(), &want_shape[..]);
        // Each stack entry equals the 2-D product of the broadcast operands' entries.
        let a2 = if a_is_vec { a.reshape(&[1, k]).unwrap() } else { a.clone() };
        let b2 = if b_is_vec { b.reshape(&[k, 1]).unwrap() } else { b.clone() };
        let (rm, rn) = (if a_is_vec { 1 } else { m }, if b_is_vec { 1 } else { n });
        let a3 = a2.broadcast_to(&batch.iter().copied().chain([rm, k]).collect::<Vec<_>>()).unwrap();
        let b3 = b2.broadcast_to(&batch.iter().copied().chain([k, rn]).collect::<Vec<_>>()).unwrap();
        let g3 = got.reshape(&batch.iter().copied().chain([rm, rn]).collect::<Vec<_>>()).unwrap();
        let count: usize = batch.iter().product();
        let flat = |x: &NdArray, r: usize, c: usize| x.reshape(&[count, r, c]).unwrap();
        let (a3, b3, g3) = (flat(&a3.copy().unwrap(), rm, k), flat(&b3.copy().unwrap(), k, rn), flat(&g3, rm, rn));
        for e in 0..count {
            let pick = |x: &NdArray| x.slice(s![e, .., ..]).unwrap();
            check(&pick(&g3).copy().unwrap(), &pick(&a3), &pick(&b3), DType::F64)?;
        }
    }
}

#[test]
fn blocks_larger_than_the_cache_blocks() {
    // k beyond kc (256/384), n beyond nc (336/672), m split across threads, odd edges.
    for &(m, k, n) in &[(37, 700, 29), (19, 5, 1500), (300, 257, 350), (4103, 3, 5)] {
        for d in [DType::F64, DType::F32] {
            let a = NdArray::from_vec(values(d, m * k, 7), &[m, k])
                .unwrap()
                .astype(d)
                .unwrap();
            let b = NdArray::from_vec(values(d, k * n, 9), &[k, n])
                .unwrap()
                .astype(d)
                .unwrap();
            for (a, b) in [
                (a.clone(), b.clone()),
                (a.t().copy().unwrap().t(), b.t().copy().unwrap().t()),
            ] {
                check(&matmul(&a, &b).unwrap(), &a, &b, d).unwrap();
            }
        }
    }
}

/// `matmul_into` a view `rows 1..m+1, columns 3..n+3` of a larger array filled with a sentinel;
/// returns the view's contents and whether every element outside it kept the sentinel.
fn product_in_a_frame<T: ndstride::Element>(a: &NdArray, b: &NdArray) -> (NdArray, bool) {
    const SENTINEL: f64 = -7.0;
    let (m, n) = (a.shape()[0], b.shape()[1]);
    let mut frame = NdArray::full(&[m + 2, n + 6], SENTINEL)
        .unwrap()
        .astype(T::DTYPE)
        .unwrap();
    {
        let mut view = frame.slice_mut::<T>(s![1..m + 1, 3..n + 3]).unwrap();
        matmul_into(a, b, &mut view).unwrap();
    }
    let inside = frame.slice(s![1..m + 1, 3..n + 3]).unwrap().copy().unwrap();
    let all = frame.to_vec_f64().unwrap();
    let untouched = (0..m + 2).all(|i| {
        (0..n + 6).all(|j| {
            (1..=m).contains(&i) && (3..n + 3).contains(&j) || all[i * (n + 6) + j] == SENTINEL
        })
    });
    (inside, untouched)
}

#[test]
fn every_small_tile_shape_reads_and_writes_only_its_own_elements() {
    // Small products with unit-stride rows of B and C skip packing: every row count of the
    // register tile (1 .. 8), every column count (1 .. 50 covers every vector count and
    // partial last vector for 4, 8 and 16 lanes), into a view inside a larger array whose
    // other elements must keep their values (masked stores past C's last column would not).
    // A is row-major, Fortran-ordered or reversed: the kernel broadcasts it from any strides.
    for d in [DType::F64, DType::F32] {
        for m in 1..=17 {
            for n in 1..=50 {
                for k in [1, 33] {
                    let vals_a = values(d, m * k, (m * 131 + n * 7 + k) as u64);
                    let a = match (m + n + k) % 3 {
                        0 => matrix(&vals_a, m, k, d, 0),
                        1 => matrix(&vals_a, m, k, d, 1),
                        _ => matrix(&vals_a, m, k, d, 4),
                    };
                    // B: columns 1 .. n+1 of a wider matrix (row stride n + 2, off any
                    // alignment), one row broadcast (row stride 0), or rows reversed (negative
                    // row stride); its rows are unit-stride in all three.
                    let b = match (m + n) % 3 {
                        0 => {
                            let vals_b = values(d, k * (n + 2), (m + n * 31 + k) as u64);
                            matrix(&vals_b, k, n + 2, d, 0)
                                .slice(s![.., 1..n + 1])
                                .unwrap()
                        }
                        1 => matrix(&values(d, k * n, (n * 17 + k) as u64), k, n, d, 5),
                        _ => matrix(&values(d, k * n, (n * 13 + k) as u64), k, n, d, 0)
                            .flip(0)
                            .unwrap(),
                    };
                    check(&matmul(&a, &b).unwrap(), &a, &b, d).unwrap();
                    let (got, untouched) = if d == DType::F64 {
                        product_in_a_frame::<f64>(&a, &b)
                    } else {
                        product_in_a_frame::<f32>(&a, &b)
                    };
                    assert!(untouched, "{d} {m}x{k}x{n}: wrote outside the output view");
                    check(&got, &a, &b, d).unwrap();
                }
            }
        }
    }
}

#[test]
fn column_major_and_strided_outputs() {
    let a = NdArray::from_vec(values(DType::F64, 30 * 20, 1), &[30, 20]).unwrap();
    let b = NdArray::from_vec(values(DType::F64, 20 * 26, 2), &[20, 26]).unwrap();
    let want = matmul(&a, &b).unwrap().to_vec::<f64>().unwrap();
    // Into a Fortran-ordered array (the GEMM transposes the problem) ...
    let mut f = NdArray::zeros_order(&[30, 26], DType::F64, Order::F).unwrap();
    matmul_into(&a, &b, &mut f.view_mut::<f64>().unwrap()).unwrap();
    assert_eq!(f.to_vec::<f64>().unwrap(), want);
    // ... into every other column of a wider array, leaving the rest alone ...
    let mut wide = NdArray::full(&[30, 52], -1.0f64).unwrap();
    {
        let mut view = wide.slice_mut::<f64>(s![.., 1..;2]).unwrap();
        matmul_into(&a, &b, &mut view).unwrap();
    }
    let w = wide.to_vec::<f64>().unwrap();
    for i in 0..30 {
        for j in 0..52 {
            let v = w[i * 52 + j];
            if j % 2 == 1 {
                assert_eq!(v, want[i * 26 + j / 2]);
            } else {
                assert_eq!(v, -1.0);
            }
        }
    }
    // ... and into float32 (same_kind cast) but not into int32.
    let mut o32 = NdArray::zeros(&[30, 26], DType::F32).unwrap();
    matmul_into(&a, &b, &mut o32.view_mut::<f32>().unwrap()).unwrap();
    let got32 = o32.to_vec::<f32>().unwrap();
    assert!(got32.iter().zip(&want).all(|(&g, &w)| g == w as f32));
    let mut oi = NdArray::zeros(&[30, 26], DType::I32).unwrap();
    let err = matmul_into(&a, &b, &mut oi.view_mut::<i32>().unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cannot cast ufunc 'matmul' output from float64 to int32 with casting rule 'same_kind'"
    );
    let mut wrong = NdArray::zeros(&[30, 25], DType::F64).unwrap();
    let err = matmul_into(&a, &b, &mut wrong.view_mut::<f64>().unwrap()).unwrap_err();
    assert!(err.to_string().contains("core dimension 1"), "{err}");
}

#[test]
fn numpy_edge_cases() {
    // (2, 0) @ (0, 3) is a zero matrix; k = 0 writes zeros even into a dirty output.
    let z = matmul(
        &NdArray::zeros(&[2, 0], DType::F64).unwrap(),
        &NdArray::zeros(&[0, 3], DType::F64).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (z.shape(), z.to_vec::<f64>().unwrap()),
        (&[2usize, 3][..], vec![0.0; 6])
    );
    let mut dirty = NdArray::full(&[2, 3], 5.0f64).unwrap();
    matmul_into(
        &NdArray::zeros(&[2, 0], DType::F64).unwrap(),
        &NdArray::zeros(&[0, 3], DType::F64).unwrap(),
        &mut dirty.view_mut::<f64>().unwrap(),
    )
    .unwrap();
    assert_eq!(dirty.to_vec::<f64>().unwrap(), vec![0.0; 6]);
    // 1-D · 1-D is a 0-d scalar; int8 wraps as NumPy's does (100·100·2 = 20000 → 32).
    let v = NdArray::from_vec(vec![100i8, 100], &[2]).unwrap();
    let dot = matmul(&v, &v).unwrap();
    assert_eq!(
        (dot.shape(), dot.to_vec::<i8>().unwrap()),
        (&[][..], vec![32i8])
    );
    // Mixed dtypes promote: int64 @ float32 -> float64, bool @ int8 -> int8.
    let i = NdArray::from_vec(vec![1i64, 2, 3, 4], &[2, 2]).unwrap();
    let f = NdArray::from_vec(vec![0.5f32, 1.0, 1.5, 2.0], &[2, 2]).unwrap();
    let r = matmul(&i, &f).unwrap();
    assert_eq!(
        (r.dtype(), r.to_vec::<f64>().unwrap()),
        (DType::F64, vec![3.5, 5.0, 7.5, 11.0])
    );
    let bl = NdArray::from_bools(&[true, false, true, true], &[2, 2]).unwrap();
    let i8s = NdArray::from_vec(vec![1i8, 2, 3, 4], &[2, 2]).unwrap();
    assert_eq!(matmul(&bl, &i8s).unwrap().dtype(), DType::I8);
    // Errors, in NumPy's words.
    let e = matmul(&NdArray::scalar(1.0f64), &i)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Input operand 0 does not have enough dimensions (has 0"),
        "{e}"
    );
    let e = i
        .matmul(&NdArray::zeros(&[3, 2], DType::F64).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("mismatch in its core dimension 0")
            && e.contains("(size 3 is different from 2)"),
        "{e}"
    );
    // NaN propagates like any IEEE product.
    let nan = NdArray::from_vec(vec![f64::NAN, 1.0], &[1, 2]).unwrap();
    let one = NdArray::from_vec(vec![1.0, 1.0], &[2, 1]).unwrap();
    assert!(matmul(&nan, &one).unwrap().to_vec::<f64>().unwrap()[0].is_nan());
}
