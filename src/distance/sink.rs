//! Where distances go: a strided `n × m` matrix (cdist, any output view) or SciPy's condensed
//! vector (pdist: the pairs `i < j` row by row), and the last step applied to each value on
//! its way out (square root, cosine from a dot product).

use crate::cpu::dispatched;
use crate::dtype::Element;

/// The condensed index of pair `(i, j)`, `i < j < n`: SciPy's `n·i − i·(i+1)/2 + j − i − 1`.
#[inline]
pub(crate) fn condensed_index(n: usize, i: usize, j: usize) -> usize {
    n * i - i * (i + 1) / 2 + (j - i - 1)
}

/// An output of element type `O`.
#[derive(Clone, Copy)]
pub(crate) enum Sink<O> {
    /// Element `(i, j)` at `ptr + i·rs + j·cs`.
    Matrix { ptr: *mut O, rs: isize, cs: isize },
    /// Only pairs `i < j < n`, at [`condensed_index`].
    Condensed { ptr: *mut O, n: usize },
}

// SAFETY: threads write disjoint elements (the drivers split the output by rows and never
// hand one element to two tasks), and the entry points hold the output exclusively.
unsafe impl<O: Send> Send for Sink<O> {}
// SAFETY: as above.
unsafe impl<O: Send> Sync for Sink<O> {}

impl<O: Element> Sink<O> {
    pub fn is_condensed(&self) -> bool {
        matches!(self, Sink::Condensed { .. })
    }

    /// The part of row `i` from column `j0` on that this sink stores: the first stored column
    /// `j0 + skip`, a pointer to it, and the stride between consecutive columns.
    ///
    /// # Safety
    /// `i` is a row and `j0` a column of the output (for condensed: `j0 ≤ n`).
    #[inline]
    pub unsafe fn row(&self, i: usize, j0: usize) -> (usize, *mut O, isize) {
        match *self {
            // SAFETY: (i, j0) is inside the matrix (caller).
            Sink::Matrix { ptr, rs, cs } => (
                0,
                unsafe { ptr.offset(i as isize * rs + j0 as isize * cs) },
                cs,
            ),
            Sink::Condensed { ptr, n } => {
                let skip = (i + 1).saturating_sub(j0);
                let j = j0 + skip;
                if j >= n {
                    return (skip, ptr, 1);
                }
                // SAFETY: i < j < n, so the index is inside the condensed vector.
                (skip, unsafe { ptr.add(condensed_index(n, i, j)) }, 1)
            }
        }
    }

    /// Writes `values[c]` (after `post`) to `(i, j0 + c)` for every stored column.
    ///
    /// # Safety
    /// As for [`Sink::row`], with `j0 + values.len()` columns inside the output, and no other
    /// thread writing these elements.
    #[inline]
    pub unsafe fn put_row<T: Element>(&self, i: usize, j0: usize, values: &[T], post: &Post<'_>) {
        // SAFETY: forwarded from the caller.
        let (skip, p, stride) = unsafe { self.row(i, j0) };
        for (c, &v) in values.iter().enumerate().skip(skip) {
            let v = post.apply(v, i, j0 + c);
            // SAFETY: column j0 + c < the output's width, reached from the row start by the
            // output's column stride (condensed rows are contiguous).
            unsafe { *p.offset((c - skip) as isize * stride) = O::from_f64(v.to_f64()) };
        }
    }
}

