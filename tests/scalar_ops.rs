//! Scalar operands with NumPy 2's weak-scalar promotion, single elements (`item`, `get_f64`)
//! and the in-place operators with an operand that shares the output's buffer. Expected
//! values are NumPy 2.4's (tests/numpy_reference.py prints them).

use ndstride::{DType, NdArray, ufunc::BinaryOp};
use proptest::prelude::*;

fn i8s() -> NdArray {
    NdArray::from_vec(vec![1i8, 127, -128], &[3]).unwrap()
}

#[test]
fn weak_scalars_follow_nep_50() {
    let r = &i8s() + 1;
    assert_eq!(
        (r.dtype(), r.to_vec::<i8>().unwrap()),
        (DType::I8, vec![2, -128, -127])
    );
    assert_eq!(
        i8s().add_scalar(1000).unwrap_err().to_string(),
        "Python integer 1000 out of bounds for int8"
    );
    let r = i8s().add_scalar(0.5).unwrap();
    assert_eq!(
        (r.dtype(), r.to_vec::<f64>().unwrap()),
        (DType::F64, vec![1.5, 127.5, -127.5])
    );
    let u8s = NdArray::from_vec(vec![1u8], &[1]).unwrap();
    assert_eq!(
        u8s.add_scalar(-1).unwrap_err().to_string(),
        "Python integer -1 out of bounds for uint8"
    );
    let f = NdArray::from_vec(vec![1.5f32], &[1]).unwrap();
    assert_eq!((&f * 2.0).dtype(), DType::F32);
    assert_eq!((&f * 2.0).to_vec::<f32>().unwrap(), vec![3.0]);
    assert_eq!((&f + 1).to_vec::<f32>().unwrap(), vec![2.5]);
    let b = NdArray::from_bools(&[true], &[1]).unwrap();
    let r = b.add_scalar(1).unwrap();
    assert_eq!(
        (r.dtype(), r.to_vec::<i64>().unwrap()),
        (DType::I64, vec![2])
    );
    assert_eq!(b.add_scalar(true).unwrap().dtype(), DType::Bool);
    let r = NdArray::from_vec(vec![3i32], &[1])
        .unwrap()
        .div_scalar(2)
        .unwrap();
    assert_eq!(
        (r.dtype(), r.to_vec::<f64>().unwrap()),
        (DType::F64, vec![1.5])
    );
    let big = 1i128 << 63;
    assert!(
        NdArray::from_vec(vec![1i64], &[1])
            .unwrap()
            .binary_scalar_i128(big)
            .is_err()
    );
    let r = NdArray::from_vec(vec![1u64], &[1])
        .unwrap()
        .add_scalar(1u64 << 63)
        .unwrap();
    assert_eq!(
        (r.dtype(), r.to_vec::<u64>().unwrap()),
        (DType::U64, vec![(1 << 63) + 1])
    );
    let r = 2 - &NdArray::from_vec(vec![5i16], &[1]).unwrap();
    assert_eq!(
        (r.dtype(), r.to_vec::<i16>().unwrap()),
        (DType::I16, vec![-3])
    );
    // Comparisons with an integer the dtype cannot hold compare the values, as NumPy does.
    assert_eq!(
        i8s().less_scalar(300).unwrap().to_vec_bool().unwrap(),
        vec![true, true, true]
    );
    assert_eq!(
        i8s().greater_scalar(-300).unwrap().to_vec_bool().unwrap(),
        vec![true, true, true]
    );
    assert_eq!(
        i8s().equal_scalar(1000).unwrap().to_vec_bool().unwrap(),
        vec![false, false, false]
    );
    assert_eq!(
        u8s.greater_scalar(-1).unwrap().to_vec_bool().unwrap(),
        vec![true]
    );
    // In place: the array's dtype stays; a float into an int array is a casting error.
    let mut a = i8s();
    a += 1;
    assert_eq!(a.to_vec::<i8>().unwrap(), vec![2, -128, -127]);
    assert!(
        std::panic::catch_unwind(|| {
            let mut a = i8s();
            a += 0.5;
        })
        .is_err()
    );
}

