//! Ufuncs and reductions against a naive reference computed index by index in f64, over random
//! shapes, broadcasting, layouts (transposed, stepped, reversed, broadcast) and dtypes.

mod common;

use ndstride::ufunc::{BinaryOp, UnaryOp, result_type};
use ndstride::{DType, Ellipsis, NdArray, Order, s};
use proptest::prelude::*;

const DTYPES: [DType; 11] = DType::ALL;

/// Wraps an exact integer result to the dtype's width, as NumPy's integer loops do.
fn wrap(v: f64, d: DType) -> f64 {
    if d.is_float() || d == DType::Bool {
        return v;
    }
    // Exact integers (|v| < 2^53) wrapped in i128, then read back as the dtype's value.
    let bits = d.itemsize() as u32 * 8;
    let m = 1i128 << bits;
    let mut r = (v as i128).rem_euclid(m);
    if d.is_signed_int() && r >= m / 2 {
        r -= m;
    }
    r as f64
}

/// Rounds to the dtype's precision (float32), or wraps integers.
fn fit(v: f64, d: DType) -> f64 {
    match d {
        DType::F32 => v as f32 as f64,
        DType::F64 => v,
        DType::Bool => (v != 0.0) as u8 as f64,
        _ => wrap(v, d),
    }
}

fn reference_binary(op: BinaryOp, x: f64, y: f64, l: DType) -> f64 {
    use BinaryOp::*;
    let (x, y) = (fit(x, l), fit(y, l));
    let t = |v: f64| v != 0.0;
    let b = |v: bool| v as u8 as f64;
    let f32op = |f: fn(f32, f32) -> f32| f(x as f32, y as f32) as f64;
    match op {
        Add if l == DType::Bool => b(t(x) || t(y)),
        Multiply if l == DType::Bool => b(t(x) && t(y)),
        Maximum | Fmax if l == DType::Bool => b(t(x) || t(y)),
        Minimum | Fmin if l == DType::Bool => b(t(x) && t(y)),
        Add => fit(x + y, l),
        Subtract => fit(x - y, l),
        Multiply => fit(x * y, l),
        Divide => {
            if l == DType::F32 {
                f32op(|a, b| a / b)
            } else {
                fit(x, DType::F64) / fit(y, DType::F64)
            }
        }
        Power => {
            if l.is_float() {
                if l == DType::F32 {
                    f32op(f32::powf)
                } else {
                    x.powf(y)
                }
            } else {
                let l = if l == DType::Bool { DType::I8 } else { l };
                let mut acc = 1f64;
                for _ in 0..(y as i64) {
                    acc = wrap(acc * x, l);
                }
                acc
            }
        }
        Maximum => {
            if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                x.max(y)
            }
        }
        Minimum => {
            if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                x.min(y)
            }
        }
        Fmax => x.max(y),
        Fmin => x.min(y),
        Equal => b(x == y),
        NotEqual => b(x != y),
        Less => b(x < y),
        LessEqual => b(x <= y),
        Greater => b(x > y),
        GreaterEqual => b(x >= y),
        LogicalAnd => b(t(x) && t(y)),
        LogicalOr => b(t(x) || t(y)),
        LogicalXor => b(t(x) != t(y)),
        BitwiseAnd if l == DType::Bool => b(t(x) && t(y)),
        BitwiseOr if l == DType::Bool => b(t(x) || t(y)),
        BitwiseXor if l == DType::Bool => b(t(x) != t(y)),
        BitwiseAnd => wrap(((x as i64) & (y as i64)) as f64, l),
        BitwiseOr => wrap(((x as i64) | (y as i64)) as f64, l),
        BitwiseXor => wrap(((x as i64) ^ (y as i64)) as f64, l),
        // Python's definitions: x // y rounds the quotient down, x % y = x - y * (x // y)
        // takes y's sign. Integers: 0 for y = 0 (NumPy's choice).
        Remainder | FloorDivide if !l.is_float() => {
            if y == 0.0 {
                0.0
            } else {
                let q = (x / y).floor();
                fit(if op == Remainder { x - y * q } else { q }, l)
            }
        }
        Remainder => {
            if l == DType::F32 {
                f32op(python_mod_f32)
            } else {
                python_mod(x, y)
            }
        }
        FloorDivide => {
            if y == 0.0 {
                fit(x / y, l)
            } else {
                // (x - fmod(x, y)) / y is the truncated quotient; one lower when the signs differ
                let r = x % y;
                let trunc = ((x - r) / y).round();
                fit(
                    if r != 0.0 && (r < 0.0) != (y < 0.0) {
                        trunc - 1.0
                    } else {
                        trunc
                    },
                    l,
                )
            }
        }
        Arctan2 => {
            if l == DType::F32 {
                f32op(f32::atan2)
            } else {
                x.atan2(y)
            }
        }
        Hypot => {
            if l == DType::F32 {
                f32op(f32::hypot)
            } else {
                x.hypot(y)
            }
        }
    }
}

/// Python's float `%`: fmod (exact), moved into the divisor's sign.
fn python_mod(x: f64, y: f64) -> f64 {
    let r = x % y;
    if r != 0.0 && (r < 0.0) != (y < 0.0) {
        r + y
    } else if r == 0.0 {
        0f64.copysign(y)
    } else {
        r
    }
}

fn python_mod_f32(x: f32, y: f32) -> f32 {
    python_mod(x as f64, y as f64) as f32
}

fn same(got: f64, want: f64, d: DType, approx: bool) -> bool {
    if got.is_nan() || want.is_nan() {
        return got.is_nan() && want.is_nan();
    }
    if !approx || got == want {
        return got == want;
    }
    let tol = if d == DType::F32 {
        2.0 * f32::EPSILON as f64
    } else {
        2.0 * f64::EPSILON
    };
    (got - want).abs() <= tol * want.abs().max(f64::MIN_POSITIVE)
}

