//! Statistics built from the reductions and elementwise ufuncs, in NumPy's formulas: `var` and
//! `std` with `ddof`, and the NaN-skipping `nansum`, `nanmean`, `nanmin`, `nanmax`.

use super::binary::{BinaryOp, binary};
use super::reduce::{ReduceOp, reduce};
use super::select::where_;
use super::unary::{UnaryOp, unary};
use crate::array::NdArray;
use crate::dtype::DType;
use crate::error::Result;
use crate::layout::normalize_axis;

/// How many elements each output element reduces (NumPy's `_count_reduce_items`).
fn reduced_count(a: &NdArray, axes: Option<&[isize]>) -> Result<usize> {
    Ok(match axes {
        None => a.size(),
        Some(list) => {
            let mut n = 1usize;
            for &ax in list {
                n *= a.shape()[normalize_axis(ax, a.ndim())?];
            }
            n
        }
    })
}

/// The dtype NumPy computes means and variances in: floats keep theirs, the rest use float64.
fn float_of(d: DType) -> DType {
    if d.is_float() { d } else { DType::F64 }
}

fn in_float(a: &NdArray) -> Result<NdArray> {
    let f = float_of(a.dtype());
    if a.dtype() == f {
        Ok(a.clone())
    } else {
        a.astype(f)
    }
}

impl NdArray {
    /// `np.var(a, axis=axes, ddof=ddof, keepdims=keepdims)`, as NumPy computes it: the mean
    /// (a sum divided by the count), the squared deviations, their sum divided by
    /// `max(n - ddof, 0)` (so too few elements give inf or NaN, where NumPy also warns).
    /// Integers and bool give float64.
    pub fn var(&self, axes: Option<&[isize]>, ddof: f64, keepdims: bool) -> Result<NdArray> {
        let x = in_float(self)?;
        let f = x.dtype();
        let n = reduced_count(self, axes)? as f64;
        let sum = reduce(ReduceOp::Sum, &x, axes, true)?;
        let mean = binary(BinaryOp::Divide, &sum, &NdArray::full_f64(&[], n, f)?)?;
        let dev = binary(BinaryOp::Subtract, &x, &mean)?;
        let sq = binary(BinaryOp::Multiply, &dev, &dev)?;
        let ss = reduce(ReduceOp::Sum, &sq, axes, keepdims)?;
        let dof = NdArray::full_f64(&[], (n - ddof).max(0.0), f)?;
        binary(BinaryOp::Divide, &ss, &dof)
    }

    /// `np.std`: the square root of [`var`](Self::var).
    pub fn std(&self, axes: Option<&[isize]>, ddof: f64, keepdims: bool) -> Result<NdArray> {
        unary(UnaryOp::Sqrt, &self.var(axes, ddof, keepdims)?)
    }

    /// `np.nansum`: the sum with NaN counted as zero (integers and bool: [`sum`](Self::sum)).
    pub fn nansum(&self, axes: Option<&[isize]>, keepdims: bool) -> Result<NdArray> {
        reduce(ReduceOp::Sum, &self.nan_to(0.0)?, axes, keepdims)
    }

    /// `np.nanmean`: the mean of the elements that are not NaN; a slice of NaN only gives NaN
    /// (NumPy also warns). Integers and bool: [`mean`](Self::mean).
    pub fn nanmean(&self, axes: Option<&[isize]>, keepdims: bool) -> Result<NdArray> {
        if !self.dtype().is_float() {
            return reduce(ReduceOp::Mean, self, axes, keepdims);
        }
        let sum = reduce(ReduceOp::Sum, &self.nan_to(0.0)?, axes, keepdims)?;
        let present = unary(UnaryOp::LogicalNot, &unary(UnaryOp::IsNan, self)?)?;
        let count = reduce(ReduceOp::Sum, &present, axes, keepdims)?.astype(self.dtype())?;
        binary(BinaryOp::Divide, &sum, &count)
    }

    /// `np.nanmin`: the minimum ignoring NaN (`np.fmin.reduce`); a slice of NaN only gives NaN
    /// (NumPy also warns), an empty one is an error.
    pub fn nanmin(&self, axes: Option<&[isize]>, keepdims: bool) -> Result<NdArray> {
        reduce(ReduceOp::Fmin, self, axes, keepdims)
    }

    /// `np.nanmax`.
    pub fn nanmax(&self, axes: Option<&[isize]>, keepdims: bool) -> Result<NdArray> {
        reduce(ReduceOp::Fmax, self, axes, keepdims)
    }

    /// This array with NaN replaced by `v` (itself when it cannot hold NaN).
    fn nan_to(&self, v: f64) -> Result<NdArray> {
        if !self.dtype().is_float() {
            return Ok(self.clone());
        }
        let mask = unary(UnaryOp::IsNan, self)?;
        where_(&mask, &NdArray::full_f64(&[], v, self.dtype())?, self)
    }
}