impl<O: Element> Sink<O> {
    /// Row `i`'s columns `j0 .. j0 + len` as a float64 slice, where the sink is float64 and
    /// stores them contiguously (a matrix with unit column stride, or a condensed row from
    /// `j0 = i + 1`): a driver then lets its kernel write in place instead of into a buffer
    /// that is copied afterwards.
    ///
    /// # Safety
    /// As for [`Sink::put_row`] with `values.len() = len`; the slice is the caller's alone
    /// for as long as it lives (`'s`), and the sink outlives it.
    pub unsafe fn contiguous_row_f64<'s>(
        &self,
        i: usize,
        j0: usize,
        len: usize,
    ) -> Option<&'s mut [f64]> {
        if O::DTYPE != crate::DType::F64 {
            return None;
        }
        // SAFETY: forwarded from the caller.
        let (skip, p, cs) = unsafe { self.row(i, j0) };
        if skip != 0 || cs != 1 {
            return None;
        }
        // SAFETY: O is f64; the len elements from p are contiguous (cs = 1), inside the
        // sink, and exclusively the caller's (forwarded).
        Some(unsafe { std::slice::from_raw_parts_mut(p.cast::<f64>(), len) })
    }

    /// [`Sink::put_row`], compiled for the running CPU's vector width, with one loop per
    /// post-processing step so each vectorises: at small `d` this store (square root,
    /// conversion to the output dtype) costs as much as computing the distances.
    ///
    /// # Safety
    /// As for [`Sink::put_row`].
    #[inline]
    pub unsafe fn put_row_fast<T: Element>(
        &self,
        i: usize,
        j0: usize,
        values: &[T],
        post: &Post<'_>,
    ) {
        // SAFETY: forwarded.
        unsafe { put_row_dispatched(self, i, j0, values, post) }
    }
}

dispatched! {
    /// [`put_row_body`] for the running CPU.
    unsafe fn put_row_dispatched<T: Element, O: Element>(sink: &Sink<O>, i: usize, j0: usize, values: &[T], post: &Post<'_>) => put_row_body
}

/// # Safety
/// As for [`Sink::put_row`].
#[inline(always)]
unsafe fn put_row_body<T: Element, O: Element>(
    sink: &Sink<O>,
    i: usize,
    j0: usize,
    values: &[T],
    post: &Post<'_>,
) {
    // SAFETY: (i, j0) is inside the sink (caller).
    let (skip, p, cs) = unsafe { sink.row(i, j0) };
    if cs != 1 || matches!(post, Post::Cosine { .. }) || skip >= values.len() {
        // SAFETY: forwarded.
        return unsafe { sink.put_row(i, j0, values, post) };
    }
    // SAFETY: columns j0+skip .. j0+len of row i are contiguous in the sink (cs == 1;
    // condensed rows are contiguous), inside it, and the caller's alone.
    let dst = unsafe { std::slice::from_raw_parts_mut(p, values.len() - skip) };
    let src = &values[skip..];
    if matches!(post, Post::Sqrt) {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = O::from_f64(s.to_f64().sqrt());
        }
    } else {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = O::from_f64(s.to_f64());
        }
    }
}

/// The last step for each value.
pub(crate) enum Post<'a> {
    Identity,
    Sqrt,
    /// `1 − dot · inv_a[i] · inv_b[j]`, the similarity clipped to `[−1, 1]` (SciPy's
    /// rounding guard) and snapped to ±1 within 4 ulps; a zero vector has `inv = inf`, which
    /// gives NaN as in SciPy.
    Cosine {
        inv_a: &'a [f64],
        inv_b: &'a [f64],
    },
}

impl Post<'_> {
    #[inline(always)]
    pub fn apply<T: Element>(&self, v: T, i: usize, j: usize) -> T {
        match self {
            Post::Identity => v,
            Post::Sqrt => T::from_f64(v.to_f64().sqrt()),
            Post::Cosine { inv_a, inv_b } => {
                let sim = v.to_f64() * inv_a[i] * inv_b[j];
                // Within a few ulps of ±1 the rows are parallel to the rounding of their dot
                // products: identical rows then give exactly 0, as SciPy's `uv / sqrt(uu·vv)`
                // does (its three sums share one order; ours come from two kernels).
                let sim = if sim.abs() > 1.0 - 4.0 * f64::EPSILON {
                    sim.signum()
                } else {
                    sim
                };
                T::from_f64(1.0 - sim)
            }
        }
    }
}
