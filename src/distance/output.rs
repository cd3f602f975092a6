//! Where distances go: a strided `n × m` matrix (cdist, any output view) or SciPy's condensed
//! vector (pdist: the pairs `i < j` row by row), held as [`OutputRows`], a range of rows that
//! only its holder can write. A driver splits the rows into disjoint blocks, one per task, so
//! writing is safe code everywhere outside this file. [`Post`] is the last step applied to
//! each value on its way out (square root, cosine from a dot product). A large output is
//! written around the caches ([`OutputRows::streamed_if_large`]).

use std::marker::PhantomData;
use std::ops::Range;

use super::cpu::lanes::{cbrt_nonnegative, pow_nonnegative};
use crate::array::ArrayViewMut;
use crate::cpu::dispatched;
use crate::cpu::nontemporal::{LINE_BYTES, NONTEMPORAL_MIN_BYTES, stream_copy, stream_fence};
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};

/// The condensed index of pair `(i, j)`, `i < j < n`: SciPy's `n·i − i·(i+1)/2 + j − i − 1`.
#[inline]
pub(crate) fn condensed_index(n: usize, i: usize, j: usize) -> usize {
    n * i - i * (i + 1) / 2 + (j - i - 1)
}

#[derive(Clone, Copy)]
enum Form {
    /// Element `(i, j)`, `j < m`, at `base + i·rs + j·cs`.
    Matrix { m: usize, rs: isize, cs: isize },
    /// Only pairs `i < j < n`, at `base +` [`condensed_index`].
    Condensed { n: usize },
}

/// Rows `rows` of a distance output of element type `O`, writable by their holder alone.
///
/// Invariant: every element `(i, j)` with `i` in `rows` and `j` a stored column of row `i`
/// lies inside memory borrowed exclusively for `'a`, distinct elements at distinct
/// addresses, aligned for `O`; two `OutputRows` made by splitting one hold disjoint rows.
pub(crate) struct OutputRows<'a, O> {
    base: *mut O,
    form: Form,
    rows: Range<usize>,
    /// Whole cache lines of contiguous rows are written with non-temporal stores, fenced when
    /// the holder is dropped (at the end of its task).
    nontemporal: bool,
    _borrow: PhantomData<&'a mut [O]>,
}

impl<O> Drop for OutputRows<'_, O> {
    fn drop(&mut self) {
        if self.nontemporal {
            stream_fence();
        }
    }
}

// SAFETY: an `OutputRows` is an exclusive borrow of its rows' elements (the invariant), like
// a `&mut [O]`, so moving it to another thread is sound when `O` is `Send`.
unsafe impl<O: Send> Send for OutputRows<'_, O> {}

impl<'a, O: Element> OutputRows<'a, O> {
    /// All rows of a 2-D view (any strides, negative included).
    pub fn matrix(out: &'a mut ArrayViewMut<'_, O>) -> Result<Self> {
        let [n, m] = *out.shape() else {
            return Err(Error::invalid(format!(
                "a distance matrix is 2-dimensional, not {}-dimensional",
                out.shape().len()
            )));
        };
        let (base, layout) = out.raw_parts();
        let isz = size_of::<O>() as isize;
        if layout.strides.iter().any(|s| s % isz != 0) {
            return Err(Error::invalid(format!(
                "out's strides {:?} are not multiples of its element size {isz}",
                layout.strides
            )));
        }
        let (rs, cs) = (layout.strides[0] / isz, layout.strides[1] / isz);
        // SAFETY: the view's offset is inside its buffer (the view's invariant).
        let base = unsafe { base.add(layout.offset) }.cast::<O>();
        // The view's invariant (in bounds, aligned, free of self-overlap) is this type's, and
        // the `&'a mut` borrow makes it exclusive for 'a.
        Ok(OutputRows {
            base,
            form: Form::Matrix { m, rs, cs },
            rows: 0..n,
            nontemporal: false,
            _borrow: PhantomData,
        })
    }

