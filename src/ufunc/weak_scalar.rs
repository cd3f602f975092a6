//! Scalar operands for the binary ufuncs with NumPy 2's weak-scalar promotion (NEP 50): a Rust
//! number acts as a Python scalar does, taking the array's dtype where its kind allows
//! (`int8 + 1` stays int8, `float32 * 2.0` stays float32), the default dtype of its kind
//! otherwise (`int8 + 0.5` is float64, `bool + 1` int64), and an integer that the array's
//! dtype cannot hold is an error, as NumPy raises `OverflowError`.

use super::binary::{BinaryOp, binary};
use super::ops::std_panic;
use crate::array::NdArray;
use crate::dtype::DType;
use crate::error::{Error, Result};

/// A scalar operand: what a Python `bool`, `int` or `float` is to NumPy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalarValue {
    Bool(bool),
    /// Any integer (wide enough for every `i64` and `u64`).
    Int(i128),
    Float(f64),
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for ScalarValue {
            fn from(v: $t) -> Self { ScalarValue::Int(v as i128) }
        }
    )*};
}
from_int!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);
impl From<f64> for ScalarValue {
    fn from(v: f64) -> Self {
        ScalarValue::Float(v)
    }
}
impl From<f32> for ScalarValue {
    fn from(v: f32) -> Self {
        ScalarValue::Float(v as f64)
    }
}
impl From<bool> for ScalarValue {
    fn from(v: bool) -> Self {
        ScalarValue::Bool(v)
    }
}

/// The range of an integer dtype.
fn int_range(d: DType) -> (i128, i128) {
    let bits = d.itemsize() as u32 * 8;
    if d.is_signed_int() {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    }
}

/// The scalar as a 0-d array of the dtype NEP 50 gives it beside an array of `array`.
pub fn weak_scalar(array: DType, s: ScalarValue) -> Result<NdArray> {
    match s {
        ScalarValue::Bool(b) => NdArray::from_bools(&[b], &[]),
        ScalarValue::Float(v) => {
            let d = if array.is_float() { array } else { DType::F64 };
            NdArray::full_f64(&[], v, d)
        }
        ScalarValue::Int(v) => {
            let d = if array == DType::Bool {
                DType::I64
            } else {
                array
            };
            if d.is_float() {
                return NdArray::full_f64(&[], v as f64, d);
            }
            let (lo, hi) = int_range(d);
            if v < lo || v > hi {
                return Err(Error::invalid(format!(
                    "Python integer {v} out of bounds for {d}"
                )));
            }
            crate::dispatch_numeric!(d, T => Ok(NdArray::scalar(v as T)),
                bool => unreachable!("bool became int64"))
        }
    }
}

/// `op(a, s)` with `s` a weak scalar.
pub fn binary_scalar(op: BinaryOp, a: &NdArray, s: impl Into<ScalarValue>) -> Result<NdArray> {
    let s = s.into();
    if let Some(wide) = comparison_beyond_range(op, a.dtype(), s) {
        return binary(op, &a.astype(wide)?, &weak_scalar(wide, s)?);
    }
    binary(op, a, &weak_scalar(a.dtype(), s)?)
}

/// `op(s, a)` with `s` a weak scalar (`2.0 - a`).
pub fn scalar_binary(op: BinaryOp, s: impl Into<ScalarValue>, a: &NdArray) -> Result<NdArray> {
    let s = s.into();
    if let Some(wide) = comparison_beyond_range(op, a.dtype(), s) {
        return binary(op, &weak_scalar(wide, s)?, &a.astype(wide)?);
    }
    binary(op, &weak_scalar(a.dtype(), s)?, a)
}