/// Values that every dtype holds exactly (small, non-negative for unsigned), with NaN and
/// fractions for floats.
fn values(d: DType, n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let r = (s % 1000) as f64;
            match d {
                DType::Bool => s.is_multiple_of(3) as u8 as f64,
                DType::F32 | DType::F64 if s.is_multiple_of(37) => f64::NAN,
                DType::F32 | DType::F64 => (r - 500.0) / 40.0,
                _ if d.is_unsigned_int() => (s % 12) as f64,
                _ => (s % 21) as f64 - 10.0,
            }
        })
        .collect()
}

/// An array of `dtype` holding `vals` (C order) in one of several memory layouts.
fn make(vals: &[f64], shape: &[usize], dtype: DType, layout: u8) -> NdArray {
    let c = NdArray::from_vec(vals.to_vec(), shape)
        .unwrap()
        .astype(dtype)
        .unwrap();
    match layout % 4 {
        0 => c,
        1 => c.t().to_contiguous(Order::C).t(), // transposed layout, same logical values
        2 if !shape.is_empty() => {
            // every other element of a buffer twice as long on the last axis
            let mut big_shape = shape.to_vec();
            *big_shape.last_mut().unwrap() *= 2;
            let mut big = NdArray::zeros(&big_shape, dtype).unwrap();
            big.apply_within(BinaryOp::Add, s![Ellipsis, ..;2], c)
                .unwrap();
            big.slice(s![Ellipsis, ..;2]).unwrap()
        }
        3 if !shape.is_empty() => c.flip(0).unwrap().copy().unwrap().flip(0).unwrap(),
        _ => c,
    }
}

/// std's value of a float function at `x`, in float32 when `single` (one table for both types).
fn std_float_function(op: UnaryOp, x: f64, single: bool) -> f64 {
    macro_rules! table {
        ($($op:ident => $f:ident),*) => {
            match op {
                $(UnaryOp::$op => if single { (x as f32).$f() as f64 } else { x.$f() },)*
                _ => unreachable!("{op:?} is not a float function"),
            }
        };
    }
    table!(Sqrt => sqrt, Log => ln, Sin => sin, Cos => cos, Tanh => tanh, Log1p => ln_1p,
        Expm1 => exp_m1, Log2 => log2, Log10 => log10, Tan => tan, Arcsin => asin,
        Arccos => acos, Arctan => atan, Sinh => sinh, Cosh => cosh)
}

fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    prop::collection::vec((0usize..5, 0u8..4), 0..4).prop_map(|dims| {
        let full: Vec<usize> = dims.iter().map(|d| d.0).collect();
        // b: drop some leading axes and set some to 1
        let lead = dims
            .first()
            .map_or(0, |d| (d.1 % 2) as usize)
            .min(full.len());
        let b: Vec<usize> = dims[lead..]
            .iter()
            .map(|&(n, k)| if k == 3 { 1 } else { n })
            .collect();
        let a: Vec<usize> = dims
            .iter()
            .map(|&(n, k)| if k == 2 { 1 } else { n })
            .collect();
        (a, b)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn binary_ops_match_the_reference(
        (sa, sb) in broadcast_pair(), da in 0usize..11, db in 0usize..11,
        la in 0u8..4, lb in 0u8..4, op in 0usize..BinaryOp::ALL.len(), seed in any::<u64>(),
    ) {
        let op = BinaryOp::ALL[op];
        let (da, db) = (DTYPES[da], DTYPES[db]);
        let na: usize = sa.iter().product();
        let nb: usize = sb.iter().product();
        let mut vb = values(db, nb, seed.wrapping_add(1));
        if op == BinaryOp::Power {
            vb.iter_mut().for_each(|v| *v = if v.is_nan() { *v } else { v.abs().min(4.0).floor() });
        }
        let a = make(&values(da, na, seed), &sa, da, la);
        let b = make(&vb, &sb, db, lb);
        let Ok((loop_dt, out_dt)) = op.dtypes(da, db) else {
            prop_assert!(ndstride::ufunc::binary(op, &a, &b).is_err());
            return Ok(());
        };
        let got = ndstride::ufunc::binary(op, &a, &b).unwrap();
        let shape = ndstride::broadcast_shapes(&[&sa, &sb]).unwrap();
        prop_assert_eq!(got.shape(), &shape[..]);
        prop_assert_eq!(got.dtype(), out_dt);
        let xa = a.broadcast_to(&shape).unwrap().to_vec_f64().unwrap();
        let xb = b.broadcast_to(&shape).unwrap().to_vec_f64().unwrap();
        let approx = matches!(op, BinaryOp::Divide | BinaryOp::Power | BinaryOp::Remainder) && loop_dt.is_float();
        for (i, (g, (x, y))) in got.to_vec_f64().unwrap().into_iter().zip(xa.into_iter().zip(xb)).enumerate() {
            let want = reference_binary(op, x, y, loop_dt);
            prop_assert!(same(g, want, out_dt, approx), "{:?} {} {} -> element {}: got {} want {} ({} op {})", op, da, db, i, g, want, x, y);
        }
        let _ = result_type(da, db);
    }

    #[test]
    fn unary_ops_match_the_reference(
        shape in prop::collection::vec(0usize..5, 0..4), d in 0usize..11, l in 0u8..4, op in 0usize..UnaryOp::ALL.len(), seed in any::<u64>(),
    ) {
        let op = UnaryOp::ALL[op];
        let d = DTYPES[d];
        let n: usize = shape.iter().product();
        let mut v = values(d, n, seed);
        match op {
            UnaryOp::Log | UnaryOp::Sqrt | UnaryOp::Log2 | UnaryOp::Log10 => v.iter_mut().for_each(|x| *x = x.abs()),
            UnaryOp::Arcsin | UnaryOp::Arccos => v.iter_mut().for_each(|x| *x /= 12.5),
            _ => {}
        }
        let a = make(&v, &shape, d, l);
        let Ok((loop_dt, out_dt)) = op.dtypes(d) else {
            prop_assert!(ndstride::ufunc::unary(op, &a).is_err());
            return Ok(());
        };
        let got = ndstride::ufunc::unary(op, &a).unwrap();
        prop_assert_eq!(got.dtype(), out_dt);
        prop_assert_eq!(got.shape(), a.shape());
        for (g, x) in got.to_vec_f64().unwrap().into_iter().zip(a.to_vec_f64().unwrap()) {
            let x = fit(x, loop_dt);
            let single = loop_dt == DType::F32;
            let fl = |f: fn(f64) -> f64, f32f: fn(f32) -> f32| if single { f32f(x as f32) as f64 } else { f(x) };
            let want = match op {
                UnaryOp::Negative => fit(-x, loop_dt),
                UnaryOp::Abs => if loop_dt == DType::Bool { x } else { fit(x.abs(), loop_dt) },
                UnaryOp::Square => fit(x * x, loop_dt),
                UnaryOp::Sqrt => fl(f64::sqrt, f32::sqrt),
                UnaryOp::Exp => fl(f64::exp, f32::exp),
                UnaryOp::Log => fl(f64::ln, f32::ln),
                UnaryOp::Sin => fl(f64::sin, f32::sin),
                UnaryOp::Cos => fl(f64::cos, f32::cos),
                UnaryOp::Tanh => fl(f64::tanh, f32::tanh),
                UnaryOp::Floor => x.floor(),
                UnaryOp::Ceil => x.ceil(),
                UnaryOp::IsNan => x.is_nan() as u8 as f64,
                UnaryOp::IsFinite => x.is_finite() as u8 as f64,
                UnaryOp::IsInf => x.is_infinite() as u8 as f64,
                UnaryOp::Sign => if x.is_nan() { x } else if x > 0.0 { 1.0 } else if x < 0.0 { fit(-1.0, loop_dt) } else { 0.0 },
                UnaryOp::Rint => x.round_ties_even(),
                UnaryOp::Trunc => x.trunc(),
                UnaryOp::Reciprocal if loop_dt.is_float() => fl(|v| 1.0 / v, |v| 1.0 / v),
                UnaryOp::Reciprocal => if x == 0.0 { 0.0 } else { fit((1.0 / x).trunc(), loop_dt) },
                UnaryOp::Log1p => fl(f64::ln_1p, f32::ln_1p),
                UnaryOp::Expm1 => fl(f64::exp_m1, f32::exp_m1),
                UnaryOp::Log2 => fl(f64::log2, f32::log2),
                UnaryOp::Log10 => fl(f64::log10, f32::log10),
                UnaryOp::Tan => fl(f64::tan, f32::tan),
                UnaryOp::Arcsin => fl(f64::asin, f32::asin),
                UnaryOp::Arccos => fl(f64::acos, f32::acos),
                UnaryOp::Arctan => fl(f64::atan, f32::atan),
                UnaryOp::Sinh => fl(f64::sinh, f32::sinh),
                UnaryOp::Cosh => fl(f64::cosh, f32::cosh),
                UnaryOp::LogicalNot => (x == 0.0) as u8 as f64,
                UnaryOp::Invert if loop_dt == DType::Bool => (x == 0.0) as u8 as f64,
                UnaryOp::Invert => wrap(!(x as i64) as f64, loop_dt),
            };
            // std's functions are used as they are, so results must be identical — except exp,
            // which has its own vectorised kernel documented to stay within 2 ulp of std.
            prop_assert!(same(g, want, out_dt, op == UnaryOp::Exp), "{:?} {}: got {} want {} for {}", op, d, g, want, x);
        }
    }

    /// Operands transposed relative to the output, large enough for the cache tiles (and,
    /// for 8-byte elements, the register transposes (8 × 8 on AVX-512, 4 × 4 on AVX2) with
    /// ragged edges):
    /// `a − b.t()`, `b.t() − a` and `b.t()` copied to C order, with `b` also flipped or
    /// sliced so its steps are negative or wider, against an index-by-index reference.
    #[test]
    fn transposed_operands_through_the_tiles(
        n in 1usize..90, m in 1usize..90, d in prop::sample::select(vec![DType::F64, DType::I64, DType::F32, DType::U8]),
        flip in any::<bool>(), every_other in any::<bool>(), seed in any::<u64>(),
    ) {
        let a = NdArray::from_vec(values(d, n * m, seed), &[n, m]).unwrap().astype(d).unwrap();
        let rows = if every_other { 2 * n } else { n };
        let base = NdArray::from_vec(values(d, m * rows, seed ^ 1), &[m, rows]).unwrap().astype(d).unwrap();
        let base = if flip { base.flip(1).unwrap() } else { base };
        let base = if every_other { base.slice(s![.., ..;2]).unwrap() } else { base };
        let bt = base.t(); // n × m, contiguous (or every other element) along axis 0
        let (va, vb) = (a.to_vec_f64().unwrap(), base.to_vec_f64().unwrap());
        let diff = a.sub(&bt).unwrap().to_vec_f64().unwrap();
        let rdiff = bt.sub(&a).unwrap().to_vec_f64().unwrap();
        let copy = bt.to_contiguous(Order::C).to_vec_f64().unwrap();
        let l = result_type(d, d);
        for i in 0..n {
            for j in 0..m {
                let (x, y) = (va[i * m + j], vb[j * n + i]);
                let k = i * m + j;
                prop_assert!(same(diff[k], reference_binary(BinaryOp::Subtract, x, y, l), l, false), "a - b.t() at ({i},{j})");
                prop_assert!(same(rdiff[k], reference_binary(BinaryOp::Subtract, y, x, l), l, false), "b.t() - a at ({i},{j})");
                prop_assert!(same(copy[k], y, d, false), "copy at ({i},{j}): {} vs {y}", copy[k]);
            }
        }
    }

    /// The float functions on strided operands (transposed, every other column; reversed rows,
    /// whose rows stay packed runs) long enough to take several blocks of the strided path
    /// (256 elements): each
    /// element must be the one std (or, for exp, the contiguous vectorised kernel) gives for
    /// the element at the same index, so a block that reads or writes the wrong positions fails.
    #[test]
    fn float_functions_of_strided_operands(
        n in 1usize..40, m in 1usize..40, layout in 0u8..3, single in any::<bool>(),
        op in prop::sample::select(vec![
            UnaryOp::Sqrt, UnaryOp::Exp, UnaryOp::Log, UnaryOp::Sin, UnaryOp::Cos, UnaryOp::Tanh,
            UnaryOp::Log1p, UnaryOp::Expm1, UnaryOp::Log2, UnaryOp::Log10, UnaryOp::Tan,
            UnaryOp::Arcsin, UnaryOp::Arccos, UnaryOp::Arctan, UnaryOp::Sinh, UnaryOp::Cosh,
        ]),
        seed in any::<u64>(),
    ) {
        let d = if single { DType::F32 } else { DType::F64 };
        let mut v = values(d, n * m * 2, seed);
        if matches!(op, UnaryOp::Arcsin | UnaryOp::Arccos) {
            v.iter_mut().for_each(|x| *x /= 12.5);
        }
        let c = NdArray::from_vec(v, &[n, 2 * m]).unwrap().astype(d).unwrap();
        let a = match layout {
            0 => c.slice(s![.., ..m]).unwrap().to_contiguous(Order::C).t(),
            1 => c.slice(s![.., ..;2]).unwrap(),
            _ => c.slice(s![..;-1, ..m]).unwrap(),
        };
        if n > 1 && m > 1 {
            prop_assert!(!a.is_c_contiguous(), "the operand takes the strided path");
        }
        let got = ndstride::ufunc::unary(op, &a).unwrap().to_vec_f64().unwrap();
        let packed = a.to_contiguous(Order::C);
        let vectorised = ndstride::ufunc::unary(op, &packed).unwrap().to_vec_f64().unwrap();
        for (i, (&g, x)) in got.iter().zip(packed.to_vec_f64().unwrap()).enumerate() {
            let want = if op == UnaryOp::Exp {
                vectorised[i]
            } else {
                std_float_function(op, x, single)
            };
            prop_assert!(same(g, want, d, false), "{:?} {} layout {} element {}: got {} want {} for {}", op, d, layout, i, g, want, x);
        }
        // exp on its own: the strided result within 2 ulp of std (the contiguous kernel's bound).
        if op == UnaryOp::Exp {
            for (&g, x) in got.iter().zip(packed.to_vec_f64().unwrap()) {
                let want = if single { (x as f32).exp() as f64 } else { x.exp() };
                prop_assert!(same(g, want, d, true), "exp({}) = {} vs std {}", x, g, want);
            }
        }
    }

    #[test]
    fn reductions_match_the_reference(
        shape in prop::collection::vec(1usize..6, 1..4), d in 0usize..11, l in 0u8..4,
        axis_bits in any::<u8>(), keepdims in any::<bool>(), seed in any::<u64>(),
    ) {
        let d = DTYPES[d];
        let n: usize = shape.iter().product();
        let a = make(&values(d, n, seed), &shape, d, l);
        let axes: Vec<isize> = (0..shape.len()).filter(|k| axis_bits & (1 << k) != 0).map(|k| k as isize).collect();
        let reduced = |k: usize| axes.contains(&(k as isize));
        let kept_shape: Vec<usize> = (0..shape.len()).filter(|&k| !reduced(k)).map(|k| shape[k]).collect();
        let vals = a.to_vec_f64().unwrap();
        // Group the input values by output position, index by index.
        let nout: usize = kept_shape.iter().product();
        let mut groups = vec![vec![]; nout];
        let mut idx = vec![0usize; shape.len()];
        for v in &vals {
            let mut o = 0;
            for k in 0..shape.len() {
                if !reduced(k) { o = o * shape[k] + idx[k]; }
            }
            groups[o].push(*v);
            for k in (0..shape.len()).rev() {
                idx[k] += 1;
                if idx[k] < shape[k] { break; }
                idx[k] = 0;
            }
        }
        let acc = ndstride::ufunc::sum_result(d);
        let sum = a.sum(Some(&axes), keepdims).unwrap();
        let max = a.max(Some(&axes), keepdims).unwrap();
        let any = a.any(Some(&axes), false).unwrap();
        prop_assert_eq!(sum.dtype(), acc);
        prop_assert_eq!(max.dtype(), d);
        let want_shape: Vec<usize> = if keepdims { (0..shape.len()).map(|k| if reduced(k) { 1 } else { shape[k] }).collect() } else { kept_shape.clone() };
        prop_assert_eq!(sum.shape(), &want_shape[..]);
        for (o, g) in groups.iter().enumerate() {
            let exact: f64 = g.iter().map(|v| fit(*v, acc)).sum();
            let s = sum.to_vec_f64().unwrap()[o];
            if acc.is_float() {
                let tol = if acc == DType::F32 { 1e-5 } else { 1e-12 } * g.iter().map(|v| v.abs()).sum::<f64>().max(1.0);
                prop_assert!((s - exact).abs() <= tol || (s.is_nan() && exact.is_nan()), "sum {} vs {}", s, exact);
            } else {
                prop_assert_eq!(s, fit(exact, acc));
            }
            let m = g.iter().fold(f64::NEG_INFINITY, |m, &v| if m.is_nan() || v.is_nan() { f64::NAN } else { m.max(v) });
            let got = max.to_vec_f64().unwrap()[o];
            prop_assert!(got == m || (got.is_nan() && m.is_nan()), "max {} vs {}", got, m);
            prop_assert_eq!(any.to_vec_f64().unwrap()[o], g.iter().any(|v| *v != 0.0) as u8 as f64);
        }
        // NaN-skipping reductions and moments, against the same groups
        let nanmax = a.nanmax(Some(&axes), keepdims);
        let nansum = a.nansum(Some(&axes), keepdims).unwrap().to_vec_f64().unwrap();
        let nanmean = a.nanmean(Some(&axes), false).unwrap().to_vec_f64().unwrap();
        let ddof = (seed % 2) as f64;
        let var = a.var(Some(&axes), ddof, keepdims).unwrap();
        let std = a.std(Some(&axes), ddof, false).unwrap().to_vec_f64().unwrap();
        let fdt = if d.is_float() { d } else { DType::F64 };
        prop_assert_eq!(var.dtype(), fdt);
        prop_assert_eq!(var.shape(), &want_shape[..]);
        let var = var.to_vec_f64().unwrap();
        let close = |got: f64, want: f64, scale: f64| {
            let tol = if fdt == DType::F32 { 1e-5 } else { 1e-12 } * scale.max(1.0);
            (got.is_nan() && want.is_nan()) || got == want || (got - want).abs() <= tol
        };
        for (o, g) in groups.iter().enumerate() {
            let present: Vec<f64> = g.iter().copied().filter(|v| !v.is_nan()).collect();
            let scale: f64 = present.iter().map(|v| v.abs()).sum();
            let want_max = present.iter().copied().reduce(f64::max).unwrap_or(f64::NAN);
            let got_max = nanmax.as_ref().unwrap().to_vec_f64().unwrap()[o];
            prop_assert!(got_max == want_max || (got_max.is_nan() && want_max.is_nan()), "nanmax {} vs {}", got_max, want_max);
            let want_sum: f64 = present.iter().map(|v| fit(*v, acc)).sum();
            prop_assert!(close(nansum[o], fit(want_sum, acc), scale), "nansum {} vs {}", nansum[o], want_sum);
            let want_mean = want_sum / present.len() as f64;
            prop_assert!(close(nanmean[o], want_mean, scale), "nanmean {} vs {}", nanmean[o], want_mean);
            let n = g.len() as f64;
            let mean = g.iter().sum::<f64>() / n;
            let ss: f64 = g.iter().map(|v| (v - mean) * (v - mean)).sum();
            let want_var = ss / (n - ddof).max(0.0);
            let vscale = ss.max(scale * scale / n);
            prop_assert!(close(var[o], want_var, vscale), "var {} vs {} (n {}, ddof {})", var[o], want_var, n, ddof);
            prop_assert!(close(std[o], want_var.sqrt(), vscale.sqrt()), "std {} vs {}", std[o], want_var.sqrt());
        }
        // argmax along the last reduced axis only when exactly one axis is reduced
        if axes.len() == 1 {
            let am = a.argmax(Some(&axes), false).unwrap();
            prop_assert_eq!(am.dtype(), DType::I64);
            for (o, g) in groups.iter().enumerate() {
                let want = g.iter().position(|v| v.is_nan()).unwrap_or_else(|| {
                    let m = g.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    g.iter().position(|&v| v == m).unwrap()
                });
                prop_assert_eq!(am.to_vec_f64().unwrap()[o] as usize, want);
            }
        }
    }
}

#[test]
fn pairwise_sum_of_1e8_float32_ones_is_exact() {
    let ones = NdArray::ones(&[100_000_000], DType::F32).unwrap();
    let s = ones.sum(None, false).unwrap();
    assert_eq!(s.to_vec::<f32>().unwrap(), vec![1e8f32]);
    // ...and a strided view of the same buffer
    let half = ones.slice(s![..;2]).unwrap().sum_axis(0).unwrap();
    assert_eq!(half.to_vec::<f32>().unwrap(), vec![5e7f32]);
}

#[test]
fn numpy_overlap_semantics_and_inplace_rules() {
    // NumPy: x = np.arange(5.); x[1:] += x[:-1] -> [0, 1, 3, 5, 7]
    let mut x = NdArray::arange(5, DType::F64).unwrap();
    let src = x.slice(s![..-1]).unwrap();
    x.apply_within(BinaryOp::Add, s![1..], src).unwrap();
    assert_eq!(x.to_vec::<f64>().unwrap(), vec![0., 1., 3., 5., 7.]);
    // NumPy: a = np.arange(9.).reshape(3,3); a += a.T
    let mut a = NdArray::arange(9, DType::F64)
        .unwrap()
        .reshape(&[3, 3])
        .unwrap()
        .copy()
        .unwrap();
    let t = a.t();
    a.apply_within(BinaryOp::Add, s![.., ..], t).unwrap();
    assert_eq!(
        a.to_vec::<f64>().unwrap(),
        vec![0., 4., 8., 4., 8., 12., 8., 12., 16.]
    );
    // int += float is a same_kind error, as in NumPy
    let mut i = NdArray::arange(3, DType::I64).unwrap();
    let e = i
        .apply_inplace(BinaryOp::Add, &NdArray::ones(&[3], DType::F64).unwrap())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "Cannot cast ufunc 'add' output from float64 to int64 with casting rule 'same_kind'"
    );
    // int32 += int64 is allowed (same kind) and wraps into int32
    let mut j = NdArray::full::<i32>(&[2], i32::MAX).unwrap();
    j += &NdArray::ones(&[2], DType::I64).unwrap();
    assert_eq!(j.to_vec::<i32>().unwrap(), vec![i32::MIN, i32::MIN]);
    // the output may not be broadcast by the input
    let mut small = NdArray::zeros(&[3], DType::F64).unwrap();
    let e = small
        .apply_inplace(BinaryOp::Add, &NdArray::zeros(&[2, 3], DType::F64).unwrap())
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("non-broadcastable output operand with shape (3,)"),
        "{e}"
    );
}