    /// All rows of the condensed vector of `n` points (`out.len() = n(n−1)/2`).
    pub fn condensed(out: &'a mut [O], n: usize) -> Self {
        assert_eq!(out.len(), n * n.saturating_sub(1) / 2, "condensed length");
        OutputRows {
            base: out.as_mut_ptr(),
            form: Form::Condensed { n },
            rows: 0..n,
            nontemporal: false,
            _borrow: PhantomData,
        }
    }

    /// The same rows, written with non-temporal stores where the whole output is at least
    /// [`NONTEMPORAL_MIN_BYTES`]: for fresh outputs, which nothing reads before the call
    /// returns. (Blocks that a consumer reads at once, as the out-of-core writers do, stay in
    /// the caches.)
    pub fn streamed_if_large(mut self) -> Self {
        let elements = match self.form {
            Form::Matrix { m, .. } => self.rows.len().saturating_mul(m),
            Form::Condensed { n } => n * n.saturating_sub(1) / 2,
        };
        self.nontemporal = elements.saturating_mul(size_of::<O>()) >= NONTEMPORAL_MIN_BYTES;
        self
    }

    /// The rows this holder writes.
    pub fn rows(&self) -> Range<usize> {
        self.rows.clone()
    }

    pub fn is_condensed(&self) -> bool {
        matches!(self.form, Form::Condensed { .. })
    }

    /// The number of columns of the full output (`n` for a condensed one).
    pub fn width(&self) -> usize {
        match self.form {
            Form::Matrix { m, .. } => m,
            Form::Condensed { n } => n,
        }
    }

    /// The first column stored for row `i`: 0, or `i + 1` (at most the width) when condensed.
    pub fn first_col(&self, i: usize) -> usize {
        match self.form {
            Form::Matrix { .. } => 0,
            Form::Condensed { n } => (i + 1).min(n),
        }
    }

    /// Rows `start .. at` and `at .. end`, held apart.
    pub fn split_at(self, at: usize) -> (Self, Self) {
        let at = at.clamp(self.rows.start, self.rows.end);
        let part = |rows| OutputRows {
            base: self.base,
            form: self.form,
            rows,
            nontemporal: self.nontemporal,
            _borrow: PhantomData,
        };
        (part(self.rows.start..at), part(at..self.rows.end))
    }

    /// The rows in blocks of `rows_per` (the last one shorter), in order, for one task each.
    pub fn into_blocks(self, rows_per: usize) -> Vec<Self> {
        let rows_per = rows_per.max(1);
        let mut blocks = Vec::with_capacity(self.rows.len().div_ceil(rows_per));
        let mut rest = self;
        while !rest.rows.is_empty() {
            let at = rest.rows.start + rows_per;
            let (head, tail) = rest.split_at(at);
            blocks.push(head);
            rest = tail;
        }
        blocks
    }

    /// The stored part of row `i` from column `j0` on, `len` columns asked: how many leading
    /// columns are not stored (`j ≤ i` of a condensed row), a pointer to the first stored one
    /// (dangling but aligned when none is) and the stride between stored columns. Panics
    /// outside this holder's rows or the width.
    #[inline]
    fn row_start(&self, i: usize, j0: usize, len: usize) -> (usize, *mut O, isize) {
        assert!(
            self.rows.contains(&i) && j0 + len <= self.width(),
            "row {i}, columns {j0}..{} outside rows {:?} × {} columns",
            j0 + len,
            self.rows,
            self.width()
        );
        let skip = match self.form {
            Form::Matrix { .. } => 0,
            Form::Condensed { .. } => (i + 1).saturating_sub(j0).min(len),
        };
        if skip == len {
            return (skip, std::ptr::NonNull::dangling().as_ptr(), 1);
        }
        match self.form {
            // SAFETY: (i, j0) is an element of the matrix (checked above, and j0 < j0 + len).
            Form::Matrix { rs, cs, .. } => (
                0,
                unsafe { self.base.offset(i as isize * rs + j0 as isize * cs) },
                cs,
            ),
            // SAFETY: i < j0 + skip < n (a stored column), so the index is inside the vector.
            Form::Condensed { n } => (
                skip,
                unsafe { self.base.add(condensed_index(n, i, j0 + skip)) },
                1,
            ),
        }
    }

