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

/// Work below this many input bytes stays on one thread (the elementwise engine's measured
/// crossover; a reduction moves fewer bytes per element, so this errs towards one thread).
use crate::iter::elementwise::PARALLEL_BYTES;
use crate::iter::send_ptr::SendPtr;

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

/// How elements combine, and how a whole run reduces.
#[derive(Clone, Copy)]
enum Combiner {
    Sum,
    Prod,
    Min,
    Max,
    Fmin,
    Fmax,
}

impl Combiner {
    #[inline(always)]
    fn combine<T: Scalar>(self, a: T, b: T) -> T {
        match self {
            Combiner::Sum => a.add(b),
            Combiner::Prod => a.mul(b),
            Combiner::Min => a.minimum(b),
            Combiner::Max => a.maximum(b),
            Combiner::Fmin => a.fmin(b),
            Combiner::Fmax => a.fmax(b),
        }
    }
}

fn reduce_typed<T: Scalar>(op: ReduceOp, a: &NdArray, reduced: &[bool]) -> Result<NdArray> {
    let kind = match op {
        ReduceOp::Sum => Combiner::Sum,
        ReduceOp::Prod => Combiner::Prod,
        ReduceOp::Min => Combiner::Min,
        ReduceOp::Max => Combiner::Max,
        ReduceOp::Fmin => Combiner::Fmin,
        ReduceOp::Fmax => Combiner::Fmax,
        _ => unreachable!("handled by reduce()"),
    };
    let shape = a.shape();
    let kept: Dims = shape
        .iter()
        .zip(reduced)
        .filter(|(_, r)| !**r)
        .map(|(d, _)| *d)
        .collect();
    let red_empty = shape.iter().zip(reduced).any(|(d, r)| *r && *d == 0);
    let mut out = match kind {
        // Zero is all-zero bytes in every numeric dtype: calloc'd memory, nothing to fill.
        Combiner::Sum => NdArray::zeros(&kept, T::DTYPE)?,
        Combiner::Prod => NdArray::full::<T>(&kept, T::ONE)?,
        Combiner::Min | Combiner::Max | Combiner::Fmin | Combiner::Fmax => {
            if red_empty && kept.iter().all(|&d| d > 0) {
                return Err(Error::invalid(format!(
                    "zero-size array to reduction operation {} which has no identity",
                    op.name()
                )));
            }
            // Start from the elements at index 0 of every reduced axis (min/max are idempotent).
            let items: Vec<crate::SliceItem> = reduced
                .iter()
                .map(|&r| {
                    if r {
                        crate::SliceItem::Index(0)
                    } else {
                        crate::SliceItem::Slice {
                            start: None,
                            stop: None,
                            step: 1,
                        }
                    }
                })
                .collect();
            if red_empty {
                NdArray::zeros(&kept, T::DTYPE)?
            } else {
                a.slice(crate::SliceInfo::new(items))?.copy()?
            }
        }
    };
    if a.is_empty() {
        return Ok(out);
    }
    // Output strides seen from the input's axes: 0 on reduced axes.
    let mut out_strides: Strides = smallvec::smallvec![0isize; shape.len()];
    let mut k = out.strides().iter();
    for (s, &r) in out_strides.iter_mut().zip(reduced) {
        if !r {
            *s = *k.next().expect("one stride per kept axis");
        }
    }
    let inp = a.data_ptr();
    let outp = out.data_mut_ptr()?;
    if shape.len() <= 2 && a.size().saturating_mul(size_of::<T>()) < PARALLEL_BYTES {
        // One or two axes are already a tile: planning them (sorting, merging, moving the
        // plan around) was a third of a small reduction's time.
        let tile = two_axis_tile(shape, a.strides(), &out_strides);
        // SAFETY: as below; the tile covers exactly the input's elements.
        unsafe { reduce_tile_dispatched::<T>(&tile, inp, outp, kind) };
        return Ok(out);
    }
    let plan = plan_axes(shape, &[a.strides(), &out_strides]);
    // SAFETY: `out` is freshly allocated and solely owned; the plan covers exactly the input's
    // in-bounds elements, and their projections onto the output are in bounds.
    unsafe { reduce_parallel::<T>(&plan, inp, outp, kind) };
    Ok(out)
}

