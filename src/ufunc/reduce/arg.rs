//! argmin and argmax: the index of the first extreme, or of the first NaN (NumPy's rule).

use super::*;

/// argmin/argmax: over all elements (flattened C order) or along one axis; int64 indices of the
/// first extreme, and of the first NaN if any (NumPy's rule).
pub(super) fn arg_reduce(
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
