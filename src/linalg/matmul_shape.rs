//! `np.matmul`'s shape rules, as pure functions of the operand shapes: 1-D operands are
//! promoted to matrices and the added axis removed again, leading axes are stacks of matrices
//! that broadcast, and the errors use NumPy's words.

use crate::error::{Error, Result, shape_str_compact};
use crate::layout::{Dims, broadcast_dims};

/// NumPy's gufunc signature for matmul, quoted in its errors.
const SIGNATURE: &str = "(n?,k),(k,m?)->(n?,m?)";

/// The shapes of one `matmul(a, b)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MatmulShape {
    /// Broadcast stack shape (the leading axes of the output).
    pub batch: Dims,
    pub m: usize,
    pub k: usize,
    pub n: usize,
    /// Whether `a` (resp. `b`) was 1-D, so its matrix axis is dropped from the output.
    pub a_vector: bool,
    pub b_vector: bool,
}

impl MatmulShape {
    pub fn new(a: &[usize], b: &[usize]) -> Result<MatmulShape> {
        for (operand, shape) in [a, b].iter().enumerate() {
            if shape.is_empty() {
                return Err(Error::shape(
                    "matmul",
                    format!(
                        "Input operand {operand} does not have enough dimensions (has 0, gufunc \
                         core with signature {SIGNATURE} requires 1)"
                    ),
                ));
            }
        }
        let (a_vector, b_vector) = (a.len() == 1, b.len() == 1);
        let (a_batch, m, ka) = match a {
            [k] => (&[][..], 1, *k),
            [batch @ .., m, k] => (batch, *m, *k),
            [] => unreachable!("checked above"),
        };
        let (b_batch, kb, n) = match b {
            [k] => (&[][..], *k, 1),
            [batch @ .., k, n] => (batch, *k, *n),
            [] => unreachable!("checked above"),
        };
        if ka != kb {
            return Err(Error::shape(
                "matmul",
                format!(
                    "Input operand 1 has a mismatch in its core dimension 0, with gufunc \
                     signature {SIGNATURE} (size {kb} is different from {ka})"
                ),
            ));
        }
        let batch = broadcast_dims(&[a_batch, b_batch]).map_err(|_| {
            let remap = |shape: &[usize], batch: &[usize]| {
                let mut s = shape_str_compact(batch);
                if !batch.is_empty() {
                    s.pop();
                    s = s.trim_end_matches(',').to_string();
                    s.push_str(",newaxis,newaxis)");
                }
                format!("{}->{}", shape_str_compact(shape), s)
            };
            Error::shape(
                "matmul",
                format!(
                    "operands could not be broadcast together with remapped shapes \
                     [original->remapped]: {} {}  and requested shape {}",
                    remap(a, a_batch),
                    remap(b, b_batch),
                    shape_str_compact(&[m, n])
                ),
            )
        })?;
        Ok(MatmulShape {
            batch,
            m,
            k: ka,
            n,
            a_vector,
            b_vector,
        })
    }

    /// The computed shape: `batch + (m, n)`.
    pub fn full_shape(&self) -> Dims {
        let mut s = self.batch.clone();
        s.extend([self.m, self.n]);
        s
    }

    /// The shape NumPy returns: `batch + (m, n)` without the axes of 1-D operands.
    pub fn out_shape(&self) -> Dims {
        let mut s = self.batch.clone();
        if !self.a_vector {
            s.push(self.m);
        }
        if !self.b_vector {
            s.push(self.n);
        }
        s
    }

    /// The error NumPy gives for an `out=` array of the wrong shape.
    pub fn out_mismatch(&self, out: &[usize]) -> Option<Error> {
        let want = self.out_shape();
        if out == want.as_slice() {
            return None;
        }
        if out.len() != want.len() {
            return Some(Error::shape(
                "matmul",
                format!(
                    "Output operand 0 has {} dimensions, but the result has shape {} ({} \
                     dimensions)",
                    out.len(),
                    shape_str_compact(&want),
                    want.len()
                ),
            ));
        }
        let (axis, (&got, &size)) = out
            .iter()
            .zip(&want)
            .enumerate()
            .rev()
            .find(|(_, (g, w))| g != w)?;
        let core_axes = usize::from(!self.a_vector) + usize::from(!self.b_vector);
        let batch_axes = want.len() - core_axes;
        Some(Error::shape(
            "matmul",
            if axis >= batch_axes {
                format!(
                    "Output operand 0 has a mismatch in its core dimension {}, with gufunc \
                     signature {SIGNATURE} (size {got} is different from {size})",
                    axis - batch_axes
                )
            } else {
                format!(
                    "non-broadcastable output operand with shape {} doesn't match the broadcast \
                     shape {}",
                    shape_str_compact(out),
                    shape_str_compact(&want)
                )
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_shapes_and_messages() {
        let ok = |a: &[usize], b: &[usize]| MatmulShape::new(a, b).unwrap().out_shape().to_vec();
        assert_eq!(ok(&[2, 3], &[3]), vec![2]);
        assert_eq!(ok(&[3], &[3, 2]), vec![2]);
        assert_eq!(ok(&[3], &[3]), Vec::<usize>::new());
        assert_eq!(ok(&[5, 1, 2, 3], &[4, 3, 7]), vec![5, 4, 2, 7]);
        let err = |a: &[usize], b: &[usize]| MatmulShape::new(a, b).unwrap_err().to_string();
        // NumPy 2.4's messages (with this crate's "matmul: " prefix, which NumPy also has).
        assert_eq!(
            err(&[3, 4], &[5, 6]),
            "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc \
             signature (n?,k),(k,m?)->(n?,m?) (size 5 is different from 4)"
        );
        assert_eq!(
            err(&[], &[3]),
            "matmul: Input operand 0 does not have enough dimensions (has 0, gufunc core with \
             signature (n?,k),(k,m?)->(n?,m?) requires 1)"
        );
        assert_eq!(
            err(&[2, 3, 4], &[3, 4, 5]),
            "matmul: operands could not be broadcast together with remapped shapes \
             [original->remapped]: (2,3,4)->(2,newaxis,newaxis) (3,4,5)->(3,newaxis,newaxis)  \
             and requested shape (3,5)"
        );
        let s = MatmulShape::new(&[3, 3], &[3, 3]).unwrap();
        assert_eq!(
            s.out_mismatch(&[3, 2]).unwrap().to_string(),
            "matmul: Output operand 0 has a mismatch in its core dimension 1, with gufunc \
             signature (n?,k),(k,m?)->(n?,m?) (size 2 is different from 3)"
        );
        assert!(s.out_mismatch(&[3, 3]).is_none());
    }
}
