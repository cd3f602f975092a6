//! Unary ufuncs.

use super::kernels::Map1;
use super::promote::float_result;
use super::scalar::{FloatScalar, IntScalar, Scalar};
use crate::array::NdArray;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::iter::elementwise;

/// The unary ufuncs, with NumPy's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Negative,
    Abs,
    Square,
    Sqrt,
    Exp,
    Log,
    Sin,
    Cos,
    Tanh,
    Floor,
    Ceil,
    IsNan,
    IsFinite,
    Sign,
    Rint,
    Trunc,
    IsInf,
    Reciprocal,
    Log1p,
    Expm1,
    Log2,
    Log10,
    Tan,
    Arcsin,
    Arccos,
    Arctan,
    Sinh,
    Cosh,
    LogicalNot,
    /// `np.invert` (`bitwise_not`): integers and bool.
    Invert,
}

impl UnaryOp {
    pub const ALL: [UnaryOp; 30] = [
        UnaryOp::Negative,
        UnaryOp::Abs,
        UnaryOp::Square,
        UnaryOp::Sqrt,
        UnaryOp::Exp,
        UnaryOp::Log,
        UnaryOp::Sin,
        UnaryOp::Cos,
        UnaryOp::Tanh,
        UnaryOp::Floor,
        UnaryOp::Ceil,
        UnaryOp::IsNan,
        UnaryOp::IsFinite,
        UnaryOp::Sign,
        UnaryOp::Rint,
        UnaryOp::Trunc,
        UnaryOp::IsInf,
        UnaryOp::Reciprocal,
        UnaryOp::Log1p,
        UnaryOp::Expm1,
        UnaryOp::Log2,
        UnaryOp::Log10,
        UnaryOp::Tan,
        UnaryOp::Arcsin,
        UnaryOp::Arccos,
        UnaryOp::Arctan,
        UnaryOp::Sinh,
        UnaryOp::Cosh,
        UnaryOp::LogicalNot,
        UnaryOp::Invert,
    ];

    pub fn name(self) -> &'static str {
        use UnaryOp::*;
        match self {
            Negative => "negative",
            Abs => "absolute",
            Square => "square",
            Sqrt => "sqrt",
            Exp => "exp",
            Log => "log",
            Sin => "sin",
            Cos => "cos",
            Tanh => "tanh",
            Floor => "floor",
            Ceil => "ceil",
            IsNan => "isnan",
            IsFinite => "isfinite",
            Sign => "sign",
            Rint => "rint",
            Trunc => "trunc",
            IsInf => "isinf",
            Reciprocal => "reciprocal",
            Log1p => "log1p",
            Expm1 => "expm1",
            Log2 => "log2",
            Log10 => "log10",
            Tan => "tan",
            Arcsin => "arcsin",
            Arccos => "arccos",
            Arctan => "arctan",
            Sinh => "sinh",
            Cosh => "cosh",
            LogicalNot => "logical_not",
            Invert => "invert",
        }
    }

    /// Whether the ufunc is a float function (computed in floats, `float_result` dtype).
    fn is_float_function(self) -> bool {
        use UnaryOp::*;
        matches!(
            self,
            Sqrt | Exp
                | Log
                | Sin
                | Cos
                | Tanh
                | Rint
                | Log1p
                | Expm1
                | Log2
                | Log10
                | Tan
                | Arcsin
                | Arccos
                | Arctan
                | Sinh
                | Cosh
        )
    }

    /// `(loop dtype, output dtype)` for an operand of dtype `d`, as NumPy 2.4 resolves them
    /// (float functions of bool/int8/uint8 give float32 here, float16 in NumPy).
    pub fn dtypes(self, d: DType) -> Result<(DType, DType)> {
        use UnaryOp::*;
        Ok(match self {
            Negative if d == DType::Bool => {
                return Err(Error::invalid(
                    "The numpy boolean negative, the `-` operator, is not supported, use the `~` operator or the logical_not function instead.",
                ));
            }
            Sign if d == DType::Bool => {
                return Err(Error::invalid(
                    "ufunc 'sign' did not contain a loop with signature matching types <class 'numpy.dtypes.BoolDType'> -> None",
                ));
            }
            Invert if d.is_float() => {
                return Err(Error::invalid(
                    "ufunc 'invert' not supported for the input types, and the inputs could not be safely coerced to any supported types according to the casting rule ''safe''",
                ));
            }
            Square | Reciprocal if d == DType::Bool => (DType::I8, DType::I8),
            _ if self.is_float_function() => (float_result(d), float_result(d)),
            IsNan | IsFinite | IsInf | LogicalNot => (d, DType::Bool),
            _ => (d, d),
        })
    }
}