    /// Writes `values[c]` (after `post`) to `(i, j0 + c)` for every stored column, with one
    /// vectorised loop per post-processing step where the row is contiguous: at small `d`
    /// this store (square root, conversion) costs as much as computing the distances.
    #[inline]
    pub fn put_row<T: Element>(&mut self, i: usize, j0: usize, values: &[T], post: &Post<'_>) {
        let (skip, p, stride) = self.row_start(i, j0, values.len());
        let live = values.len() - skip;
        if live == 0 {
            return;
        }
        let src = &values[skip..];
        let root = match post {
            Post::Identity => Some(Root::None),
            Post::Sqrt => Some(Root::Sqrt),
            Post::RootP(p) => Some(Root::of(*p)),
            _ => None,
        };
        if let (1, Some(root)) = (stride, root) {
            // SAFETY: the live columns of row i are contiguous (stride 1), inside the output
            // (row_start checked them) and this holder's alone (the invariant); `&mut self`
            // keeps the slice unique while it lives.
            let dst = unsafe { std::slice::from_raw_parts_mut(p, live) };
            return if self.nontemporal {
                store_nontemporal(dst, src, root)
            } else {
                store_dispatched(dst, src, root)
            };
        }
        if stride == 1 {
            // Cosine's and Bray–Curtis' last steps, vectorised over a piece of the row into
            // an L1 buffer, then stored as above: element by element, their scalar division
            // or clipping and the `match` took over a quarter of cosine's time (BENCHMARKS.md,
            // "Issue 23 on an AVX-512 Xeon").
            const PIECE: usize = 256;
            let mut buf = [0.0f64; PIECE];
            for start in (0..live).step_by(PIECE) {
                let piece = &src[start..live.min(start + PIECE)];
                let buf = &mut buf[..piece.len()];
                post_row(post, i, j0 + skip + start, piece, buf);
                // SAFETY: as above, for the columns start .. start + piece.len() of the
                // live, contiguous run.
                let dst = unsafe { std::slice::from_raw_parts_mut(p.add(start), buf.len()) };
                if self.nontemporal {
                    store_nontemporal(dst, buf, Root::None)
                } else {
                    store_dispatched(dst, buf, Root::None)
                }
            }
            return;
        }
        for (c, &v) in src.iter().enumerate() {
            let v = post.apply(v, i, j0 + skip + c);
            // SAFETY: column j0 + skip + c is a stored column of row i (checked by
            // row_start), reached from the first by the output's column stride.
            unsafe { *p.offset(c as isize * stride) = O::from_f64(v.to_f64()) };
        }
    }

    /// Every row's stored columns (from [`first_col`](Self::first_col) to the width) as float64
    /// slices, where the output is float64 and stores rows contiguously: a driver then lets
    /// its kernel write in place instead of into a buffer copied afterwards.
    pub fn row_slices_f64(&mut self) -> Option<Vec<&mut [f64]>> {
        if O::DTYPE != DType::F64 {
            return None;
        }
        if let Form::Matrix { cs, .. } = self.form
            && cs != 1
        {
            return None;
        }
        let width = self.width();
        let rows = self.rows();
        Some(
            rows.map(|i| {
                let j0 = self.first_col(i);
                let (skip, p, _) = self.row_start(i, j0, width - j0);
                debug_assert_eq!(skip, 0);
                // SAFETY: O is f64 (checked above); row i's stored columns are contiguous,
                // inside the output and this holder's alone, and rows are disjoint, so the
                // slices never overlap; they borrow `self` mutably for their lifetime.
                unsafe { std::slice::from_raw_parts_mut(p.cast::<f64>(), width - j0) }
            })
            .collect(),
        )
    }
}

/// The root a store takes of each value.
#[derive(Clone, Copy)]
pub(crate) enum Root {
    None,
    Sqrt,
    /// `v^(1/3)`, `v^(1/4)`, `v^(1/6)` and `v^(1/8)` from square and cube roots: a few or
    /// some thirty vector instructions where `exp(ln(v)/p)` takes some seventy.
    Cube,
    Fourth,
    Sixth,
    Eighth,
    /// `v^(1/p)`, `exp(ln(v)/p)`.
    P(f64),
}

