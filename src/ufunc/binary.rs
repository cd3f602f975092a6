//! Binary ufuncs: broadcasting, NumPy 2 promotion, typed kernels, `out=` and `outer`.

use super::kernels::Map2;
use super::promote::{float_result, out_target, result_type};
use super::scalar::{FloatScalar, IntScalar, Scalar};
use crate::array::{ArrayViewMut, NdArray};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result, shape_str};
use crate::iter::elementwise;
use crate::layout::{Layout, SliceInfo, SliceItem, broadcast_dims, same_shape};

/// The binary ufuncs, with NumPy's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Subtract,
    Multiply,
    /// True division: integers divide as float64.
    Divide,
    Power,
    Maximum,
    Minimum,
    Fmax,
    Fmin,
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    LogicalAnd,
    LogicalOr,
    LogicalXor,
    /// Integers and bool only.
    BitwiseAnd,
    BitwiseOr,
    BitwiseXor,
    /// Python's `%` (`np.mod`): the remainder takes the divisor's sign.
    Remainder,
    /// Python's `//`.
    FloorDivide,
    Arctan2,
    Hypot,
}

impl BinaryOp {
    pub const ALL: [BinaryOp; 25] = [
        BinaryOp::Add,
        BinaryOp::Subtract,
        BinaryOp::Multiply,
        BinaryOp::Divide,
        BinaryOp::Power,
        BinaryOp::Maximum,
        BinaryOp::Minimum,
        BinaryOp::Fmax,
        BinaryOp::Fmin,
        BinaryOp::Equal,
        BinaryOp::NotEqual,
        BinaryOp::Less,
        BinaryOp::LessEqual,
        BinaryOp::Greater,
        BinaryOp::GreaterEqual,
        BinaryOp::LogicalAnd,
        BinaryOp::LogicalOr,
        BinaryOp::LogicalXor,
        BinaryOp::BitwiseAnd,
        BinaryOp::BitwiseOr,
        BinaryOp::BitwiseXor,
        BinaryOp::Remainder,
        BinaryOp::FloorDivide,
        BinaryOp::Arctan2,
        BinaryOp::Hypot,
    ];

    /// NumPy's name for the ufunc.
    pub fn name(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Add => "add",
            Subtract => "subtract",
            Multiply => "multiply",
            Divide => "divide",
            Power => "power",
            Maximum => "maximum",
            Minimum => "minimum",
            Fmax => "fmax",
            Fmin => "fmin",
            Equal => "equal",
            NotEqual => "not_equal",
            Less => "less",
            LessEqual => "less_equal",
            Greater => "greater",
            GreaterEqual => "greater_equal",
            LogicalAnd => "logical_and",
            LogicalOr => "logical_or",
            LogicalXor => "logical_xor",
            BitwiseAnd => "bitwise_and",
            BitwiseOr => "bitwise_or",
            BitwiseXor => "bitwise_xor",
            Remainder => "remainder",
            FloorDivide => "floor_divide",
            Arctan2 => "arctan2",
            Hypot => "hypot",
        }
    }

    /// `(loop dtype, output dtype)` for operands of dtypes `a` and `b`.
    pub fn dtypes(self, a: DType, b: DType) -> Result<(DType, DType)> {
        use BinaryOp::*;
        let common = result_type(a, b);
        Ok(match self {
            Equal | NotEqual | Less | LessEqual | Greater | GreaterEqual => (common, DType::Bool),
            LogicalAnd | LogicalOr | LogicalXor => (DType::Bool, DType::Bool),
            BitwiseAnd | BitwiseOr | BitwiseXor if common.is_float() => {
                return Err(Error::invalid(format!(
                    "ufunc '{}' not supported for the input types, and the inputs could not be safely coerced to any supported types according to the casting rule ''safe''",
                    self.name()
                )));
            }
            Arctan2 | Hypot => (float_result(common), float_result(common)),
            // NumPy: bool // bool and bool % bool are int8.
            Remainder | FloorDivide if common == DType::Bool => (DType::I8, DType::I8),
            Divide => {
                let f = if common.is_float() {
                    common
                } else {
                    DType::F64
                };
                (f, f)
            }
            Subtract if common == DType::Bool => {
                return Err(Error::invalid(
                    "numpy boolean subtract, the `-` operator, is not supported, use the bitwise_xor, the `^` operator, or the logical_xor function instead.",
                ));
            }
            // NumPy: bool ** bool is int8.
            Power if common == DType::Bool => (DType::I8, DType::I8),
            _ => (common, common),
        })
    }
}