/// NumPy compares an integer array with a Python integer its dtype cannot hold (`int8 < 300`
/// is all True) rather than raising: the dtype to compare in then, exactly where int64 holds
/// the scalar.
fn comparison_beyond_range(op: BinaryOp, d: DType, s: ScalarValue) -> Option<DType> {
    use BinaryOp::*;
    let ScalarValue::Int(v) = s else { return None };
    let comparison = matches!(
        op,
        Equal | NotEqual | Less | LessEqual | Greater | GreaterEqual
    );
    if !comparison || !(d.is_signed_int() || d.is_unsigned_int()) {
        return None;
    }
    let (lo, hi) = int_range(d);
    if (lo..=hi).contains(&v) {
        return None;
    }
    let fits_i64 = i64::try_from(v).is_ok() && d != DType::U64;
    Some(if fits_i64 { DType::I64 } else { DType::F64 })
}

macro_rules! scalar_methods {
    ($($name:ident => $op:ident),* $(,)?) => {
        impl NdArray {$(
            #[doc = concat!("`np.", stringify!($op), "(self, s)` for a scalar `s`, with NumPy 2's weak-scalar promotion (see [`ScalarValue`]).")]
            pub fn $name(&self, s: impl Into<ScalarValue>) -> Result<NdArray> {
                binary_scalar(BinaryOp::$op, self, s)
            }
        )*}
    };
}

scalar_methods! {
    add_scalar => Add,
    sub_scalar => Subtract,
    mul_scalar => Multiply,
    div_scalar => Divide,
    pow_scalar => Power,
    maximum_scalar => Maximum,
    minimum_scalar => Minimum,
    fmax_scalar => Fmax,
    fmin_scalar => Fmin,
    equal_scalar => Equal,
    not_equal_scalar => NotEqual,
    less_scalar => Less,
    less_equal_scalar => LessEqual,
    greater_scalar => Greater,
    greater_equal_scalar => GreaterEqual,
    logical_and_scalar => LogicalAnd,
    logical_or_scalar => LogicalOr,
    logical_xor_scalar => LogicalXor,
    bitwise_and_scalar => BitwiseAnd,
    bitwise_or_scalar => BitwiseOr,
    bitwise_xor_scalar => BitwiseXor,
    remainder_scalar => Remainder,
    floor_divide_scalar => FloorDivide,
    arctan2_scalar => Arctan2,
    hypot_scalar => Hypot,
}

macro_rules! std_scalar_op {
    ($t:ty, $tr:ident, $method:ident, $assign_tr:ident, $assign_method:ident => $op:ident) => {
        /// `&a op s` with a weak scalar; panics where [`binary_scalar`] errors.
        impl std::ops::$tr<$t> for &NdArray {
            type Output = NdArray;
            fn $method(self, s: $t) -> NdArray {
                std_panic(binary_scalar(BinaryOp::$op, self, s))
            }
        }
        /// `s op &a` with a weak scalar; panics where [`scalar_binary`] errors.
        impl std::ops::$tr<&NdArray> for $t {
            type Output = NdArray;
            fn $method(self, a: &NdArray) -> NdArray {
                std_panic(scalar_binary(BinaryOp::$op, self, a))
            }
        }
        /// `a op= s` in place (`int8 += 1` stays int8; `int += 0.5` is a casting error, as
        /// in NumPy); panics where [`NdArray::apply_inplace`] errors.
        impl std::ops::$assign_tr<$t> for NdArray {
            fn $assign_method(&mut self, s: $t) {
                let s = std_panic(weak_scalar(self.dtype(), s.into()));
                std_panic(self.apply_inplace(BinaryOp::$op, &s))
            }
        }
    };
}

macro_rules! std_scalar_ops {
    ($($t:ty),*) => {$(
        std_scalar_op!($t, Add, add, AddAssign, add_assign => Add);
        std_scalar_op!($t, Sub, sub, SubAssign, sub_assign => Subtract);
        std_scalar_op!($t, Mul, mul, MulAssign, mul_assign => Multiply);
        std_scalar_op!($t, Div, div, DivAssign, div_assign => Divide);
        std_scalar_op!($t, Rem, rem, RemAssign, rem_assign => Remainder);
    )*};
}

// One float and one integer type, so that literals infer: `&a + 2.0` is f64, `&a + 1` i64
// (with f32 or i32 beside them, `&a + 1` would need a suffix). Other types go through
// `add_scalar` and the like.
std_scalar_ops!(f64, i64);