impl Root {
    /// Minkowski's root for `p`.
    pub fn of(p: f64) -> Root {
        match p {
            1.0 => Root::None,
            2.0 => Root::Sqrt,
            3.0 => Root::Cube,
            4.0 => Root::Fourth,
            6.0 => Root::Sixth,
            8.0 => Root::Eighth,
            _ => Root::P(p),
        }
    }

    /// The root of a sum `v ≥ 0` (or NaN), branch-free so that loops vectorise.
    #[inline(always)]
    pub fn apply(self, v: f64) -> f64 {
        match self {
            Root::None => v,
            Root::Sqrt => v.sqrt(),
            Root::Cube => cbrt_nonnegative(v),
            Root::Fourth => v.sqrt().sqrt(),
            Root::Sixth => cbrt_nonnegative(v.sqrt()),
            Root::Eighth => v.sqrt().sqrt().sqrt(),
            Root::P(p) => pow_nonnegative(v, 1.0 / p),
        }
    }
}

dispatched! {
    /// [`store_body`] for the running CPU's vector width.
    fn store_dispatched<T: Element, O: Element>(dst: &mut [O], src: &[T], root: Root) => store_body
}

/// [`store_dispatched`] with the whole cache lines of `dst` written around the caches: the
/// values go through a small buffer in L1, then out by [`stream_copy`]. The partial lines at
/// either end take ordinary stores.
fn store_nontemporal<T: Element, O: Element>(dst: &mut [O], src: &[T], root: Root) {
    /// Lines per buffer (256 bytes, which stay in L1 between the two copies).
    const BUF_LINES: usize = 4;
    let size = size_of::<O>();
    if !LINE_BYTES.is_multiple_of(size) {
        return store_dispatched(dst, src, root);
    }
    let per_line = LINE_BYTES / size;
    let head = (dst.as_ptr().addr().wrapping_neg() % LINE_BYTES / size).min(dst.len());
    let lines = (dst.len() - head) / per_line;
    let (dst_head, rest) = dst.split_at_mut(head);
    let (dst_lines, dst_tail) = rest.split_at_mut(lines * per_line);
    let (src_head, rest) = src.split_at(head);
    let (src_lines, src_tail) = rest.split_at(lines * per_line);
    if head > 0 {
        store_dispatched(dst_head, src_head, root);
    }
    let mut buf = [0u128; BUF_LINES * LINE_BYTES / 16];
    let chunk = BUF_LINES * per_line;
    for (d, s) in dst_lines.chunks_mut(chunk).zip(src_lines.chunks(chunk)) {
        let units = size_of_val(d) / 16;
        store_dispatched::<T, O>(bytemuck::cast_slice_mut(&mut buf[..units]), s, root);
        // `d` starts on a line boundary and is whole lines long, so it casts to u128s.
        stream_copy(bytemuck::cast_slice_mut(d), &buf[..units]);
    }
    if !dst_tail.is_empty() {
        store_dispatched(dst_tail, src_tail, root);
    }
}

#[inline(always)]
fn store_body<T: Element, O: Element>(dst: &mut [O], src: &[T], root: Root) {
    // One loop per root, so that each vectorises on its own.
    macro_rules! each {
        ($($root:pat),*) => {
            match root {
                $($root => {
                    for (d, &s) in dst.iter_mut().zip(src) {
                        *d = O::from_f64(root.apply(s.to_f64()));
                    }
                })*
            }
        };
    }
    each!(
        Root::None,
        Root::Sqrt,
        Root::Cube,
        Root::Fourth,
        Root::Sixth,
        Root::Eighth,
        Root::P(_)
    );
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
    /// `cityblock / (sum_a[i] + sum_b[j])`: Bray–Curtis of nonnegative rows, whose
    /// `Σ|u + v|` is `Σu + Σv`.
    BrayCurtis {
        sum_a: &'a [f64],
        sum_b: &'a [f64],
    },
    /// `v^(1/p)`: minkowski's root of its power sum.
    RootP(f64),
}