/// # Safety
/// As in `reduce_typed`.
unsafe fn reduce_parallel<T: Scalar>(
    plan: &AxisPlan,
    inp: *const u8,
    out: *mut u8,
    kind: Combiner,
) {
    let bytes = plan.size() * size_of::<T>();
    // Size first: small work never touches rayon (not even to ask for its thread count,
    // which would start the global pool).
    if bytes < PARALLEL_BYTES || plan.ndim() == 0 || rayon::current_num_threads() < 2 {
        // SAFETY: forwarded.
        return unsafe { reduce_planned::<T>(plan, inp, out, kind) };
    }
    let threads = rayon::current_num_threads();
    let (ip, op) = (SendPtr(inp), SendPtr(out));
    // Prefer splitting the longest kept axis: threads then own disjoint outputs.
    let kept_axis = (0..plan.ndim())
        .filter(|&ax| plan.strides[1][ax] != 0 && plan.shape[ax] >= 2)
        .max_by_key(|&ax| plan.shape[ax]);
    if let Some(ax) = kept_axis {
        let n = plan.shape[ax];
        let per = n.div_ceil(4 * threads).max(1).next_multiple_of(64).min(n);
        (0..n.div_ceil(per)).into_par_iter().for_each(|c| {
            let (ip, op) = (ip, op);
            let lo = c * per;
            let mut sub = plan.clone();
            sub.shape[ax] = per.min(n - lo);
            // SAFETY: position `lo` of a kept axis is in bounds; chunks write disjoint outputs.
            unsafe {
                let i = ip.0.offset(lo as isize * plan.strides[0][ax]);
                let o = op.0.offset(lo as isize * plan.strides[1][ax]);
                reduce_planned::<T>(&sub, i, o, kind);
            }
        });
        return;
    }
    // A full reduction: split the outermost axis, reduce each part into its own accumulator
    // (starting from the output's initial value), then combine the partials in order.
    let n = plan.shape[0];
    let per = n.div_ceil(4 * threads).max(1).next_multiple_of(1024).min(n);
    // SAFETY: a full reduction has one output element.
    let init = unsafe { (out as *const T).read() };
    let partials: Vec<T> = (0..n.div_ceil(per))
        .into_par_iter()
        .map(|c| {
            let lo = c * per;
            let mut sub = plan.clone();
            sub.shape[0] = per.min(n - lo);
            let mut acc = init;
            // SAFETY: position `lo` of axis 0 is in bounds; `acc` is this task's own output.
            unsafe {
                let i = ip.get().offset(lo as isize * plan.strides[0][0]);
                reduce_planned::<T>(&sub, i, &mut acc as *mut T as *mut u8, kind);
            }
            acc
        })
        .collect();
    let mut acc = partials[0];
    for &p in &partials[1..] {
        acc = match kind {
            // Each partial already includes `init`; add the others' contributions only.
            Combiner::Sum => acc.add(p.sub(init)),
            Combiner::Prod => acc.mul(p),
            _ => kind.combine(acc, p),
        };
    }
    // SAFETY: the single output element.
    unsafe { (out as *mut T).write(acc) };
}

/// Sequential reduction over a planned input (operand 0) into the output (operand 1). The
/// whole loop nest is one dispatched function, so the per-row work (a 64-element pairwise sum
/// in `sum(axis=1)` of a 64×64 array) is inlined and vectorised rather than a call per row.
///
/// # Safety
/// As in `reduce_typed`; `out` is not accessed by anyone else during the call.
#[inline(always)]
unsafe fn reduce_planned_body<T: Scalar>(
    plan: &AxisPlan,
    inp: *const u8,
    out: *mut u8,
    kind: Combiner,
) {
    let nd = plan.ndim();
    if nd == 0 {
        // SAFETY: one element each.
        unsafe {
            let o = out as *mut T;
            o.write(kind.combine(o.read(), (inp as *const T).read_unaligned()));
        }
        return;
    }
    let inner = nd - 1;
    // The last two axes form a tile of `rows` runs, handled by one tight loop; the odometer
    // walks the axes before them.
    let (rows, row_in, row_out) = if nd >= 2 {
        (
            plan.shape[nd - 2],
            plan.strides[0][nd - 2],
            plan.strides[1][nd - 2],
        )
    } else {
        (1, 0, 0)
    };
    let tile = Tile {
        rows,
        row_in,
        row_out,
        n: plan.shape[inner],
        is: plan.strides[0][inner],
        os: plan.strides[1][inner],
    };
    let outer = nd.saturating_sub(2);
    let mut idx: Dims = smallvec::smallvec![0usize; outer];
    let (mut ip, mut opos) = (0isize, 0isize);
    loop {
        // SAFETY: (ip, opos) is an in-bounds position of the outer axes; the tile's runs from
        // there are in bounds.
        unsafe { reduce_tile::<T>(&tile, inp.offset(ip), out.offset(opos), kind) };
        let mut k = outer;
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            idx[k] += 1;
            ip += plan.strides[0][k];
            opos += plan.strides[1][k];
            if idx[k] < plan.shape[k] {
                break;
            }
            ip -= plan.strides[0][k] * plan.shape[k] as isize;
            opos -= plan.strides[1][k] * plan.shape[k] as isize;
            idx[k] = 0;
        }
    }
}

