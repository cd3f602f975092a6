//! Unary ufuncs.

use super::kernels::Map1;
use super::promote::float_result;
use super::scalar::{FloatScalar, Scalar};
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
}

impl UnaryOp {
    pub const ALL: [UnaryOp; 13] = [
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
        }
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
            Square if d == DType::Bool => (DType::I8, DType::I8),
            Sqrt | Exp | Log | Sin | Cos | Tanh => (float_result(d), float_result(d)),
            IsNan | IsFinite => (d, DType::Bool),
            _ => (d, d),
        })
    }
}

/// Applies a unary ufunc, returning a new C-contiguous array.
pub fn unary(op: UnaryOp, a: &NdArray) -> Result<NdArray> {
    let (loop_dt, out_dt) = op.dtypes(a.dtype())?;
    let a = if a.dtype() == loop_dt {
        a.clone()
    } else {
        a.astype(loop_dt)?
    };
    let mut out = NdArray::for_overwrite(a.shape(), out_dt)?;
    if a.is_empty() {
        return Ok(out);
    }
    let strides = out.strides().to_vec();
    let go = Go {
        a: &a,
        out: out.data_mut_ptr()?,
        out_strides: &strides,
    };
    // SAFETY: `out` is fresh, solely owned and packed with `a`'s shape; every element is
    // written by the engine; `a` is in bounds of its own buffer.
    unsafe {
        match loop_dt {
            DType::F32 => go.float::<f32>(op),
            DType::F64 => go.float::<f64>(op),
            _ => {
                crate::dispatch_numeric!(loop_dt, T => go.numeric::<T>(op), bool => go.boolean(op))
            }
        }
    }
    Ok(out)
}

struct Go<'a> {
    a: &'a NdArray,
    out: *mut u8,
    out_strides: &'a [isize],
}

impl Go<'_> {
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
                IsNan => self.run(|x: T| x.is_nan() as u8),
                IsFinite => self.run(|x: T| x.is_finite() as u8),
                Sqrt | Exp | Log | Sin | Cos | Tanh => {
                    unreachable!("float functions loop over floats")
                }
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
                Abs | Floor | Ceil => self.run(|x: u8| (x != 0) as u8),
                IsNan => self.run(|_: u8| 0u8),
                IsFinite => self.run(|_: u8| 1u8),
                Negative | Square | Sqrt | Exp | Log | Sin | Cos | Tanh => {
                    unreachable!("resolved to other dtypes")
                }
            }
        }
    }
}