impl Post<'_> {
    #[inline(always)]
    pub fn apply<T: Element>(&self, v: T, i: usize, j: usize) -> T {
        match self {
            Post::Identity => v,
            Post::Sqrt => T::from_f64(v.to_f64().sqrt()),
            Post::Cosine { inv_a, inv_b } => cosine_distance(v, inv_a[i], inv_b[j]),
            Post::BrayCurtis { sum_a, sum_b } => T::from_f64(v.to_f64() / (sum_a[i] + sum_b[j])),
            Post::RootP(p) => T::from_f64(Root::of(*p).apply(v.to_f64())),
        }
    }
}

/// `1 − dot·inv_u·inv_v`, the similarity clipped to `[−1, 1]`.
#[inline(always)]
fn cosine_distance<T: Element>(dot: T, inv_u: f64, inv_v: f64) -> T {
    let sim = dot.to_f64() * inv_u * inv_v;
    // Within a few ulps of ±1 the rows are parallel to the rounding of their dot products:
    // identical rows then give exactly 0, as SciPy's `uv / sqrt(uu·vv)` does (its three sums
    // share one order; ours come from two kernels).
    let sim = if sim.abs() > 1.0 - 4.0 * f64::EPSILON {
        sim.signum()
    } else {
        sim
    };
    T::from_f64(1.0 - sim)
}

/// `out[c]` = [`Post::apply`] of `values[c]` at `(i, j0 + c)`, as float64, for the posts
/// that are not roots (those go through [`store_body`]).
#[inline(always)]
fn post_row_body<T: Element>(post: &Post<'_>, i: usize, j0: usize, values: &[T], out: &mut [f64]) {
    let cols = j0..j0 + values.len();
    match post {
        Post::Cosine { inv_a, inv_b } => {
            let inv_u = inv_a[i];
            for ((o, &v), &inv_v) in out.iter_mut().zip(values).zip(&inv_b[cols]) {
                *o = cosine_distance(v, inv_u, inv_v).to_f64();
            }
        }
        Post::BrayCurtis { sum_a, sum_b } => {
            let sum_u = sum_a[i];
            for ((o, &v), &sum_v) in out.iter_mut().zip(values).zip(&sum_b[cols]) {
                *o = T::from_f64(v.to_f64() / (sum_u + sum_v)).to_f64();
            }
        }
        _ => {
            for ((o, &v), j) in out.iter_mut().zip(values).zip(cols) {
                *o = post.apply(v, i, j).to_f64();
            }
        }
    }
}