/// Applies a binary ufunc with broadcasting, returning a new C-contiguous array.
pub fn binary(op: BinaryOp, a: &NdArray, b: &NdArray) -> Result<NdArray> {
    let shape = broadcast_dims(&[a.shape(), b.shape()])?;
    let (loop_dt, out_dt) = op.dtypes(a.dtype(), b.dtype())?;
    let mut out = NdArray::for_overwrite(&shape, out_dt)?;
    let ptr = out.data_mut_ptr()?;
    // SAFETY: `out` is fresh, solely owned, packed at offset 0 (so `ptr` is also its
    // buffer's start), and every element is written below.
    unsafe { run_into(op, a, b, loop_dt, ptr, out.layout())? };
    Ok(out)
}

/// NumPy's `ufunc(a, b, out=out)`: writes into an existing (possibly strided) mutable view.
/// The result dtype must cast to the view's dtype under NumPy's `same_kind` rule, and the
/// operands must broadcast to the view's shape.
pub fn binary_into<T: Element>(
    op: BinaryOp,
    a: &NdArray,
    b: &NdArray,
    out: &mut ArrayViewMut<'_, T>,
) -> Result<()> {
    let (loop_dt, out_dt) = op.dtypes(a.dtype(), b.dtype())?;
    let target = out_target(op.name(), out_dt, T::DTYPE)?;
    let shape = broadcast_dims(&[a.shape(), b.shape()])?;
    if !broadcast_dims(&[&shape, out.shape()]).is_ok_and(|s| same_shape(&s, out.shape())) {
        return Err(Error::shape(
            op.name(),
            format!(
                "non-broadcastable output operand with shape {} doesn't match the broadcast shape {}",
                shape_str(out.shape()),
                shape_str(&shape)
            ),
        ));
    }
    if out_dt == target {
        let (ptr, layout) = out.raw_parts();
        // SAFETY: the view is exclusively borrowed, in bounds and free of self-overlap; its
        // buffer has a single owner, so `a` and `b` (other handles) cannot share it.
        unsafe { run_into(op, a, b, loop_dt, ptr, layout) }
    } else {
        let tmp = binary(op, a, b)?.astype(T::DTYPE)?;
        out.assign(&tmp.view::<T>()?)
    }
}

/// NumPy's `ufunc.outer(a, b)`: the result has shape `a.shape + b.shape`.
pub fn outer(op: BinaryOp, a: &NdArray, b: &NdArray) -> Result<NdArray> {
    let mut items = vec![SliceItem::Ellipsis];
    items.extend(std::iter::repeat_n(SliceItem::NewAxis, b.ndim()));
    binary(op, &a.slice(SliceInfo::new(items))?, b)
}