/// Applies a unary ufunc, returning a new C-contiguous array.
pub fn unary(op: UnaryOp, a: &NdArray) -> Result<NdArray> {
    let (loop_dt, out_dt) = op.dtypes(a.dtype())?;
    with_output(a, loop_dt, out_dt, |call| {
        // SAFETY: `call` describes a fresh packed output of `a`'s shape, `a` cast to `loop_dt`.
        unsafe {
            crate::dispatch_kinds!(loop_dt, int I => call.int::<I>(op), float F => call.float::<F>(op),
                bool => call.boolean(op))
        }
    })
}

/// The frame every unary loop shares: `a` cast to `loop_dt`, a fresh packed output of
/// `out_dt` in its shape, and `body` run on them (not for an empty array).
fn with_output(
    a: &NdArray,
    loop_dt: DType,
    out_dt: DType,
    body: impl FnOnce(&UnaryCall<'_>),
) -> Result<NdArray> {
    // Borrowed when no cast is needed: cloning the handle (a count up and down) and its
    // layout was a visible part of a 1 × 1 call.
    let a = if a.dtype() == loop_dt {
        std::borrow::Cow::Borrowed(a)
    } else {
        std::borrow::Cow::Owned(a.astype(loop_dt)?)
    };
    let mut out = NdArray::for_overwrite(a.shape(), out_dt)?;
    if a.is_empty() {
        return Ok(out);
    }
    let ptr = out.data_mut_ptr()?;
    let call = UnaryCall {
        a: &a,
        out: ptr,
        out_strides: out.strides(),
    };
    // `out` is fresh, solely owned and packed with `a`'s shape; `body` writes every element
    // through the engine, and `a` is in bounds of its own buffer.
    body(&call);
    Ok(out)
}

/// `np.round(a, decimals)`: half to even at `10^-decimals`. Floats compute
/// `rint(x * 10^d) / 10^d` (for negative `d`, `rint(x / 10^-d) * 10^-d`) exactly as NumPy
/// does, so `round(2.675, 2)` is 2.68 and `round(1e300, 10)` overflows to inf; integers keep
/// their dtype (exact, wrapping where the rounded value leaves the type, as NumPy's does); bool
/// rounds as float32 (NumPy: float16).
pub fn round(a: &NdArray, decimals: i32) -> Result<NdArray> {
    let loop_dt = if a.dtype() == DType::Bool {
        DType::F32
    } else {
        a.dtype()
    };
    fn float<T: FloatScalar>(call: &UnaryCall<'_>, decimals: i32) {
        let f = T::from_f64(10f64.powf(decimals.unsigned_abs() as f64));
        // SAFETY: as in `unary`: a fresh packed output of `a`'s shape, `a` of type `T`.
        unsafe {
            match decimals {
                0 => call.run(|x: T| x.rint()),
                1.. => call.run(move |x: T| x.mul(f).rint().div(f)),
                _ => call.run(move |x: T| x.div(f).rint().mul(f)),
            }
        }
    }
    fn int<T: IntScalar>(call: &UnaryCall<'_>, decimals: i32) {
        let k = decimals.unsigned_abs();
        // SAFETY: as in `float`.
        unsafe {
            if decimals >= 0 {
                call.run(|x: T| x)
            } else {
                call.run(move |x: T| x.round_to_pow10(k))
            }
        }
    }
    with_output(a, loop_dt, loop_dt, |call| {
        crate::dispatch_kinds!(loop_dt, int I => int::<I>(call, decimals),
            float F => float::<F>(call, decimals), bool => unreachable!("bool rounds as float32"))
    })
}

struct UnaryCall<'a> {
    a: &'a NdArray,
    out: *mut u8,
    out_strides: &'a [isize],
}