dispatched! {
    fn post_row<T: Element>(post: &Post<'_>, i: usize, j0: usize, values: &[T], out: &mut [f64]) => post_row_body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DType, NdArray, s};

    #[test]
    fn blocks_write_their_own_rows_only() {
        // Every other column of a 5 × 8 matrix, written block by block.
        let mut wide = NdArray::zeros(&[5, 8], DType::F64).unwrap();
        let mut view = wide.slice_mut::<f64>(s![.., ..;2]).unwrap();
        let out = OutputRows::matrix(&mut view).unwrap();
        assert_eq!(out.width(), 4);
        for mut block in out.into_blocks(2) {
            assert!(block.row_slices_f64().is_none()); // column stride 2
            for i in block.rows() {
                let row: Vec<f64> = (0..4).map(|j| (10 * i + j) as f64).collect();
                block.put_row(i, 0, &row, &Post::Identity);
            }
        }
        let got = wide.to_vec_f64().unwrap();
        for i in 0..5 {
            for j in 0..8 {
                let want = if j % 2 == 0 {
                    (10 * i + j / 2) as f64
                } else {
                    0.0
                };
                assert_eq!(got[i * 8 + j], want, "({i}, {j})");
            }
        }
    }

    /// Writes rows of `width` columns, from column 1 of a wider matrix (so rows start off a
    /// cache line), in pieces of every length from several `j0`, with each root, streamed or
    /// not; returns the matrix.
    fn write_pieces<O: Element>(nontemporal: bool, root_p: f64, condensed: bool) -> Vec<f64> {
        let (n, width) = (7, 61);
        let value = |i: usize, j: usize| (i * 100 + j) as f64 + 0.25;
        let piece_lens = [1, 3, 8, 9, 16, 24, 0];
        let fill = |out: &mut OutputRows<'_, O>, post: &Post<'_>| {
            for i in 0..n {
                let (mut j0, mut k) = (0, i);
                while j0 < width {
                    let len = piece_lens[k % piece_lens.len()].min(width - j0);
                    let vals: Vec<f64> = (j0..j0 + len).map(|j| value(i, j)).collect();
                    out.put_row(i, j0, &vals, post);
                    (j0, k) = (j0 + len, k + 1);
                }
            }
        };
        let post = Post::RootP(root_p);
        if condensed {
            let mut v = vec![O::from_f64(-1.0); width * (width - 1) / 2];
            let mut out = OutputRows::condensed(&mut v[..], width);
            out.nontemporal = nontemporal;
            let (mut head, _) = out.split_at(n);
            fill(&mut head, &post);
            drop(head);
            return v.iter().map(|x| x.to_f64()).collect();
        }
        let mut wide = NdArray::full_f64(&[n, width + 3], -1.0, O::DTYPE).unwrap();
        {
            let mut view = wide.slice_mut::<O>(s![.., 1..width + 1]).unwrap();
            let mut out = OutputRows::matrix(&mut view).unwrap();
            out.nontemporal = nontemporal;
            fill(&mut out, &post);
        }
        wide.to_vec_f64().unwrap()
    }

    #[test]
    fn streamed_rows_match_ordinary_stores_at_every_alignment() {
        for root_p in [1.0, 2.0, 3.0, 3.5] {
            for condensed in [false, true] {
                let plain = write_pieces::<f64>(false, root_p, condensed);
                assert_eq!(write_pieces::<f64>(true, root_p, condensed), plain);
                if !condensed {
                    // Every output element written, nothing outside it.
                    for row in plain.chunks_exact(64) {
                        assert!(row[1..62].iter().all(|&x| x != -1.0));
                        assert!([row[0], row[62], row[63]].iter().all(|&x| x == -1.0));
                    }
                }
                let plain32 = write_pieces::<f32>(false, root_p, condensed);
                assert_eq!(write_pieces::<f32>(true, root_p, condensed), plain32);
            }
        }
        // The values are the roots of what was put (not merely equal in both modes).
        let m = write_pieces::<f64>(true, 2.0, false);
        assert_eq!(m[0], -1.0); // column 0 of the wider matrix is not the output's
        assert_eq!(m[1], 0.25f64.sqrt());
        assert_eq!(m[64 + 1 + 5], 105.25f64.sqrt());
    }

    /// Puts rows of `value`s (as `T`) through `post` into an `O` output, `n` rows of `width`
    /// columns in pieces of uneven lengths, and checks every stored element against
    /// [`Post::apply`] of the same value, bit for bit (NaN for NaN).
    fn check_post_rows<T: Element, O: Element>(
        post: &Post<'_>,
        value: &dyn Fn(usize, usize) -> f64,
        nontemporal: bool,
        condensed: bool,
    ) {
        let (n, width) = (5, 600);
        let piece_lens = [300, 1, 299, 257, 43];
        let fill = |out: &mut OutputRows<'_, O>| {
            for i in 0..n {
                let (mut j0, mut k) = (0, i);
                while j0 < width {
                    let len = piece_lens[k % piece_lens.len()].min(width - j0);
                    let vals: Vec<T> = (j0..j0 + len).map(|j| T::from_f64(value(i, j))).collect();
                    out.put_row(i, j0, &vals, post);
                    (j0, k) = (j0 + len, k + 1);
                }
            }
        };
        let mut stored = vec![];
        if condensed {
            let mut v = vec![O::from_f64(-1.0); width * (width - 1) / 2];
            let mut out = OutputRows::condensed(&mut v[..], width);
            out.nontemporal = nontemporal;
            let (mut head, _) = out.split_at(n);
            fill(&mut head);
            drop(head);
            for i in 0..n {
                for j in i + 1..width {
                    stored.push((i, j, v[condensed_index(width, i, j)].to_f64()));
                }
            }
        } else {
            let mut m = NdArray::full_f64(&[n, width], -1.0, O::DTYPE).unwrap();
            {
                let mut view = m.view_mut::<O>().unwrap();
                let mut out = OutputRows::matrix(&mut view).unwrap();
                out.nontemporal = nontemporal;
                fill(&mut out);
            }
            let v = m.to_vec_f64().unwrap();
            for i in 0..n {
                for j in 0..width {
                    stored.push((i, j, v[i * width + j]));
                }
            }
        }
        for (i, j, got) in stored {
            let want = O::from_f64(post.apply(T::from_f64(value(i, j)), i, j).to_f64()).to_f64();
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{} -> {} ({nontemporal}, {condensed}) at ({i}, {j}): {got} vs {want}",
                T::DTYPE,
                O::DTYPE,
            );
        }
    }

    /// Cosine's and Bray–Curtis' last steps, vectorised a piece of a row at a time, give each
    /// element what [`Post::apply`] gives it: rows longer than a piece, condensed rows that
    /// skip columns, streamed or not, float32 values into float64 outputs and the reverse,
    /// similarities clipped at ±1 and zero vectors' NaN.
    #[test]
    fn ratio_posts_match_apply_element_by_element() {
        let width = 600;
        let inv: Vec<f64> = (0..width)
            .map(|j| match j % 7 {
                0 => f64::INFINITY, // a zero vector
                _ => 1.0 / (1.0 + j as f64 * 0.37),
            })
            .collect();
        let sums: Vec<f64> = (0..width).map(|j| 0.5 + j as f64 * 1.25).collect();
        let cosine_dot = |i: usize, j: usize| match (i + j) % 5 {
            0 => 0.0,
            1 => 1.0 / (inv[i] * inv[j]),
            2 => -(1.0 - 3e-16) / (inv[i] * inv[j]),
            _ => (i * 31 + j) as f64 * 0.173,
        };
        let cityblock = |i: usize, j: usize| ((i * 31 + j * 17) % 97) as f64 * 0.731;
        let cosine = Post::Cosine {
            inv_a: &inv,
            inv_b: &inv,
        };
        let braycurtis = Post::BrayCurtis {
            sum_a: &sums,
            sum_b: &sums,
        };
        for (post, value) in [
            (&cosine, &cosine_dot as &dyn Fn(usize, usize) -> f64),
            (&braycurtis, &cityblock),
        ] {
            for nontemporal in [false, true] {
                for condensed in [false, true] {
                    check_post_rows::<f64, f64>(post, value, nontemporal, condensed);
                    check_post_rows::<f32, f64>(post, value, nontemporal, condensed);
                    check_post_rows::<f64, f32>(post, value, nontemporal, condensed);
                    check_post_rows::<f32, f32>(post, value, nontemporal, condensed);
                }
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "a 16 MiB vector")]
    fn only_large_outputs_stream() {
        let mut small = vec![0.0f64; 10];
        assert!(
            !OutputRows::condensed(&mut small, 5)
                .streamed_if_large()
                .nontemporal
        );
        let n = 2048; // 2047·1024 float64 = 16 MiB
        let mut large = vec![0.0f64; n * (n - 1) / 2];
        assert!(
            OutputRows::condensed(&mut large, n)
                .streamed_if_large()
                .nontemporal
        );
    }

    #[test]
    fn condensed_rows_skip_the_lower_triangle() {
        let mut v = vec![0.0f64; 6]; // n = 4
        let out = OutputRows::condensed(&mut v, 4);
        let (mut head, mut tail) = out.split_at(1);
        head.put_row(0, 0, &[9.0, 1.0, 2.0, 3.0], &Post::Identity);
        for (i, row) in tail.row_slices_f64().unwrap().into_iter().enumerate() {
            row.iter_mut().for_each(|x| *x = (i + 1) as f64 * 10.0);
        }
        drop((head, tail));
        assert_eq!(v, [1.0, 2.0, 3.0, 10.0, 10.0, 20.0]);
    }

    #[test]
    #[should_panic(expected = "outside rows")]
    fn a_block_cannot_write_another_blocks_row() {
        let mut v = vec![0.0f32; 6];
        let (mut head, _tail) = OutputRows::condensed(&mut v, 4).split_at(2);
        head.put_row(2, 3, &[1.0f32], &Post::Identity);
    }
}