/// Computes `op(a, b)` into the output described by `ptr` (buffer start) and `layout`.
///
/// # Safety
/// `layout` is in bounds of the buffer at `ptr`, free of self-overlap, exclusively the
/// caller's, and shares no bytes with `a` or `b`; its shape is the broadcast shape of `a` and `b`.
unsafe fn run_into(
    op: BinaryOp,
    a: &NdArray,
    b: &NdArray,
    loop_dt: DType,
    ptr: *mut u8,
    layout: &Layout,
) -> Result<()> {
    // Casting and broadcasting only when needed: small arrays are dominated by such overhead.
    let ready = |x: &NdArray| x.dtype() == loop_dt && same_shape(x.shape(), &layout.shape);
    let prepare = |x: &NdArray| -> Result<NdArray> {
        let x = if x.dtype() == loop_dt {
            x.clone()
        } else {
            x.astype(loop_dt)?
        };
        if same_shape(x.shape(), &layout.shape) {
            Ok(x)
        } else {
            x.broadcast_to(&layout.shape)
        }
    };
    // Checked on the exponents as given (before broadcasting, which could repeat them).
    if op == BinaryOp::Power
        && loop_dt.is_signed_int()
        && b.dtype().is_signed_int()
        && !b.is_empty()
    {
        let min = super::reduce::reduce(super::ReduceOp::Min, b, None, false)?;
        if min.to_vec_f64()?[0] < 0.0 {
            return Err(Error::invalid(
                "Integers to negative integer powers are not allowed.",
            ));
        }
    }
    if layout.shape.contains(&0) {
        return Ok(());
    }
    // Operands that already have the loop's dtype and shape are passed as they are. Matching
    // here, rather than returning `Option<NdArray>` from `prepare`, keeps the common path from
    // building and moving array-sized values (perf showed store-forwarding stalls on them).
    // SAFETY: forwarded from the caller; prepared operands have the loop dtype and the
    // output's shape, and are fresh or read-only views, so they share no bytes with it.
    unsafe {
        match (ready(a), ready(b)) {
            (true, true) => run_loop(op, a, b, loop_dt, ptr, layout),
            (false, true) => run_loop(op, &prepare(a)?, b, loop_dt, ptr, layout),
            (true, false) => run_loop(op, a, &prepare(b)?, loop_dt, ptr, layout),
            (false, false) => run_loop(op, &prepare(a)?, &prepare(b)?, loop_dt, ptr, layout),
        }
    }
}

/// The typed loop of `run_into` once both operands have the loop dtype and the output's shape.
///
/// # Safety
/// As `run_into`, and `layout` is not empty.
unsafe fn run_loop(
    op: BinaryOp,
    a: &NdArray,
    b: &NdArray,
    loop_dt: DType,
    ptr: *mut u8,
    layout: &Layout,
) -> Result<()> {
    // SAFETY: offsets of non-empty in-bounds layouts are inside their buffers.
    let out = unsafe { ptr.add(layout.offset) };
    let call = BinaryCall {
        a,
        b,
        out,
        out_strides: &layout.strides,
    };
    // SAFETY: forwarded from the caller; operands are broadcast to the output's shape.
    unsafe {
        crate::dispatch_kinds!(loop_dt, int I => call.int::<I>(op), float F => call.float::<F>(op),
            bool => call.boolean(op))
    }
}

struct BinaryCall<'a> {
    a: &'a NdArray,
    b: &'a NdArray,
    out: *mut u8,
    out_strides: &'a [isize],
}