impl UnaryCall<'_> {
    /// # Safety
    /// `out`/`out_strides` describe a fresh packed output of `a`'s shape; `A`/`O` are the types.
    unsafe fn run<A: Element, O: Element>(&self, f: impl Fn(A) -> O + Sync) {
        // SAFETY: forwarded.
        unsafe { self.run_kernel(Map1::new(f)) }
    }

    /// [`run`](Self::run) for an expensive `f`.
    ///
    /// # Safety
    /// As `run`.
    unsafe fn run_compute<A: Element, O: Element>(&self, f: impl Fn(A) -> O + Sync) {
        // SAFETY: forwarded.
        unsafe { self.run_kernel(Map1::compute_bound(f)) }
    }

    /// # Safety
    /// As `run`.
    unsafe fn run_kernel<A: Element, O: Element, F: Fn(A) -> O + Sync>(&self, k: Map1<A, O, F>) {
        let bytes = size_of::<A>() + size_of::<O>();
        let ins = [(self.a.data_ptr(), self.a.strides())];
        // SAFETY: forwarded.
        unsafe { elementwise::run(self.a.shape(), self.out, self.out_strides, ins, bytes, &k) };
    }

    /// The operations every numeric type has.
    ///
    /// # Safety
    /// As `run`, with `a` of type `T`.
    unsafe fn numeric<T: Scalar>(&self, op: UnaryOp) {
        use UnaryOp::*;
        // SAFETY: forwarded.
        unsafe {
            match op {
                Negative => self.run(|x: T| x.neg()),
                Abs => self.run(|x: T| x.abs()),
                Square => self.run(|x: T| x.mul(x)),
                Floor => self.run(|x: T| x.floor()),
                Ceil => self.run(|x: T| x.ceil()),
                Trunc => self.run(|x: T| x.trunc()),
                Sign => self.run(|x: T| x.sign()),
                Reciprocal => self.run(|x: T| x.reciprocal()),
                IsNan => self.run(|x: T| x.is_nan() as u8),
                IsFinite => self.run(|x: T| x.is_finite() as u8),
                IsInf => self.run(|x: T| x.is_inf() as u8),
                // NaN is true, as in NumPy.
                LogicalNot => self.run(|x: T| (x == T::ZERO) as u8),
                _ => unreachable!("{op:?} has its own loops for {}", T::DTYPE),
            }
        }
    }

    /// # Safety
    /// As `numeric`.
    unsafe fn int<T: IntScalar>(&self, op: UnaryOp) {
        // SAFETY: forwarded.
        unsafe {
            match op {
                UnaryOp::Invert => self.run(|x: T| x.invert()),
                _ => self.numeric::<T>(op),
            }
        }
    }

    /// # Safety
    /// As `numeric`.
    unsafe fn float<T: FloatScalar>(&self, op: UnaryOp) {
        use UnaryOp::*;
        // SAFETY: forwarded.
        unsafe {
            match op {
                Sqrt => self.run_compute(|x: T| x.sqrt()),
                Exp => self.run_compute(|x: T| x.exp()),
                Log => self.run_compute(|x: T| x.ln()),
                Sin => self.run_compute(|x: T| x.sin()),
                Cos => self.run_compute(|x: T| x.cos()),
                Tanh => self.run_compute(|x: T| x.tanh()),
                Rint => self.run(|x: T| x.rint()),
                Log1p => self.run_compute(|x: T| x.log1p()),
                Expm1 => self.run_compute(|x: T| x.expm1()),
                Log2 => self.run_compute(|x: T| x.log2()),
                Log10 => self.run_compute(|x: T| x.log10()),
                Tan => self.run_compute(|x: T| x.tan()),
                Arcsin => self.run_compute(|x: T| x.asin()),
                Arccos => self.run_compute(|x: T| x.acos()),
                Arctan => self.run_compute(|x: T| x.atan()),
                Sinh => self.run_compute(|x: T| x.sinh()),
                Cosh => self.run_compute(|x: T| x.cosh()),
                _ => self.numeric::<T>(op),
            }
        }
    }

    /// # Safety
    /// As `run`, with a bool operand.
    unsafe fn boolean(&self, op: UnaryOp) {
        use UnaryOp::*;
        // SAFETY: forwarded.
        unsafe {
            match op {
                Abs | Floor | Ceil | Trunc => self.run(|x: u8| (x != 0) as u8),
                IsNan | IsInf => self.run(|_: u8| 0u8),
                IsFinite => self.run(|_: u8| 1u8),
                LogicalNot | Invert => self.run(|x: u8| (x == 0) as u8),
                _ => unreachable!("{op:?} of bool resolves to another dtype or is an error"),
            }
        }
    }
}
