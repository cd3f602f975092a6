//! `split`, `array_split`, `split_at` and `unstack`: views of one array, no copies.

use super::{along, axis_of};
use crate::array::NdArray;
use crate::error::{Error, Result};

impl NdArray {
    /// NumPy's `split(a, sections, axis)`: `sections` views of equal length along `axis`; an
    /// error when the axis does not divide evenly (see [`array_split`](Self::array_split)).
    pub fn split(&self, sections: usize, axis: isize) -> Result<Vec<NdArray>> {
        let ax = self.axis_for_split(axis)?;
        if sections == 0 || !self.shape()[ax].is_multiple_of(sections) {
            return Err(Error::shape(
                "split",
                "array split does not result in an equal division",
            ));
        }
        self.array_split(sections, axis)
    }

    /// NumPy's `array_split(a, sections, axis)`: `sections` views along `axis`, the first
    /// `len % sections` of them one longer than the rest.
    ///
    /// ```
    /// use ndstride::{DType, NdArray};
    /// let parts = NdArray::arange(7, DType::I64)?.array_split(3, 0)?;
    /// let lens: Vec<usize> = parts.iter().map(|p| p.shape()[0]).collect();
    /// assert_eq!(lens, vec![3, 2, 2]);
    /// assert_eq!(parts[1].to_vec::<i64>()?, vec![3, 4]);
    /// # Ok::<(), ndstride::Error>(())
    /// ```
    pub fn array_split(&self, sections: usize, axis: isize) -> Result<Vec<NdArray>> {
        let ax = self.axis_for_split(axis)?;
        if sections == 0 {
            return Err(Error::invalid("number sections must be larger than 0."));
        }
        let n = self.shape()[ax];
        let (each, extra) = (n / sections, n % sections);
        let mut bounds = Vec::with_capacity(sections - 1);
        let mut at = 0;
        for s in 0..sections - 1 {
            at += each + usize::from(s < extra);
            bounds.push(at);
        }
        self.split_at(&bounds, axis)
    }

    /// NumPy's `split(a, indices, axis)` with a list of indices: the views
    /// `[..i0], [i0..i1], ..., [ik..]` along `axis`. Indices past the end give empty views,
    /// and a decreasing index gives an empty view, as in NumPy.
    pub fn split_at(&self, indices: &[usize], axis: isize) -> Result<Vec<NdArray>> {
        let ax = self.axis_for_split(axis)?;
        let n = self.shape()[ax];
        let mut out = Vec::with_capacity(indices.len() + 1);
        let mut start = 0;
        for &end in indices.iter().chain(std::iter::once(&n)) {
            let (lo, hi) = (start.min(n), end.min(n));
            out.push(along(self, ax, lo, hi.saturating_sub(lo))?);
            start = end;
        }
        Ok(out)
    }

    /// NumPy's `unstack(a, axis)`: one view per position of `axis`, with that axis removed.
    pub fn unstack(&self, axis: isize) -> Result<Vec<NdArray>> {
        let ax = self.axis_for_split(axis)?;
        (0..self.shape()[ax])
            .map(|i| along(self, ax, i, 1)?.squeeze(Some(&[ax as isize])))
            .collect()
    }

    fn axis_for_split(&self, axis: isize) -> Result<usize> {
        if self.ndim() == 0 {
            return Err(Error::invalid(
                "a 0-d array has no axis to split or unstack",
            ));
        }
        axis_of(axis, self.ndim())
    }
}