/// The tile of an input of at most two axes (input strides `is`, output strides `os`, 0 on
/// reduced axes), with the axis of smaller input stride inner, as `plan_axes` would order it.
fn two_axis_tile(shape: &[usize], is: &[isize], os: &[isize]) -> Tile {
    match shape.len() {
        0 => Tile {
            rows: 1,
            row_in: 0,
            row_out: 0,
            n: 1,
            is: 0,
            os: 0,
        },
        1 => Tile {
            rows: 1,
            row_in: 0,
            row_out: 0,
            n: shape[0],
            is: is[0],
            os: os[0],
        },
        _ => {
            // A length-1 axis is never inner; otherwise the smaller input stride is.
            let first_inner =
                shape[1] == 1 || (shape[0] != 1 && is[0].unsigned_abs() < is[1].unsigned_abs());
            let (outer, inner) = if first_inner { (1, 0) } else { (0, 1) };
            Tile {
                rows: shape[outer],
                row_in: is[outer],
                row_out: os[outer],
                n: shape[inner],
                is: is[inner],
                os: os[inner],
            }
        }
    }
}

/// `rows` runs of `n` elements: run `r` starts at `r * row_in` (input) and `r * row_out`
/// (output); elements step by `is` and `os` bytes within a run.
struct Tile {
    rows: usize,
    row_in: isize,
    row_out: isize,
    n: usize,
    is: isize,
    os: isize,
}

/// # Safety
/// Every position of the tile is in bounds for the input and the output.
#[inline(always)]
unsafe fn reduce_tile<T: Scalar>(t: &Tile, inp: *const u8, out: *mut u8, kind: Combiner) {
    let w = size_of::<T>() as isize;
    let aligned = |p: *const u8, step: isize| {
        (p as usize).is_multiple_of(align_of::<T>()) && step % align_of::<T>() as isize == 0
    };
    // SAFETY (whole body): positions come from the tile, which the caller guarantees in bounds.
    unsafe {
        if t.os == 0 {
            // The run is reduced: one output element per row (`sum(axis=-1)`).
            if t.is == w
                && aligned(inp, t.row_in)
                && matches!(kind, Combiner::Sum)
                && T::DTYPE.is_float()
                && row_sum::add_row_sums(T::DTYPE, inp, t.row_in, t.rows, t.n, out, t.row_out)
            {
                // Explicit-vector row sums, bit-identical to the loop below.
            } else if t.is == w && aligned(inp, t.row_in) {
                for r in 0..t.rows as isize {
                    let row = std::slice::from_raw_parts(inp.offset(r * t.row_in) as *const T, t.n);
                    let v = match kind {
                        Combiner::Sum if T::DTYPE.is_float() => pairwise_body(row),
                        _ => fold_run_body(row, kind),
                    };
                    let o = out.offset(r * t.row_out) as *mut T;
                    o.write(kind.combine(o.read(), v));
                }
            } else {
                for r in 0..t.rows as isize {
                    let v = reduce_run::<T>(inp.offset(r * t.row_in), t.is, t.n, kind);
                    let o = out.offset(r * t.row_out) as *mut T;
                    o.write(kind.combine(o.read(), v));
                }
            }
        } else if t.is == w && t.os == w && aligned(inp, t.row_in) && aligned(out, t.row_out) {
            // The run is kept: whole output rows accumulate input rows (`sum(axis=0)`).
            for r in 0..t.rows as isize {
                let src = std::slice::from_raw_parts(inp.offset(r * t.row_in) as *const T, t.n);
                let dst = std::slice::from_raw_parts_mut(out.offset(r * t.row_out) as *mut T, t.n);
                accumulate_body(dst, src, kind);
            }
        } else {
            for r in 0..t.rows as isize {
                let (i, o) = (inp.offset(r * t.row_in), out.offset(r * t.row_out));
                for j in 0..t.n as isize {
                    let p = o.offset(j * t.os) as *mut T;
                    let x = (i.offset(j * t.is) as *const T).read_unaligned();
                    p.write(kind.combine(p.read(), x));
                }
            }
        }
    }
}