#[test]
fn out_form_writes_into_a_strided_view() {
    let a = NdArray::arange(6, DType::I64)
        .unwrap()
        .reshape(&[2, 3])
        .unwrap();
    let b = NdArray::full::<i64>(&[3], 10).unwrap();
    let mut out = NdArray::zeros(&[3, 2], DType::F64).unwrap();
    {
        let mut v = out.view_mut::<f64>().unwrap().into_t(); // a transposed, strided output
        ndstride::ufunc::binary_into(BinaryOp::Add, &a, &b, &mut v).unwrap();
    }
    assert_eq!(
        out.to_vec::<f64>().unwrap(),
        vec![10., 13., 11., 14., 12., 15.]
    );
    let mut iout = NdArray::zeros(&[2, 3], DType::I64).unwrap();
    let e = ndstride::ufunc::binary_into(
        BinaryOp::Divide,
        &a,
        &b,
        &mut iout.view_mut::<i64>().unwrap(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("same_kind"), "{e}");
}

#[test]
fn operators_outer_and_errors() {
    let a = NdArray::arange(3, DType::F64).unwrap();
    let b = NdArray::arange(2, DType::F64).unwrap();
    let d = ndstride::ufunc::outer(BinaryOp::Subtract, &a, &b).unwrap();
    assert_eq!(
        (d.shape(), d.to_vec::<f64>().unwrap()),
        (&[3usize, 2][..], vec![0., -1., 1., 0., 2., 1.])
    );
    let c = &(&a * &a) - &a;
    assert_eq!(c.to_vec::<f64>().unwrap(), vec![0., 0., 2.]);
    let e = a
        .add(&NdArray::zeros(&[5], DType::F64).unwrap())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "operands could not be broadcast together with shapes (3,) (5,)"
    );
    let r = std::panic::catch_unwind(|| &a + &NdArray::zeros(&[4], DType::F64).unwrap());
    assert!(r.is_err(), "operators panic on bad shapes, as documented");
    assert!(NdArray::from_bools(&[true], &[1]).unwrap().neg().is_err());
    let e = NdArray::arange(3, DType::I64)
        .unwrap()
        .pow(&NdArray::full::<i64>(&[1], -1).unwrap())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Integers to negative integer powers are not allowed."
    );
    assert!(
        NdArray::zeros(&[0, 3], DType::F64)
            .unwrap()
            .max_axis(0)
            .is_err()
    );
    assert_eq!(
        NdArray::zeros(&[0, 3], DType::F64)
            .unwrap()
            .sum_axis(0)
            .unwrap()
            .to_vec::<f64>()
            .unwrap(),
        vec![0.; 3]
    );
    assert!(
        NdArray::zeros(&[3, 0], DType::F64)
            .unwrap()
            .max_axis(0)
            .unwrap()
            .is_empty()
    );
    let m = NdArray::arange(6, DType::I32)
        .unwrap()
        .reshape(&[2, 3])
        .unwrap()
        .mean(Some(&[1]), true)
        .unwrap();
    assert_eq!(
        (m.shape(), m.dtype(), m.to_vec::<f64>().unwrap()),
        (&[2usize, 1][..], DType::F64, vec![1., 4.])
    );
}

