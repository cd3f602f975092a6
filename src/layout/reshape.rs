//! NumPy's no-copy reshape (`_attempt_nocopy_reshape` in NumPy's shape.c): a reshape is a view
//! exactly when each group of old axes that merges into (or splits from) new axes is
//! contiguous within itself in the requested order. Works on many non-contiguous arrays too,
//! e.g. a column slice `a[:, ::2]` can become `(rows, k, m)`.

use super::{Dims, Layout, Order, Strides, c_strides, checked_size, f_strides};
use crate::error::{Error, Result};

impl Layout {
    /// The strides under which `new_shape` reads the same elements in `order`, if a view can do
    /// it; `None` when only a copy can. Errors when the element counts differ.
    pub fn reshaped(
        &self,
        new_shape: &[usize],
        itemsize: usize,
        order: Order,
    ) -> Result<Option<Layout>> {
        let old_size = checked_size(&self.shape)?;
        let new_size = checked_size(new_shape)?;
        if old_size != new_size {
            return Err(Error::shape(
                "reshape",
                format!(
                    "cannot reshape array of size {old_size} into shape {}",
                    crate::error::shape_str(new_shape)
                ),
            ));
        }
        if new_size == 0 {
            // Nothing is read: fresh strides at the same offset, as NumPy does.
            let strides = match order {
                Order::C => c_strides(new_shape, itemsize)?,
                Order::F => f_strides(new_shape, itemsize)?,
            };
            return Ok(Some(Layout {
                shape: new_shape.into(),
                strides,
                offset: self.offset,
            }));
        }
        Ok(
            nocopy_strides(&self.shape, &self.strides, new_shape, itemsize, order).map(|strides| {
                Layout {
                    shape: new_shape.into(),
                    strides,
                    offset: self.offset,
                }
            }),
        )
    }
}

/// Both shapes have the same nonzero product.
fn nocopy_strides(
    shape: &[usize],
    strides: &[isize],
    new_shape: &[usize],
    itemsize: usize,
    order: Order,
) -> Option<Strides> {
    // Axes of length 1 carry no information and any stride; drop them from the old layout.
    let (old_dims, old_strides): (Dims, Strides) = shape
        .iter()
        .zip(strides)
        .filter(|&(&d, _)| d != 1)
        .map(|(&d, &s)| (d, s))
        .unzip();
    let (oldnd, newnd) = (old_dims.len(), new_shape.len());
    let mut new_strides: Strides = smallvec::smallvec![0isize; newnd];
    let fortran = order == Order::F;

    let (mut oi, mut oj, mut ni, mut nj) = (0usize, 1usize, 0usize, 1usize);
    while ni < newnd && oi < oldnd {
        let mut np = new_shape[ni];
        let mut op = old_dims[oi];
        // Grow the smaller side until both groups hold the same number of elements. Products
        // stay <= the total size, which fits in usize.
        while np != op {
            if np < op {
                np *= *new_shape.get(nj)?;
                nj += 1;
            } else {
                op *= *old_dims.get(oj)?;
                oj += 1;
            }
        }
        // The old axes oi..oj must be contiguous with each other to be merged.
        for ok in oi..oj - 1 {
            let merged = if fortran {
                (old_dims[ok] as isize).checked_mul(old_strides[ok])? == old_strides[ok + 1]
            } else {
                (old_dims[ok + 1] as isize).checked_mul(old_strides[ok + 1])? == old_strides[ok]
            };
            if !merged {
                return None;
            }
        }
        if fortran {
            new_strides[ni] = old_strides[oi];
            for nk in ni + 1..nj {
                new_strides[nk] = new_strides[nk - 1].checked_mul(new_shape[nk - 1] as isize)?;
            }
        } else {
            new_strides[nj - 1] = old_strides[oj - 1];
            for nk in (ni + 1..nj).rev() {
                new_strides[nk - 1] = new_strides[nk].checked_mul(new_shape[nk] as isize)?;
            }
        }
        ni = nj;
        nj += 1;
        oi = oj;
        oj += 1;
    }
    // Trailing new axes of length 1 get the stride just past the last real axis.
    let last_stride = if ni >= 1 {
        let s = new_strides[ni - 1];
        if fortran {
            s.checked_mul(new_shape[ni - 1] as isize)?
        } else {
            s
        }
    } else {
        itemsize as isize
    };
    for s in &mut new_strides[ni..] {
        *s = last_stride;
    }
    Some(new_strides)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::layout::layout_at_zero as lay;

    #[test]
    fn numpy_examples() {
        // np.arange(12).reshape(3,4).reshape(2,6).strides == (48, 8)
        let a = lay(&[3, 4], &[32, 8]);
        assert_eq!(
            a.reshaped(&[2, 6], 8, Order::C)
                .unwrap()
                .unwrap()
                .strides
                .to_vec(),
            vec![48, 8]
        );
        // a.T.reshape(12) needs a copy
        let t = lay(&[4, 3], &[8, 32]);
        assert!(t.reshaped(&[12], 8, Order::C).unwrap().is_none());
        // ...but in Fortran order it is a view
        assert_eq!(
            t.reshaped(&[12], 8, Order::F)
                .unwrap()
                .unwrap()
                .strides
                .to_vec(),
            vec![8]
        );
        // a[:, ::2] of a (4,6) int64: shape (4,3) strides (48,16); rows follow each other
        // at 3*16 = 48 bytes, so even the flat reshape is a view (NumPy agrees).
        let s = lay(&[4, 3], &[48, 16]);
        assert_eq!(
            s.reshaped(&[4, 3, 1], 8, Order::C)
                .unwrap()
                .unwrap()
                .strides
                .to_vec(),
            vec![48, 16, 16]
        );
        assert_eq!(
            s.reshaped(&[12], 8, Order::C)
                .unwrap()
                .unwrap()
                .strides
                .to_vec(),
            vec![16]
        );
        // a[:, :3] of the same array has a gap between rows: only a copy can flatten it.
        let s = lay(&[4, 3], &[48, 8]);
        assert!(s.reshaped(&[12], 8, Order::C).unwrap().is_none());
        assert_eq!(
            s.reshaped(&[2, 2, 3], 8, Order::C)
                .unwrap()
                .unwrap()
                .strides
                .to_vec(),
            vec![96, 48, 8]
        );
        // wrong size
        assert!(a.reshaped(&[5], 8, Order::C).is_err());
        // expand_dims(a, 0) of (3,3) int8 gives strides (9,3,1) in NumPy
        let b = lay(&[3, 3], &[3, 1]);
        assert_eq!(
            b.reshaped(&[1, 3, 3], 1, Order::C)
                .unwrap()
                .unwrap()
                .strides
                .to_vec(),
            vec![9, 3, 1]
        );
    }
}