dispatched!(
    /// [`reduce_tile`] compiled for the running CPU.
    unsafe fn reduce_tile_dispatched<T: Scalar>(t: &Tile, inp: *const u8, out: *mut u8, kind: Combiner) => reduce_tile
);

dispatched!(
    /// [`reduce_planned_body`] compiled for the running CPU.
    unsafe fn reduce_planned<T: Scalar>(plan: &AxisPlan, inp: *const u8, out: *mut u8, kind: Combiner) => reduce_planned_body
);

/// Reduces `n >= 1` elements at byte stride `stride`.
///
/// # Safety
/// The `n` elements are in bounds.
#[inline(always)]
unsafe fn reduce_run<T: Scalar>(p: *const u8, stride: isize, n: usize, kind: Combiner) -> T {
    let w = size_of::<T>() as isize;
    if stride == w && (p as usize).is_multiple_of(align_of::<T>()) {
        // SAFETY: contiguous, aligned, in bounds.
        let s = unsafe { std::slice::from_raw_parts(p as *const T, n) };
        return match kind {
            Combiner::Sum if T::DTYPE.is_float() => pairwise_body(s),
            _ => fold_run_body(s, kind),
        };
    }
    // SAFETY: in bounds; unaligned reads.
    let at = |i: usize| unsafe { (p.offset(i as isize * stride) as *const T).read_unaligned() };
    if matches!(kind, Combiner::Sum) && T::DTYPE.is_float() {
        // Pairwise over a gathered block keeps NumPy's accuracy for strided runs too.
        let mut acc = T::ZERO;
        let mut buf = [T::ZERO; 1024];
        for start in (0..n).step_by(1024) {
            let len = 1024.min(n - start);
            for (k, b) in buf[..len].iter_mut().enumerate() {
                *b = at(start + k);
            }
            acc = acc.add(pairwise_body(&buf[..len]));
        }
        return acc;
    }
    (1..n).fold(at(0), |acc, i| kind.combine(acc, at(i)))
}

#[inline(always)]
fn accumulate_body<T: Scalar>(out: &mut [T], src: &[T], kind: Combiner) {
    match kind {
        Combiner::Sum => out.iter_mut().zip(src).for_each(|(o, &s)| *o = o.add(s)),
        Combiner::Prod => out.iter_mut().zip(src).for_each(|(o, &s)| *o = o.mul(s)),
        Combiner::Min => out
            .iter_mut()
            .zip(src)
            .for_each(|(o, &s)| *o = o.minimum(s)),
        Combiner::Max => out
            .iter_mut()
            .zip(src)
            .for_each(|(o, &s)| *o = o.maximum(s)),
        Combiner::Fmin => out.iter_mut().zip(src).for_each(|(o, &s)| *o = o.fmin(s)),
        Combiner::Fmax => out.iter_mut().zip(src).for_each(|(o, &s)| *o = o.fmax(s)),
    }
}

#[inline(always)]
fn fold_run_body<T: Scalar>(s: &[T], kind: Combiner) -> T {
    // Eight independent lanes let the loop vectorise; it only reorders operations that are
    // associative here (wrapping integer add/mul, min, max; float sums go pairwise instead).
    let init = match kind {
        Combiner::Sum => T::ZERO,
        Combiner::Prod => T::ONE,
        Combiner::Min | Combiner::Max | Combiner::Fmin | Combiner::Fmax => s[0],
    };
    let mut lanes = [init; 8];
    let chunks = s.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..8 {
            lanes[k] = kind.combine(lanes[k], c[k]);
        }
    }
    let acc = lanes[1..].iter().fold(lanes[0], |a, &l| kind.combine(a, l));
    rest.iter().fold(acc, |a, &x| kind.combine(a, x))
}

/// NumPy's pairwise summation (`pairwise_sum` in loops_utils.h.src): runs of up to 128 are
/// summed with independent accumulators, longer runs split in halves (rounded down to a
/// multiple of 8) recursively. Error grows as O(log n), not O(n).
///
/// NumPy combines its eight accumulators as `((r0 + r1) + (r2 + r3)) + ...`; that adjacent
/// pairing made LLVM vectorise across rows with shuffles (2× slower on 64-element rows), so
/// the lanes here combine as `r[k] + r[k + w]`, and sixteen of them (two vectors of f64) hide
/// the add latency. Same error bound; the last bits may differ from NumPy's.
#[inline(always)]
fn pairwise_body<T: Scalar>(a: &[T]) -> T {
    let n = a.len();
    if n < 8 {
        return a.iter().fold(T::ZERO, |s, &x| s.add(x));
    }
    if n < 16 {
        return block_sum::<T, 8>(a);
    }
    if n <= 128 {
        return block_sum::<T, 16>(a);
    }
    let mut n2 = n / 2;
    n2 -= n2 % 8;
    // Recursing through the dispatched entry keeps this function non-recursive, so it inlines
    // into its vectorised callers (a self-recursive body was compiled once, for the baseline).
    pairwise_sum(&a[..n2]).add(pairwise_sum(&a[n2..]))
}

