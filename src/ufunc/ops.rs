//! NumPy-named methods on `NdArray`, in-place forms, and the `std::ops` operators.

use super::binary::{BinaryOp, binary};
use super::reduce::{ReduceOp, reduce};
use super::unary::{UnaryOp, unary};
use crate::array::NdArray;
use crate::error::{Error, Result, shape_str};
use crate::layout::SliceInfo;

macro_rules! binary_methods {
    ($($(#[$m:meta])* $name:ident => $op:ident),* $(,)?) => {
        impl NdArray {$(
            $(#[$m])*
            pub fn $name(&self, other: &NdArray) -> Result<NdArray> {
                binary(BinaryOp::$op, self, other)
            }
        )*}
    };
}

binary_methods! {
    /// `np.add(self, other)` with broadcasting and NumPy 2 promotion.
    add => Add,
    /// `np.subtract`.
    sub => Subtract,
    /// `np.multiply`.
    mul => Multiply,
    /// `np.divide` (true division: integers give float64).
    div => Divide,
    /// `np.power` (integers to negative powers are an error).
    pow => Power,
    /// `np.maximum` (NaN propagates).
    maximum => Maximum,
    /// `np.minimum` (NaN propagates).
    minimum => Minimum,
    /// `np.fmax` (NaN ignored where the other side is a number).
    fmax => Fmax,
    /// `np.fmin`.
    fmin => Fmin,
    /// `np.equal`, bool output.
    equal => Equal,
    /// `np.not_equal`.
    not_equal => NotEqual,
    /// `np.less`.
    less => Less,
    /// `np.less_equal`.
    less_equal => LessEqual,
    /// `np.greater`.
    greater => Greater,
    /// `np.greater_equal`.
    greater_equal => GreaterEqual,
    /// `np.logical_and` (truth values of any dtype), bool output.
    logical_and => LogicalAnd,
    /// `np.logical_or`.
    logical_or => LogicalOr,
    /// `np.logical_xor`.
    logical_xor => LogicalXor,
    /// `np.bitwise_and` (integers and bool; `&a & &b`).
    bitwise_and => BitwiseAnd,
    /// `np.bitwise_or` (`&a | &b`).
    bitwise_or => BitwiseOr,
    /// `np.bitwise_xor` (`&a ^ &b`).
    bitwise_xor => BitwiseXor,
    /// `np.remainder` (`np.mod`, Python's `%`, the divisor's sign; `&a % &b`). Integers give
    /// 0 for a zero divisor, floats NaN.
    remainder => Remainder,
    /// `np.floor_divide` (Python's `//`). Integers give 0 for a zero divisor, floats ±inf or
    /// NaN.
    floor_divide => FloorDivide,
    /// `np.arctan2(self, other)`: the angle of the point (other, self).
    arctan2 => Arctan2,
    /// `np.hypot`.
    hypot => Hypot,
}

macro_rules! unary_methods {
    ($($(#[$m:meta])* $name:ident => $op:ident),* $(,)?) => {
        impl NdArray {$(
            $(#[$m])*
            pub fn $name(&self) -> Result<NdArray> {
                unary(UnaryOp::$op, self)
            }
        )*}
    };
}

unary_methods! {
    /// `np.negative` (an error for bool, as in NumPy).
    neg => Negative,
    /// `np.abs`.
    abs => Abs,
    /// `np.square`.
    square => Square,
    /// `np.sqrt`.
    sqrt => Sqrt,
    /// `np.exp`.
    exp => Exp,
    /// `np.log`.
    log => Log,
    /// `np.sin`.
    sin => Sin,
    /// `np.cos`.
    cos => Cos,
    /// `np.tanh`.
    tanh => Tanh,
    /// `np.floor` (the identity for integers).
    floor => Floor,
    /// `np.ceil`.
    ceil => Ceil,
    /// `np.isnan`, bool output.
    isnan => IsNan,
    /// `np.isfinite`, bool output.
    isfinite => IsFinite,
    /// `np.isinf`, bool output.
    isinf => IsInf,
    /// `np.sign`: -1, 0 or 1 in the input's dtype (NaN stays NaN; an error for bool).
    sign => Sign,
    /// `np.rint`: the nearest integer, half to even, as a float (integers give floats).
    rint => Rint,
    /// `np.trunc` (the identity for integers and bool).
    trunc => Trunc,
    /// `np.reciprocal`: `1 / x`; integers truncate and give 0 for 0 (NumPy: what the
    /// platform's division gives, the minimum for int32 and int64 on x86).
    reciprocal => Reciprocal,
    /// `np.log1p`: `ln(1 + x)`, accurate near 0.
    log1p => Log1p,
    /// `np.expm1`: `exp(x) - 1`, accurate near 0.
    expm1 => Expm1,
    /// `np.log2`.
    log2 => Log2,
    /// `np.log10`.
    log10 => Log10,
    /// `np.tan`.
    tan => Tan,
    /// `np.arcsin`.
    arcsin => Arcsin,
    /// `np.arccos`.
    arccos => Arccos,
    /// `np.arctan`.
    arctan => Arctan,
    /// `np.sinh`.
    sinh => Sinh,
    /// `np.cosh`.
    cosh => Cosh,
    /// `np.logical_not`, bool output (NaN is true).
    logical_not => LogicalNot,
    /// `np.invert` (`np.bitwise_not`, `!&a`): integers and bool.
    invert => Invert,
    /// `np.bitwise_not`, the same as [`invert`](Self::invert).
    bitwise_not => Invert,
}

impl NdArray {
    /// `np.round(self, decimals)`: half to even; integers keep their dtype (see
    /// [`round`](super::unary::round)).
    pub fn round(&self, decimals: i32) -> Result<NdArray> {
        super::unary::round(self, decimals)
    }
}

macro_rules! reduce_methods {
    ($($(#[$m:meta])* $name:ident, $axis_name:ident => $op:ident),* $(,)?) => {
        impl NdArray {$(
            $(#[$m])*
            pub fn $name(&self, axes: Option<&[isize]>, keepdims: bool) -> Result<NdArray> {
                reduce(ReduceOp::$op, self, axes, keepdims)
            }
            #[doc = concat!("`", stringify!($name), "` over one axis (negative counts from the end), without keepdims.")]
            pub fn $axis_name(&self, axis: isize) -> Result<NdArray> {
                reduce(ReduceOp::$op, self, Some(&[axis]), false)
            }
        )*}
    };
}

reduce_methods! {
    /// `np.sum(a, axis=axes, keepdims=keepdims)`; `axes: None` sums everything. Integers and
    /// bool sum as int64 (unsigned as uint64); floats use pairwise summation.
    sum, sum_axis => Sum,
    /// `np.prod`.
    prod, prod_axis => Prod,
    /// `np.min` (NaN propagates; an error on an empty reduction).
    min, min_axis => Min,
    /// `np.max`.
    max, max_axis => Max,
    /// `np.mean` (float64 for integers).
    mean, mean_axis => Mean,
    /// `np.any`, bool output.
    any, any_axis => Any,
    /// `np.all`, bool output.
    all, all_axis => All,
    /// `np.argmin`: int64 index of the first minimum over one axis, or over the flattened
    /// array with `axes: None`.
    argmin, argmin_axis => ArgMin,
    /// `np.argmax`.
    argmax, argmax_axis => ArgMax,
}

impl NdArray {
    /// `np.ufunc(self, rhs, out=self)`: updates this array in place. The handle must be the
    /// sole owner of a writeable buffer, and the result must cast to this array's dtype under
    /// `same_kind` (`int += float` is an error, as in NumPy).
    ///
    /// A `rhs` that shares this array's buffer (`a += &a.t()`) is an error that names the
    /// by-value spelling: `a += a.t()` hands the view over, so it can be read in full and
    /// dropped before the write (see [`apply_within`](Self::apply_within)).
    pub fn apply_inplace(&mut self, op: BinaryOp, rhs: &NdArray) -> Result<()> {
        if self.shares_buffer_with(rhs) {
            return Err(Error::NotWriteable {
                why: format!(
                    "the right-hand side of the in-place {} shares this array's buffer, and a \
                     borrowed operand stays alive through the write: pass it by value \
                     (`a += a.t()` rather than `a += &a.t()`, or apply_within), so it is read \
                     in full and dropped before the write",
                    op.name()
                ),
            });
        }
        self.apply_within(op, SliceInfo::default(), rhs.clone())
    }

    /// NumPy's `self[dst] op= rhs`, where `rhs` may be a view of this same array, e.g.
    /// `a[1:] += a[:-1]`:
    ///
    /// ```
    /// use ndstride::{NdArray, s, ufunc::BinaryOp};
    /// let mut a = NdArray::arange_step(0.0, 5.0, 1.0, ndstride::DType::F64)?;
    /// let src = a.slice(s![..-1])?;
    /// a.apply_within(BinaryOp::Add, s![1..], src)?;
    /// assert_eq!(a.to_vec::<f64>()?, vec![0., 1., 3., 5., 7.]); // NumPy's answer
    /// # Ok::<(), ndstride::Error>(())
    /// ```
    ///
    /// The right-hand side is taken by value so that no other handle to the buffer survives the
    /// call; the result is computed in full before it is written, which is what NumPy's overlap
    /// detection achieves by copying the input.
    pub fn apply_within(&mut self, op: BinaryOp, dst: SliceInfo, rhs: NdArray) -> Result<()> {
        let result = {
            let target = self.slice(dst.clone())?;
            let r = binary(op, &target, &rhs)?;
            if r.shape() != target.shape() {
                return Err(Error::shape(
                    op.name(),
                    format!(
                        "non-broadcastable output operand with shape {} doesn't match the broadcast shape {}",
                        shape_str(target.shape()),
                        shape_str(r.shape())
                    ),
                ));
            }
            super::promote::out_target(op.name(), r.dtype(), self.dtype())?;
            if r.dtype() == self.dtype() {
                r
            } else {
                r.astype(self.dtype())?
            }
        };
        drop(rhs);
        crate::dispatch_numeric!(self.dtype(), T => self.slice_mut::<T>(dst)?.assign(&result.view::<T>()?),
            bool => self.slice_mut::<u8>(dst)?.assign(&result.view::<u8>()?))
    }
}

/// The value, or a panic with the error's message: the `std::ops` operators cannot return
/// errors.
pub(crate) fn std_panic<T>(r: Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! std_binary_op {
    ($($tr:ident, $method:ident, $assign_tr:ident, $assign_method:ident => $op:ident);* $(;)?) => {$(
        /// Panics where the method form returns an error (shapes that do not broadcast, bad
        /// dtypes); use the method for fallible input.
        impl std::ops::$tr<&NdArray> for &NdArray {
            type Output = NdArray;
            fn $method(self, rhs: &NdArray) -> NdArray {
                binary(BinaryOp::$op, self, rhs).unwrap_or_else(|e| panic!("{e}"))
            }
        }
        /// Panics where [`NdArray::apply_inplace`] returns an error (shared or read-only buffer,
        /// shapes, `same_kind` casting).
        impl std::ops::$assign_tr<&NdArray> for NdArray {
            fn $assign_method(&mut self, rhs: &NdArray) {
                self.apply_inplace(BinaryOp::$op, rhs).unwrap_or_else(|e| panic!("{e}"))
            }
        }
        /// Takes `rhs` by value, so it may be a view of this array (`a += a.t()`): the result
        /// is computed in full, `rhs` dropped, then written, as NumPy buffers an overlapping
        /// operand. Panics where [`NdArray::apply_within`] returns an error.
        impl std::ops::$assign_tr<NdArray> for NdArray {
            fn $assign_method(&mut self, rhs: NdArray) {
                self.apply_within(BinaryOp::$op, SliceInfo::default(), rhs).unwrap_or_else(|e| panic!("{e}"))
            }
        }
    )*};
}

std_binary_op! {
    Add, add, AddAssign, add_assign => Add;
    Sub, sub, SubAssign, sub_assign => Subtract;
    Mul, mul, MulAssign, mul_assign => Multiply;
    Div, div, DivAssign, div_assign => Divide;
    Rem, rem, RemAssign, rem_assign => Remainder;
    BitAnd, bitand, BitAndAssign, bitand_assign => BitwiseAnd;
    BitOr, bitor, BitOrAssign, bitor_assign => BitwiseOr;
    BitXor, bitxor, BitXorAssign, bitxor_assign => BitwiseXor;
}

/// NumPy's `~a` (`np.invert`); panics for floats, as NumPy raises; use [`NdArray::invert`]
/// for a `Result`.
impl std::ops::Not for &NdArray {
    type Output = NdArray;
    fn not(self) -> NdArray {
        std_panic(unary(UnaryOp::Invert, self))
    }
}

/// Panics for bool arrays, as NumPy raises; use [`NdArray::neg`] for a `Result`.
impl std::ops::Neg for &NdArray {
    type Output = NdArray;
    fn neg(self) -> NdArray {
        unary(UnaryOp::Negative, self).unwrap_or_else(|e| panic!("{e}"))
    }
}
