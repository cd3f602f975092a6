//! Reductions: sum, prod, min, max, mean, any, all, argmin, argmax over one axis, several
//! axes or all, with `keepdims`.
//!
//! The input's axes are planned like an elementwise loop (ordered by the input's strides,
//! contiguous axes merged), with the output read through stride 0 on reduced axes. Then:
//! - innermost axis **reduced** (e.g. `sum(axis=1)` of a C array): each output element gets the
//!   reduction of a contiguous run; float sums use NumPy's pairwise summation, so summing 1e8
//!   float32 ones gives exactly 1e8;
//! - innermost axis **kept** (e.g. `sum(axis=0)`): whole output rows accumulate input rows in
//!   vectorised loops, which is as fast as the contiguous case (NumPy does the same row-wise
//!   accumulation here, so results match it bit for bit).
//!
//! Threads split a kept axis (disjoint outputs), or for a full reduction the run itself, with
//! partial results combined at the end.
//!
//! Files: this one (NumPy's rules: axes, dtypes, `keepdims`), `engine` (the loops over a
//! planned input), `pairwise` (NumPy's pairwise summation), `arg` (argmin and argmax).

use rayon::prelude::*;

use super::binary::{BinaryOp, binary};
use super::promote::sum_result;
use super::row_sum;
use super::scalar::Scalar;
use crate::array::NdArray;
use crate::cpu::dispatched;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::iter::{AxisPlan, plan_axes};
use crate::layout::{Dims, Strides, normalize_axis};
use arg::arg_reduce;
use engine::reduce_typed;
pub(crate) use pairwise::pairwise_sum;

mod arg;
mod engine;
mod pairwise;

/// The reductions, with NumPy's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReduceOp {
    Sum,
    Prod,
    Min,
    Max,
    /// `np.fmin.reduce`: NaN is skipped unless every element is NaN (`nanmin` of floats).
    Fmin,
    /// `np.fmax.reduce`.
    Fmax,
    Mean,
    Any,
    All,
    ArgMin,
    ArgMax,
}

impl ReduceOp {
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Prod => "prod",
            ReduceOp::Min => "minimum",
            ReduceOp::Max => "maximum",
            ReduceOp::Fmin => "fmin",
            ReduceOp::Fmax => "fmax",
            ReduceOp::Mean => "mean",
            ReduceOp::Any => "any",
            ReduceOp::All => "all",
            ReduceOp::ArgMin => "argmin",
            ReduceOp::ArgMax => "argmax",
        }
    }
}

/// Reduces `a` over `axes` (all axes when `None`).
pub fn reduce(
    op: ReduceOp,
    a: &NdArray,
    axes: Option<&[isize]>,
    keepdims: bool,
) -> Result<NdArray> {
    let nd = a.ndim();
    let mut reduced: smallvec::SmallVec<[bool; 8]> = smallvec::smallvec![false; nd];
    match axes {
        None => reduced.iter_mut().for_each(|r| *r = true),
        Some(list) => {
            for &ax in list {
                let ax = normalize_axis(ax, nd)?;
                if std::mem::replace(&mut reduced[ax], true) {
                    return Err(Error::invalid("duplicate value in 'axis'"));
                }
            }
        }
    }
    let out = match op {
        ReduceOp::ArgMin | ReduceOp::ArgMax => return arg_reduce(op, a, axes, keepdims),
        ReduceOp::Sum | ReduceOp::Prod => {
            let acc = sum_result(a.dtype());
            if a.dtype() == acc {
                reduce_typed_dispatch(op, a, &reduced)?
            } else {
                reduce_typed_dispatch(op, &a.astype(acc)?, &reduced)?
            }
        }
        ReduceOp::Min | ReduceOp::Max | ReduceOp::Fmin | ReduceOp::Fmax => {
            reduce_typed_dispatch(op, a, &reduced)?
        }
        ReduceOp::Mean => {
            let acc = if a.dtype().is_float() {
                a.dtype()
            } else {
                DType::F64
            };
            let x = if a.dtype() == acc {
                a.clone()
            } else {
                a.astype(acc)?
            };
            let sum = reduce_typed_dispatch(ReduceOp::Sum, &x, &reduced)?;
            let count: usize = a
                .shape()
                .iter()
                .zip(&reduced)
                .filter(|(_, r)| **r)
                .map(|(d, _)| *d)
                .product();
            let n = NdArray::full_f64(&[], count as f64, acc)?;
            binary(BinaryOp::Divide, &sum, &n)?
        }
        ReduceOp::Any | ReduceOp::All => {
            // Truth values as bytes 0/1, then max (any) or min (all) with the empty identities.
            let truth = binary(BinaryOp::NotEqual, a, &NdArray::zeros(&[], a.dtype())?)?;
            let empty = a.shape().iter().zip(&reduced).any(|(d, r)| *r && *d == 0);
            if empty {
                let kept: Vec<usize> = a
                    .shape()
                    .iter()
                    .zip(&reduced)
                    .filter(|(_, r)| !**r)
                    .map(|(d, _)| *d)
                    .collect();
                NdArray::full_f64(&kept, (op == ReduceOp::All) as u8 as f64, DType::Bool)?
            } else {
                let m = if op == ReduceOp::Any {
                    ReduceOp::Max
                } else {
                    ReduceOp::Min
                };
                reduce_typed_dispatch(m, &truth, &reduced)?
            }
        }
    };
    finish(out, a.shape(), &reduced, keepdims)
}

/// Reshapes a reduction's output (shape of the kept axes) for `keepdims`.
fn finish(out: NdArray, shape: &[usize], reduced: &[bool], keepdims: bool) -> Result<NdArray> {
    if !keepdims {
        return Ok(out);
    }
    let kd: Vec<usize> = shape
        .iter()
        .zip(reduced)
        .map(|(&d, &r)| if r { 1 } else { d })
        .collect();
    out.reshape_view(&kd)
}

fn reduce_typed_dispatch(op: ReduceOp, a: &NdArray, reduced: &[bool]) -> Result<NdArray> {
    crate::dispatch_numeric!(a.dtype(), T => reduce_typed::<T>(op, a, reduced),
    bool => {
        // Bool min/max are and/or over normalised truth bytes; the output stays bool.
        let t = binary(BinaryOp::NotEqual, a, &NdArray::zeros(&[], DType::Bool)?)?;
        let u = t.view_dtype(DType::U8)?;
        reduce_typed::<u8>(op, &u, reduced)?.view_dtype(DType::Bool)
    })
}