/// Sum of `L <= a.len()` lanes accumulated in steps of `L`, lanes folded as a balanced tree,
/// then the `a.len() % L` trailing elements.
#[inline(always)]
fn block_sum<T: Scalar, const L: usize>(a: &[T]) -> T {
    let n = a.len();
    let (head, tail) = a.split_at(n - n % L);
    let mut r = [T::ZERO; L];
    r.copy_from_slice(&head[..L]);
    for c in head[L..].chunks_exact(L) {
        for k in 0..L {
            r[k] = r[k].add(c[k]);
        }
    }
    let mut w = L;
    while w > 1 {
        w /= 2;
        for k in 0..w {
            r[k] = r[k].add(r[k + w]);
        }
    }
    tail.iter().fold(r[0], |s, &x| s.add(x))
}

dispatched!(
    /// Pairwise sum of a contiguous run, vectorised for the running CPU.
    pub fn pairwise_sum<T: Scalar>(a: &[T]) -> T => pairwise_body
);

/// argmin/argmax: over all elements (flattened C order) or along one axis; int64 indices of the
/// first extreme, and of the first NaN if any (NumPy's rule).
fn arg_reduce(
    op: ReduceOp,
    a: &NdArray,
    axes: Option<&[isize]>,
    keepdims: bool,
) -> Result<NdArray> {
    let want_max = op == ReduceOp::ArgMax;
    let (lanes, axis) = match axes {
        None => (a.reshape(&[1, a.size()])?, None),
        Some([ax]) => {
            let ax = normalize_axis(*ax, a.ndim())?;
            (a.moveaxis(ax as isize, -1)?, Some(ax))
        }
        Some(_) => {
            return Err(Error::invalid(format!(
                "{}: axis must be None or a single integer",
                op.name()
            )));
        }
    };
    let n = *lanes.shape().last().unwrap_or(&1);
    if n == 0 {
        return Err(Error::invalid(format!(
            "attempt to get {} of an empty sequence",
            op.name()
        )));
    }
    let outer: Vec<usize> = lanes.shape()[..lanes.ndim().saturating_sub(1)].to_vec();
    let stride = *lanes.strides().last().unwrap_or(&0);
    let offsets = crate::iter::OffsetIter::new(
        &outer,
        &lanes.strides()[..outer.len()],
        lanes.offset() as isize,
    );
    let base = lanes.buffer_ptr();
    let idx: Vec<i64> = offsets
        .map(|off| {
            // SAFETY: `off` is an in-bounds lane start and the lane has n in-bounds elements.
            let p = unsafe { base.offset(off) };
            crate::dispatch_numeric!(a.dtype(), T => unsafe { arg_scan::<T>(p, stride, n, want_max) },
                bool => unsafe { arg_scan::<u8>(p, stride, n, want_max) })
        })
        .collect();
    let out = NdArray::from_vec(idx, &outer)?;
    match (axis, keepdims) {
        (None, true) => out.reshape(&vec![1; a.ndim()]),
        (None, false) => out.reshape(&[]),
        (Some(ax), true) => {
            let mut s = a.shape().to_vec();
            s[ax] = 1;
            out.reshape(&s)
        }
        (Some(_), false) => Ok(out),
    }
}

/// # Safety
/// `n >= 1` elements of `T` at `p + i * stride` are in bounds.
unsafe fn arg_scan<T: Element + PartialOrd>(
    p: *const u8,
    stride: isize,
    n: usize,
    want_max: bool,
) -> i64 {
    // SAFETY: i < n.
    let at = |i: usize| unsafe { (p.offset(i as isize * stride) as *const T).read_unaligned() };
    let mut best = at(0);
    let mut bi = 0usize;
    #[allow(clippy::eq_op)]
    let is_nan = |v: T| v != v;
    if is_nan(best) {
        return 0;
    }
    for i in 1..n {
        let v = at(i);
        if is_nan(v) {
            return i as i64;
        }
        if (want_max && v > best) || (!want_max && v < best) {
            best = v;
            bi = i;
        }
    }
    bi as i64
}
