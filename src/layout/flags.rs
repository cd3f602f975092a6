//! Contiguity, alignment and self-overlap tests, with NumPy's rules for size-0/size-1 axes.

use super::{Layout, Order};

/// NumPy's contiguity rule: an empty array is contiguous in both orders; axes of length 1 may
/// have any stride; the rest must have the strides of a packed array in `order`.
pub(super) fn is_contiguous(
    shape: &[usize],
    strides: &[isize],
    itemsize: usize,
    order: Order,
) -> bool {
    if shape.contains(&0) {
        return true;
    }
    let mut expected = itemsize as isize;
    let mut check = |d: usize, s: isize| {
        if d == 1 {
            return true;
        }
        if s != expected {
            return false;
        }
        expected = expected.saturating_mul(d as isize);
        true
    };
    match order {
        Order::C => shape.iter().zip(strides).rev().all(|(&d, &s)| check(d, s)),
        Order::F => shape.iter().zip(strides).all(|(&d, &s)| check(d, s)),
    }
}

pub(super) fn is_aligned(layout: &Layout, align: usize) -> bool {
    if align <= 1 {
        return true;
    }
    let a = align as isize;
    layout.offset.is_multiple_of(align)
        && layout
            .shape
            .iter()
            .zip(&layout.strides)
            .all(|(&d, &s)| d <= 1 || s % a == 0)
}

/// Sorts the axes that matter by |stride| and requires each to step past everything the
/// smaller axes span. Distinct indices then map to disjoint element bytes.
pub(super) fn no_self_overlap(shape: &[usize], strides: &[isize], itemsize: usize) -> bool {
    // Packed layouts (every fresh array) answer without sorting anything.
    if shape.contains(&0)
        || is_contiguous(shape, strides, itemsize, Order::C)
        || is_contiguous(shape, strides, itemsize, Order::F)
    {
        return true;
    }
    let mut axes: smallvec::SmallVec<[(u128, u128); 4]> = shape
        .iter()
        .zip(strides)
        .filter(|&(&d, _)| d > 1)
        .map(|(&d, &s)| (s.unsigned_abs() as u128, d as u128))
        .collect();
    axes.sort_unstable();
    let mut span = itemsize as u128; // bytes covered by the axes seen so far
    for (stride, len) in axes {
        if stride < span {
            return false;
        }
        span += stride * (len - 1);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_contiguity_rules() {
        // (3,3) int8: C strides (3,1).
        assert!(is_contiguous(&[3, 3], &[3, 1], 1, Order::C));
        assert!(!is_contiguous(&[3, 3], &[3, 1], 1, Order::F));
        // size-1 axes ignore their stride
        assert!(is_contiguous(&[1, 3], &[999, 1], 1, Order::C));
        assert!(is_contiguous(&[1, 3], &[999, 1], 1, Order::F));
        // empty arrays are contiguous both ways
        assert!(is_contiguous(&[0, 3], &[5, 7], 1, Order::C));
        // 0-d
        assert!(is_contiguous(&[], &[], 8, Order::C));
        assert!(!is_contiguous(&[3], &[-1], 1, Order::C));
    }

    #[test]
    fn overlap_detection() {
        assert!(no_self_overlap(&[3, 3], &[3, 1], 1));
        assert!(no_self_overlap(&[3, 3], &[1, 3], 1));
        assert!(!no_self_overlap(&[3, 3], &[0, 1], 1));
        assert!(!no_self_overlap(&[3, 3], &[1, 1], 1));
        assert!(!no_self_overlap(&[4], &[4], 8));
        assert!(no_self_overlap(&[4], &[-8], 8));
    }
}
