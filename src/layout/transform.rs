//! Metadata-only transformations: permuting, flipping, diagonals, squeezing, and
//! reinterpreting the item size. None of them touches data.

use super::{Layout, normalize_axis, shift_offset};
use crate::error::{Error, Result};

impl Layout {
    /// Axes reversed (NumPy's `.T`).
    pub fn transposed(&self) -> Layout {
        let mut l = self.clone();
        l.shape.reverse();
        l.strides.reverse();
        l
    }

    /// Axes reordered: new axis `i` is old axis `axes[i]`. Negative axes count from the end.
    pub fn permuted(&self, axes: &[isize]) -> Result<Layout> {
        let ndim = self.ndim();
        if axes.len() != ndim {
            return Err(Error::invalid(format!(
                "axes don't match array: transpose of a {ndim}-d array needs {ndim} axes, got {}",
                axes.len()
            )));
        }
        let mut seen = vec![false; ndim];
        let mut l = Layout {
            shape: smallvec::SmallVec::with_capacity(ndim),
            strides: smallvec::SmallVec::with_capacity(ndim),
            offset: self.offset,
        };
        for &a in axes {
            let a = normalize_axis(a, ndim)?;
            if std::mem::replace(&mut seen[a], true) {
                return Err(Error::invalid(format!("repeated axis {a} in transpose")));
            }
            l.shape.push(self.shape[a]);
            l.strides.push(self.strides[a]);
        }
        Ok(l)
    }

    pub fn swapped(&self, a: isize, b: isize) -> Result<Layout> {
        let (a, b) = (
            normalize_axis(a, self.ndim())?,
            normalize_axis(b, self.ndim())?,
        );
        let mut l = self.clone();
        l.shape.swap(a, b);
        l.strides.swap(a, b);
        Ok(l)
    }

    /// Reverses one axis: the offset moves to its last element and the stride changes sign.
    pub fn flipped(&self, axis: isize) -> Result<Layout> {
        let a = normalize_axis(axis, self.ndim())?;
        let mut l = self.clone();
        if !l.shape.contains(&0) {
            let shift = (l.shape[a] as isize - 1)
                .checked_mul(l.strides[a])
                .ok_or_else(|| Error::overflow("flip offset"))?;
            l.offset = shift_offset(l.offset, shift)?;
        }
        l.strides[a] = l.strides[a]
            .checked_neg()
            .ok_or_else(|| Error::overflow("flip stride"))?;
        Ok(l)
    }

    /// NumPy's `diagonal(offset, axis1, axis2)`: both axes removed, the diagonal appended last
    /// with stride `s1 + s2`.
    pub fn diagonal(&self, k: isize, axis1: isize, axis2: isize) -> Result<Layout> {
        let ndim = self.ndim();
        if ndim < 2 {
            return Err(Error::invalid(
                "diag requires an array of at least two dimensions",
            ));
        }
        let (a1, a2) = (normalize_axis(axis1, ndim)?, normalize_axis(axis2, ndim)?);
        if a1 == a2 {
            return Err(Error::invalid("axis1 and axis2 cannot be the same"));
        }
        let (n1, n2) = (self.shape[a1] as i128, self.shape[a2] as i128);
        let (s1, s2) = (self.strides[a1], self.strides[a2]);
        let k = k as i128;
        let (start1, start2) = if k >= 0 { (0, k) } else { (-k, 0) };
        let len = (n1 - start1).min(n2 - start2).max(0);
        let mut offset = self.offset;
        if len > 0 && !self.shape.contains(&0) {
            let shift = start1 * s1 as i128 + start2 * s2 as i128;
            let shift = isize::try_from(shift).map_err(|_| Error::overflow("diagonal offset"))?;
            offset = shift_offset(offset, shift)?;
        }
        let mut l = Layout {
            shape: Default::default(),
            strides: Default::default(),
            offset,
        };
        for ax in (0..ndim).filter(|&ax| ax != a1 && ax != a2) {
            l.shape.push(self.shape[ax]);
            l.strides.push(self.strides[ax]);
        }
        l.shape.push(len as usize);
        l.strides.push(
            s1.checked_add(s2)
                .ok_or_else(|| Error::overflow("diagonal stride"))?,
        );
        Ok(l)
    }

