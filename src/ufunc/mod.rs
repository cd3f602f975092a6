//! Universal functions: elementwise operations with NumPy's broadcasting and type promotion,
//! and reductions. Everything runs on the elementwise engine in [`crate::iter::elementwise`].
//!
//! # Failure modes
//! Methods (`a.add(&b)`) and functions return `Result`: shapes that do not broadcast, dtypes a
//! ufunc does not support (`negative` of bool), integers to negative powers, outputs that the
//! result cannot be cast to under NumPy's `same_kind` rule. The `std::ops` operators
//! (`&a + &b`, `a += &b`) cannot return errors: they **panic** with the same message. Use the
//! methods where input may be bad.

mod binary;
mod kernels;
mod ops;
mod promote;
mod reduce;
mod scalar;
pub mod simd;
mod unary;

pub use binary::{BinaryOp, binary, binary_into, outer};
pub use promote::{can_cast_same_kind, float_result, result_type, sum_result};
pub use reduce::{ReduceOp, reduce};
pub use unary::{UnaryOp, unary};