trait WideAdd {
    fn binary_scalar_i128(&self, v: i128) -> ndstride::Result<NdArray>;
}
impl WideAdd for NdArray {
    fn binary_scalar_i128(&self, v: i128) -> ndstride::Result<NdArray> {
        ndstride::ufunc::binary_scalar(BinaryOp::Add, self, ndstride::ufunc::ScalarValue::Int(v))
    }
}

proptest! {
    /// `a op s` element by element: the integer model wraps as NumPy's fixed-width arithmetic
    /// does; floats compute in the array's float dtype.
    #[test]
    fn scalar_arithmetic_matches_the_elementwise_model(
        vals in prop::collection::vec(-100i64..100, 0..20),
        s in -100i64..100,
        dt in 0usize..4,
        op in 0usize..3,
        swap in any::<bool>(),
    ) {
        let d = [DType::I8, DType::I32, DType::U16, DType::F32][dt];
        let a = NdArray::from_vec(vals.clone(), &[vals.len()]).unwrap().astype(d).unwrap();
        let bop = [BinaryOp::Add, BinaryOp::Subtract, BinaryOp::Multiply][op];
        let r = if swap {
            ndstride::ufunc::scalar_binary(bop, s, &a)
        } else {
            ndstride::ufunc::binary_scalar(bop, &a, s)
        };
        if d == DType::U16 && s < 0 {
            prop_assert!(r.is_err());
            return Ok(());
        }
        let r = r.unwrap();
        prop_assert_eq!(r.dtype(), d);
        let got = r.to_vec_f64().unwrap();
        let model = a.to_vec_f64().unwrap();
        for (g, &x) in got.iter().zip(&model) {
            let (p, q) = if swap { (s as f64, x) } else { (x, s as f64) };
            let exact = match op { 0 => p + q, 1 => p - q, _ => p * q };
            let want = match d {
                DType::I8 => (exact as i64 as i8) as f64,
                DType::I32 => (exact as i64 as i32) as f64,
                DType::U16 => (exact as i64 as u16) as f64,
                _ => exact as f32 as f64,
            };
            prop_assert_eq!(*g, want);
        }
    }
}

#[test]
fn single_elements() {
    let a = NdArray::arange(6, DType::F64)
        .unwrap()
        .reshape(&[2, 3])
        .unwrap();
    assert_eq!(a.get_f64(&[1, 2]).unwrap(), 5.0);
    assert_eq!(a.t().get_f64(&[2, 1]).unwrap(), 5.0);
    assert_eq!(
        a.get_f64(&[1, 3]).unwrap_err().to_string(),
        "index 3 is out of bounds for axis 1 with size 3"
    );
    assert!(a.get_f64(&[1]).is_err());
    assert!(a.item::<f64>().unwrap_err().to_string().contains("size 1"));
    let one = a.slice(ndstride::s![1..2, 2..3]).unwrap();
    assert_eq!(one.item::<f64>().unwrap(), 5.0);
    assert!(one.item::<f32>().is_err());
    assert_eq!(NdArray::scalar(7i16).item::<i16>().unwrap(), 7);
    assert_eq!(
        NdArray::from_bools(&[true], &[1, 1])
            .unwrap()
            .item::<u8>()
            .unwrap(),
        1
    );
}

#[test]
fn in_place_with_an_operand_sharing_the_buffer() {
    // NumPy: a = arange(9).reshape(3, 3); a += a.T gives the symmetric sum.
    let mut a = NdArray::arange(9, DType::F64)
        .unwrap()
        .reshape(&[3, 3])
        .unwrap();
    let t = a.t();
    a += t;
    assert_eq!(
        a.to_vec::<f64>().unwrap(),
        vec![0., 4., 8., 4., 8., 12., 8., 12., 16.]
    );
    // The by-reference form cannot write while the view lives: its message names the fix.
    let mut b = NdArray::arange(4, DType::F64)
        .unwrap()
        .reshape(&[2, 2])
        .unwrap();
    let bt = b.t();
    let e = b.apply_inplace(BinaryOp::Add, &bt).unwrap_err().to_string();
    assert!(e.contains("`a += a.t()`"), "{e}");
    drop(bt);
    b -= b.slice(ndstride::s![.., ..;-1]).unwrap();
    assert_eq!(b.to_vec::<f64>().unwrap(), vec![-1., 1., -1., 1.]);
}
