//! NumPy broadcasting: align shapes at the right, stretch length-1 axes with stride 0.

use super::{Dims, Layout, Strides, same_shape};
use crate::error::{Error, Result};

/// The shape that all `shapes` broadcast to, or NumPy's error naming every shape.
pub fn broadcast_shapes(shapes: &[&[usize]]) -> Result<Vec<usize>> {
    broadcast_dims(shapes).map(|d| d.to_vec())
}

/// [`broadcast_shapes`] without a heap allocation for up to four axes (every ufunc call
/// computes one).
pub fn broadcast_dims(shapes: &[&[usize]]) -> Result<Dims> {
    // Operands of one shape (the common case) need no stretching.
    if let Some((first, rest)) = shapes.split_first()
        && rest.iter().all(|s| same_shape(s, first))
    {
        return Ok(super::inline_copy(first));
    }
    let ndim = shapes.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut out: Dims = smallvec::smallvec![1usize; ndim];
    for shape in shapes {
        let pad = ndim - shape.len();
        for (o, &d) in out[pad..].iter_mut().zip(shape.iter()) {
            if *o == 1 {
                *o = d;
            } else if d != 1 && d != *o {
                return Err(Error::Broadcast {
                    shapes: shapes.iter().map(|s| s.to_vec()).collect(),
                });
            }
        }
    }
    Ok(out)
}

/// Strides that read an array of `shape`/`strides` as if it had `target` shape.
pub fn broadcast_strides(shape: &[usize], strides: &[isize], target: &[usize]) -> Result<Strides> {
    let err = || Error::BroadcastTo {
        from: shape.to_vec(),
        to: target.to_vec(),
    };
    if target.len() < shape.len() {
        return Err(err());
    }
    let pad = target.len() - shape.len();
    let mut out: Strides = smallvec::smallvec![0isize; target.len()];
    for (k, (&d, &s)) in shape.iter().zip(strides).enumerate() {
        let t = target[pad + k];
        out[pad + k] = if d == t {
            s
        } else if d == 1 {
            0
        } else {
            return Err(err());
        };
    }
    Ok(out)
}

impl Layout {
    /// The layout read as `target` shape (stride 0 on stretched axes).
    pub fn broadcast_to(&self, target: &[usize]) -> Result<Layout> {
        Ok(Layout {
            shape: super::inline_copy(target),
            strides: broadcast_strides(&self.shape, &self.strides, target)?,
            offset: self.offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(broadcast_shapes(&[&[3, 1], &[4]]).unwrap(), vec![3, 4]);
        assert_eq!(broadcast_shapes(&[&[], &[2, 0]]).unwrap(), vec![2, 0]);
        let e = broadcast_shapes(&[&[3, 4], &[5]]).unwrap_err().to_string();
        assert_eq!(
            e,
            "operands could not be broadcast together with shapes (3,4) (5,)"
        );
    }
}