    /// Removes the listed axes (all length-1 axes when `axes` is `None`).
    pub fn squeezed(&self, axes: Option<&[isize]>) -> Result<Layout> {
        let ndim = self.ndim();
        let mut drop = vec![false; ndim];
        match axes {
            None => {
                for (d, &n) in drop.iter_mut().zip(&self.shape) {
                    *d = n == 1;
                }
            }
            Some(axes) => {
                for &a in axes {
                    let a = normalize_axis(a, ndim)?;
                    if self.shape[a] != 1 {
                        return Err(Error::invalid(
                            "cannot select an axis to squeeze out which has size not equal to one",
                        ));
                    }
                    drop[a] = true;
                }
            }
        }
        let mut l = Layout {
            shape: Default::default(),
            strides: Default::default(),
            offset: self.offset,
        };
        for ax in (0..ndim).filter(|&ax| !drop[ax]) {
            l.shape.push(self.shape[ax]);
            l.strides.push(self.strides[ax]);
        }
        Ok(l)
    }

    /// NumPy's rules for `a.view(new_dtype)` with a different item size: only the last axis
    /// changes, and it must be contiguous.
    pub fn with_itemsize(&self, old: usize, new: usize) -> Result<Layout> {
        if old == new {
            return Ok(self.clone());
        }
        let Some(last) = self.ndim().checked_sub(1) else {
            return Err(Error::invalid(
                "Changing the dtype of a 0d array is only supported if the itemsize is unchanged",
            ));
        };
        let size = self.size();
        if self.shape[last] != 1 && size != 0 && self.strides[last] != old as isize {
            return Err(Error::invalid(
                "To change to a dtype of a different size, the last axis must be contiguous",
            ));
        }
        let mut l = self.clone();
        if new < old {
            if !old.is_multiple_of(new) {
                return Err(Error::invalid(
                    "When changing to a smaller dtype, its size must be a divisor of the size of original dtype",
                ));
            }
            l.shape[last] = l.shape[last]
                .checked_mul(old / new)
                .ok_or_else(|| Error::overflow("view_dtype shape"))?;
        } else {
            let bytes = l.shape[last]
                .checked_mul(old)
                .ok_or_else(|| Error::overflow("view_dtype shape"))?;
            if bytes % new != 0 {
                return Err(Error::invalid(
                    "When changing to a larger dtype, its size must be a divisor of the total size in bytes of the last axis of the array.",
                ));
            }
            l.shape[last] = bytes / new;
        }
        l.strides[last] = new as isize;
        Ok(l)
    }
}

#[cfg(test)]
mod tests {
    use crate::layout::layout_of as lay;

    #[test]
    fn flip_and_diagonal_match_numpy() {
        // np.arange(9, dtype=int8).reshape(3,3)[:, ::-1]: strides (3,-1), offset 2
        let a = lay(&[3, 3], &[3, 1], 0);
        let f = a.flipped(1).unwrap();
        assert_eq!(
            (f.strides.clone(), f.offset),
            (smallvec::smallvec![3, -1], 2)
        );
        // a.diagonal(1): shape (2,), stride 4, offset 1
        let d = a.diagonal(1, 0, 1).unwrap();
        assert_eq!(
            (d.shape, d.strides, d.offset),
            (smallvec::smallvec![2], smallvec::smallvec![4], 1)
        );
        let d = a.diagonal(-2, 0, 1).unwrap();
        assert_eq!(
            (d.shape, d.strides, d.offset),
            (smallvec::smallvec![1], smallvec::smallvec![4], 6)
        );
        let d = a.diagonal(5, 0, 1).unwrap();
        assert_eq!(d.shape, smallvec::SmallVec::<[usize; 4]>::from_slice(&[0]));
    }

    #[test]
    fn view_dtype_rules() {
        // float64 (2,3) viewed as int32: (2,6) strides (24,4)
        let a = lay(&[2, 3], &[24, 8], 0);
        let v = a.with_itemsize(8, 4).unwrap();
        assert_eq!(
            (v.shape, v.strides),
            (smallvec::smallvec![2, 6], smallvec::smallvec![24, 4])
        );
        // int8 (2,3) as int16: 3 bytes not divisible by 2
        assert!(lay(&[2, 3], &[3, 1], 0).with_itemsize(1, 2).is_err());
        // transposed: last axis not contiguous
        assert!(a.transposed().with_itemsize(8, 4).is_err());
        assert!(lay(&[], &[], 0).with_itemsize(8, 4).is_err());
    }
}
