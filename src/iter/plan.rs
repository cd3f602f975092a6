//! Axis planning shared by every strided loop.

use smallvec::SmallVec;

use crate::layout::{Dims, Strides};

/// Operands' strides over a common shape after planning: `shape[i]` with `strides[op][i]`.
/// Axis order is outermost first; the last axis is the one to run innermost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxisPlan {
    pub shape: Dims,
    /// Per operand; inline for up to four operands (no allocation for ufunc-sized plans).
    pub strides: SmallVec<[Strides; 4]>,
}

impl AxisPlan {
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }
}

/// Plans a loop over `shape` for operands with the given byte strides.
///
/// Length-1 axes are dropped (their stride never matters). Axes are ordered by operand 0's
/// |stride|, largest first, so the innermost loop walks operand 0 (the output, for copies)
/// sequentially; ties keep the original order. Adjacent axes are then merged when every operand
/// steps over the inner one exactly into the outer one. An empty shape (0-d) stays empty: one
/// element at offset 0. Callers handle size-0 shapes before planning.
pub fn plan_axes(shape: &[usize], strides: &[&[isize]]) -> AxisPlan {
    let mut axes: Dims = (0..shape.len()).filter(|&a| shape[a] != 1).collect();
    // Stable, so ties keep the original order.
    axes.sort_by_key(|&a| std::cmp::Reverse(strides[0][a].unsigned_abs()));
    let mut plan = AxisPlan {
        shape: Dims::with_capacity(axes.len()),
        strides: smallvec::smallvec![Strides::with_capacity(axes.len()); strides.len()],
    };
    for &a in &axes {
        let merge = match plan.shape.last() {
            Some(_) => strides.iter().zip(&plan.strides).all(|(s, ps)| {
                let outer = *ps.last().expect("same length as shape");
                (s[a] as i128) * (shape[a] as i128) == outer as i128
            }),
            None => false,
        };
        if merge {
            // The previous (outer) axis and this one become one axis with this one's stride.
            *plan.shape.last_mut().expect("checked") *= shape[a];
            for (s, ps) in strides.iter().zip(plan.strides.iter_mut()) {
                *ps.last_mut().expect("checked") = s[a];
            }
        } else {
            plan.shape.push(shape[a]);
            for (s, ps) in strides.iter().zip(plan.strides.iter_mut()) {
                ps.push(s[a]);
            }
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_collapses_to_one_axis() {
        let p = plan_axes(&[2, 3, 4], &[&[96, 32, 8], &[96, 32, 8]]);
        assert_eq!(p.shape.as_slice(), &[24]);
        assert_eq!(p.strides[0].as_slice(), &[8]);
        assert_eq!(p.strides[1].as_slice(), &[8]);
    }

    #[test]
    fn transposed_source_keeps_two_axes_ordered_by_output() {
        let p = plan_axes(&[4, 5], &[&[40, 8], &[8, 32]]);
        assert_eq!(p.shape.as_slice(), &[4, 5]);
        let p = plan_axes(&[5, 4], &[&[8, 40], &[32, 8]]);
        assert_eq!(p.shape.as_slice(), &[4, 5]);
        assert_eq!(p.strides[0].as_slice(), &[40, 8]);
        assert_eq!(p.strides[1].as_slice(), &[8, 32]);
    }

    #[test]
    fn drops_unit_axes() {
        let p = plan_axes(&[1, 3, 1], &[&[0, 8, 99]]);
        assert_eq!(p.shape.as_slice(), &[3]);
    }
}
