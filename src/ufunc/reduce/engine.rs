//! The reduction loops over an input planned like an elementwise loop: contiguous runs
//! reduced (float sums pairwise), or whole output rows accumulated, split across threads.

use super::*;
/// Work below this many input bytes stays on one thread (the elementwise engine's crossover;
/// a reduction moves fewer bytes per element, so this errs towards one thread).
use crate::iter::elementwise::PARALLEL_BYTES;
use crate::iter::send_ptr::SendPtr;
use pairwise::pairwise_body;

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

pub(super) fn reduce_typed<T: Scalar>(
    op: ReduceOp,
    a: &NdArray,
    reduced: &[bool],
) -> Result<NdArray> {
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
        // Zero is all-zero bytes in every numeric dtype: a zeroed buffer, nothing to fill.
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