/// `np.result_type` for the pairs the issue names, through the public methods.
#[test]
fn promotion_through_operations() {
    let z = |d| NdArray::zeros(&[2], d).unwrap();
    assert_eq!(
        z(DType::I64).add(&z(DType::F32)).unwrap().dtype(),
        DType::F64
    );
    assert_eq!(
        z(DType::U64).add(&z(DType::I64)).unwrap().dtype(),
        DType::F64
    );
    assert_eq!(
        z(DType::Bool).add(&z(DType::I8)).unwrap().dtype(),
        DType::I8
    );
    assert_eq!(z(DType::I8).div(&z(DType::I8)).unwrap().dtype(), DType::F64);
    assert_eq!(
        z(DType::F32).div(&z(DType::I16)).unwrap().dtype(),
        DType::F32
    );
    assert_eq!(
        z(DType::U8).less(&z(DType::I8)).unwrap().dtype(),
        DType::Bool
    );
    assert_eq!(z(DType::I16).sqrt().unwrap().dtype(), DType::F32);
    assert_eq!(z(DType::I8).sum_axis(0).unwrap().dtype(), DType::I64);
    assert_eq!(z(DType::U16).prod(None, false).unwrap().dtype(), DType::U64);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Float sums along runs of every length class of the pairwise sum (under 8, 8-15,
    /// 16-128, and longer runs split recursively), on every layout, over each axis of a 2-d
    /// or 3-d array: within the pairwise error bound of the exact f64 sum, index by index;
    /// max and min exactly. (The proptest above keeps its axes short.)
    #[test]
    fn long_run_reductions_match_the_reference(
        rows in 1usize..5, mid in 1usize..4, run in 1usize..300, three_d in any::<bool>(),
        f32_ in any::<bool>(), l in 0u8..4, axis in 0usize..3, seed in any::<u64>(),
    ) {
        let d = if f32_ { DType::F32 } else { DType::F64 };
        let shape: Vec<usize> = if three_d { vec![rows, mid, run] } else { vec![rows, run] };
        let axis = axis % shape.len();
        let n: usize = shape.iter().product();
        // Finite values only: this test is about summation order; NaN and infinity
        // propagation are the proptest above's.
        let vals: Vec<f64> = values(DType::F64, n, seed)
            .iter()
            .map(|v| if v.is_finite() { fit(*v, d) } else { 0.5 })
            .collect();
        let a = make(&vals, &shape, d, l);
        let sum = a.sum_axis(axis as isize).unwrap().to_vec_f64().unwrap();
        let max = a.max(Some(&[axis as isize]), false).unwrap().to_vec_f64().unwrap();
        // Output position o collects the inputs whose index, without `axis`, is o in C order.
        let strides_c: Vec<usize> = (0..shape.len()).map(|k| shape[k + 1..].iter().product()).collect();
        let nout = n / shape[axis];
        for o in 0..nout {
            let (mut rest, mut exact, mut abs, mut m) = (o, 0.0f64, 0.0f64, f64::NEG_INFINITY);
            let mut base = 0;
            for k in (0..shape.len()).rev().filter(|&k| k != axis) {
                base += (rest % shape[k]) * strides_c[k];
                rest /= shape[k];
            }
            for i in 0..shape[axis] {
                let v = vals[base + i * strides_c[axis]];
                exact += v;
                abs += v.abs();
                m = m.max(v);
            }
            let eps = if f32_ { f32::EPSILON as f64 } else { f64::EPSILON };
            let tol = 4.0 * eps * (shape[axis] as f64).log2().max(1.0) * abs.max(1e-300);
            prop_assert!((sum[o] - exact).abs() <= tol, "sum {} vs exact {} (tol {})", sum[o], exact, tol);
            prop_assert_eq!(max[o], m);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// cumsum/cumprod along every axis and over the flattened array, against a sequential
    /// running sum in the accumulator's dtype walked index by index (NumPy's order, so float
    /// results must be identical, not just close).
    #[test]
    fn accumulations_match_a_sequential_reference(
        shape in prop::collection::vec(0usize..6, 0..4), d in 0usize..11, l in 0u8..4,
        axis in any::<prop::sample::Index>(), flat in any::<bool>(), prod in any::<bool>(), seed in any::<u64>(),
    ) {
        let d = DTYPES[d];
        let n: usize = shape.iter().product();
        let mut v = values(d, n, seed);
        if prod && d.is_float() {
            v.iter_mut().for_each(|x| *x /= 8.0); // keep products of up to 5 in range
        }
        let a = make(&v, &shape, d, l);
        let acc = ndstride::ufunc::sum_result(d);
        let step = |x: f64, y: f64| if prod { fit(x * y, acc) } else { fit(x + y, acc) };
        let vals = a.to_vec_f64().unwrap();
        if flat || shape.is_empty() {
            let got = if prod { a.cumprod(None) } else { a.cumsum(None) }.unwrap();
            prop_assert_eq!(got.shape(), &[n][..]);
            prop_assert_eq!(got.dtype(), acc);
            let mut run = None;
            for (g, x) in got.to_vec_f64().unwrap().into_iter().zip(vals) {
                let x = fit(x, acc);
                let r = run.map_or(x, |r| step(r, x));
                run = Some(r);
                prop_assert!(same(g, r, acc, false), "{} vs {}", g, r);
            }
            return Ok(());
        }
        let ax = axis.index(shape.len());
        let got = if prod { a.cumprod(Some(ax as isize)) } else { a.cumsum(Some(ax as isize)) }.unwrap();
        prop_assert_eq!(got.shape(), &shape[..]);
        let got = got.to_vec_f64().unwrap();
        for idx in common::all_indices(&shape) {
            let mut j = idx.clone();
            j[ax] = 0;
            let mut r = fit(vals[common::flat(&shape, &j)], acc);
            for k in 1..=idx[ax] {
                j[ax] = k;
                r = step(r, fit(vals[common::flat(&shape, &j)], acc));
            }
            let g = got[common::flat(&shape, &idx)];
            prop_assert!(same(g, r, acc, false), "at {:?}: {} vs {}", idx, g, r);
        }
    }
}

/// NumPy 2.4.6's outputs for the ufuncs, `round`, moments, NaN-skipping reductions and
/// accumulations of issue 21, item 8 (printed by tests/numpy_reference.py). float16 results
/// there are float32 here.
#[test]
fn numpy_values_of_the_next_ufuncs() {
    let f64s = |v: &[f64]| NdArray::from_vec(v.to_vec(), &[v.len()]).unwrap();
    let vals = |a: NdArray| a.to_vec_f64().unwrap();
    let nan = f64::NAN;
    let same_all = |got: Vec<f64>, want: &[f64]| {
        got.len() == want.len()
            && got
                .iter()
                .zip(want)
                .all(|(g, w)| g == w || (g.is_nan() && w.is_nan()))
    };
    assert!(same_all(
        vals(f64s(&[-0.0, nan, -2.0, 3.0]).sign().unwrap()),
        &[0.0, nan, -1.0, 1.0]
    ));
    assert_eq!(
        NdArray::from_bools(&[true], &[1])
            .unwrap()
            .sign()
            .unwrap_err()
            .to_string(),
        "ufunc 'sign' did not contain a loop with signature matching types <class 'numpy.dtypes.BoolDType'> -> None"
    );
    let r0 = vals(
        f64s(&[0.5, 1.5, 2.5, -0.5, 1.2345, 2.675])
            .round(0)
            .unwrap(),
    );
    assert_eq!(r0, [0.0, 2.0, 2.0, -0.0, 1.0, 3.0]);
    assert!(r0[3].is_sign_negative());
    assert_eq!(
        vals(f64s(&[1.2345, 2.675, 1234.5]).round(2).unwrap()),
        [1.23, 2.68, 1234.5]
    );
    assert_eq!(
        vals(f64s(&[1250.0, 1350.0]).round(-2).unwrap()),
        [1200.0, 1400.0]
    );
    assert_eq!(vals(f64s(&[1e300]).round(10).unwrap()), [f64::INFINITY]);
    assert!(vals(f64s(&[1.25]).round(400).unwrap())[0].is_nan());
    let ints = |v: &[i64], d: DType| {
        NdArray::from_vec(v.to_vec(), &[v.len()])
            .unwrap()
            .astype(d)
            .unwrap()
    };
    let r = ints(&[15, 25, 35, -15, -25], DType::I64).round(-1).unwrap();
    assert_eq!(
        (r.dtype(), vals(r)),
        (DType::I64, vec![20.0, 20.0, 40.0, -20.0, -20.0])
    );
    let r = ints(&[1, 2, 5, 15, 250, 255], DType::U8).round(-1).unwrap();
    assert_eq!(
        (r.dtype(), vals(r)),
        (DType::U8, vec![0.0, 0.0, 0.0, 20.0, 250.0, 4.0])
    );
    assert_eq!(
        vals(ints(&[127, -128, 126], DType::I8).round(-1).unwrap()),
        [-126.0, 126.0, -126.0]
    );
    assert_eq!(
        vals(ints(&[1, -1, 2, -2], DType::I32).reciprocal().unwrap()),
        [1.0, -1.0, 0.0, 0.0]
    );
    assert_eq!(
        vals(ints(&[0, 1], DType::I8).invert().unwrap()),
        [-1.0, -2.0]
    );
    assert_eq!(vals(!&ints(&[0, 1], DType::U8)), [255.0, 254.0]);
    let safe = "not supported for the input types, and the inputs could not be safely coerced to any supported types according to the casting rule ''safe''";
    assert_eq!(
        f64s(&[1.0]).invert().unwrap_err().to_string(),
        format!("ufunc 'invert' {safe}")
    );
    assert_eq!(
        f64s(&[1.0])
            .bitwise_and(&f64s(&[1.0]))
            .unwrap_err()
            .to_string(),
        format!("ufunc 'bitwise_and' {safe}")
    );
    let x = &ints(&[-1, 5], DType::I8) ^ &ints(&[3, 3], DType::I8);
    assert_eq!((x.dtype(), vals(x)), (DType::I8, vec![-4.0, 6.0]));
    assert_eq!(ints(&[1], DType::I8).rint().unwrap().dtype(), DType::F32);
    let h = ints(&[3], DType::I64)
        .hypot(&ints(&[4], DType::I64))
        .unwrap();
    assert_eq!((h.dtype(), vals(h)), (DType::F64, vec![5.0]));
    let t = ints(&[1], DType::I8)
        .arctan2(&ints(&[1], DType::I8))
        .unwrap();
    assert_eq!(t.dtype(), DType::F32);
    assert!((vals(t)[0] - std::f64::consts::FRAC_PI_4).abs() < 1e-6);
    assert_eq!(
        f64s(&[0.0, nan])
            .logical_not()
            .unwrap()
            .to_vec_bool()
            .unwrap(),
        [true, false]
    );
    let t = NdArray::from_bools(&[true], &[1]).unwrap();
    assert_eq!(t.floor_divide(&t).unwrap().dtype(), DType::I8);
    // moments
    let v = f64s(&[1.0, 2.0, 3.0, 4.0]).var(None, 0.0, true).unwrap();
    assert_eq!((v.shape(), vals(v.clone())), (&[1usize][..], vec![1.25]));
    assert_eq!(
        vals(
            ints(&[1, 2, 3, 4], DType::I64)
                .var(None, 1.0, false)
                .unwrap()
        ),
        [1.6666666666666667]
    );
    let m = NdArray::from_vec(vec![1.0f32, 2.0, 3.0, 5.0], &[2, 2]).unwrap();
    let s = m.std(Some(&[0]), 0.0, false).unwrap();
    assert_eq!((s.dtype(), vals(s)), (DType::F32, vec![1.0, 1.5]));
    assert_eq!(
        vals(f64s(&[1.0, 3.0]).var(None, 2.0, false).unwrap()),
        [f64::INFINITY]
    );
    // NaN-skipping reductions
    let g = NdArray::from_vec(vec![1.0, nan, nan, nan], &[2, 2]).unwrap();
    assert!(same_all(
        vals(g.nanmean(Some(&[1]), false).unwrap()),
        &[1.0, nan]
    ));
    let g = NdArray::from_vec(vec![nan, 2.0, nan, nan], &[2, 2]).unwrap();
    assert!(same_all(
        vals(g.nanmin(Some(&[1]), false).unwrap()),
        &[2.0, nan]
    ));
    assert_eq!(
        f64s(&[]).nanmin(None, false).unwrap_err().to_string(),
        "zero-size array to reduction operation fmin which has no identity"
    );
    let ns = NdArray::from_vec(vec![f32::NAN, 1.5], &[2])
        .unwrap()
        .nansum(None, false)
        .unwrap();
    assert_eq!((ns.dtype(), vals(ns)), (DType::F32, vec![1.5]));
    // accumulations
    let c = NdArray::from_bools(&[true, true, false], &[3])
        .unwrap()
        .cumsum(None)
        .unwrap();
    assert_eq!((c.dtype(), vals(c)), (DType::I64, vec![1.0, 2.0, 2.0]));
    let c = ints(&[200, 2], DType::U8).cumprod(None).unwrap();
    assert_eq!((c.dtype(), vals(c)), (DType::U64, vec![200.0, 400.0]));
}