impl BinaryCall<'_> {
    /// # Safety
    /// As `run_into`; `A`, `B` are the operands' element types and `O` the output's.
    unsafe fn run<A: Element, B: Element, O: Element>(
        &self,
        f: impl Fn(A, B) -> O + Sync,
    ) -> Result<()> {
        let bytes = size_of::<A>() + size_of::<B>() + size_of::<O>();
        let kernel = Map2::new(f);
        let packed =
            |strides: &[isize], isz: usize| Layout::is_packed_c(self.a.shape(), strides, isz);
        if packed(self.out_strides, size_of::<O>())
            && packed(self.a.strides(), size_of::<A>())
            && packed(self.b.strides(), size_of::<B>())
        {
            // All three packed in C order: one flat run, no axis planning.
            let n = [self.a.size()];
            let (sa, sb, so) = (
                [size_of::<A>() as isize],
                [size_of::<B>() as isize],
                [size_of::<O>() as isize],
            );
            let ins: [(*const u8, &[isize]); 2] =
                [(self.a.data_ptr(), &sa), (self.b.data_ptr(), &sb)];
            // SAFETY: forwarded; a packed layout of n elements is one run of n.
            unsafe { elementwise::run(&n, self.out, &so, ins, bytes, &kernel) };
        } else {
            let ins = [
                (self.a.data_ptr(), self.a.strides()),
                (self.b.data_ptr(), self.b.strides()),
            ];
            // SAFETY: forwarded.
            unsafe {
                elementwise::run(
                    self.a.shape(),
                    self.out,
                    self.out_strides,
                    ins,
                    bytes,
                    &kernel,
                )
            };
        }
        Ok(())
    }

    /// # Safety
    /// As `run_into`, with both operands of type `T`.
    unsafe fn numeric<T: Scalar>(&self, op: BinaryOp) -> Result<()> {
        use BinaryOp::*;
        // SAFETY: forwarded.
        unsafe {
            match op {
                Add => self.run(|x: T, y: T| x.add(y)),
                Subtract => self.run(|x: T, y: T| x.sub(y)),
                Multiply => self.run(|x: T, y: T| x.mul(y)),
                Power => self.run(|x: T, y: T| x.pow(y)),
                Maximum => self.run(|x: T, y: T| x.maximum(y)),
                Minimum => self.run(|x: T, y: T| x.minimum(y)),
                Fmax => self.run(|x: T, y: T| x.fmax(y)),
                Fmin => self.run(|x: T, y: T| x.fmin(y)),
                Equal => self.run(|x: T, y: T| (x == y) as u8),
                NotEqual => self.run(|x: T, y: T| (x != y) as u8),
                Less => self.run(|x: T, y: T| (x < y) as u8),
                LessEqual => self.run(|x: T, y: T| (x <= y) as u8),
                Greater => self.run(|x: T, y: T| (x > y) as u8),
                GreaterEqual => self.run(|x: T, y: T| (x >= y) as u8),
                Remainder => self.run(|x: T, y: T| x.remainder(y)),
                FloorDivide => self.run(|x: T, y: T| x.floor_divide(y)),
                _ => unreachable!("{op:?} has its own loops for {}", T::DTYPE),
            }
        }
    }

    /// # Safety
    /// As `numeric`.
    unsafe fn int<T: IntScalar>(&self, op: BinaryOp) -> Result<()> {
        use BinaryOp::*;
        // SAFETY: forwarded.
        unsafe {
            match op {
                BitwiseAnd => self.run(|x: T, y: T| x.bitand(y)),
                BitwiseOr => self.run(|x: T, y: T| x.bitor(y)),
                BitwiseXor => self.run(|x: T, y: T| x.bitxor(y)),
                _ => self.numeric::<T>(op),
            }
        }
    }

    /// # Safety
    /// As `numeric`.
    unsafe fn float<T: FloatScalar>(&self, op: BinaryOp) -> Result<()> {
        use BinaryOp::*;
        // SAFETY: forwarded.
        unsafe {
            match op {
                Divide => self.run(|x: T, y: T| x.div(y)),
                Arctan2 => self.run(|x: T, y: T| x.atan2(y)),
                Hypot => self.run(|x: T, y: T| x.hypot(y)),
                _ => self.numeric::<T>(op),
            }
        }
    }

    /// Bool loops on bytes: any nonzero byte is True, results are 0 or 1.
    ///
    /// # Safety
    /// As `run_into`, with both operands bool.
    unsafe fn boolean(&self, op: BinaryOp) -> Result<()> {
        use BinaryOp::*;
        let t = |x: u8| x != 0;
        // SAFETY: forwarded.
        unsafe {
            match op {
                Add | Maximum | Fmax | LogicalOr => {
                    self.run(move |x: u8, y: u8| (t(x) | t(y)) as u8)
                }
                Multiply | Minimum | Fmin | LogicalAnd | BitwiseAnd => {
                    self.run(move |x: u8, y: u8| (t(x) & t(y)) as u8)
                }
                BitwiseOr => self.run(move |x: u8, y: u8| (t(x) | t(y)) as u8),
                Equal => self.run(move |x: u8, y: u8| (t(x) == t(y)) as u8),
                NotEqual | LogicalXor | BitwiseXor => {
                    self.run(move |x: u8, y: u8| (t(x) != t(y)) as u8)
                }
                Less => self.run(move |x: u8, y: u8| (!t(x) & t(y)) as u8),
                LessEqual => self.run(move |x: u8, y: u8| (!t(x) | t(y)) as u8),
                Greater => self.run(move |x: u8, y: u8| (t(x) & !t(y)) as u8),
                GreaterEqual => self.run(move |x: u8, y: u8| (t(x) | !t(y)) as u8),
                _ => unreachable!("{op:?} never loops over bool"),
            }
        }
    }
}
