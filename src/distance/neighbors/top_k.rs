//! The k best neighbours of one query row, shared by the kNN searches: the block driver's
//! (exact distances), the fused matmul search's (screened trick distances, then exact) and,
//! by the same rules in `kernels/cdist.cu`, the GPU's. The order is `sort::select`'s: smaller
//! first, NaN after every number, equal distances by the lower index.

use crate::sort::select::{before, offer};

/// At most `k` `(distance, index)` pairs, best first.
#[derive(Clone, Debug)]
pub(crate) struct TopK {
    k: usize,
    best: Vec<(f64, i64)>,
}

impl TopK {
    pub fn new(k: usize) -> TopK {
        TopK {
            k,
            best: Vec::with_capacity(k + 1),
        }
    }

    /// Inserts `(dist, idx)` if it ranks among the `k` best so far.
    #[inline]
    pub fn offer(&mut self, dist: f64, idx: i64) {
        offer(&mut self.best, self.k, dist, idx);
    }

    /// Whether every candidate must still be offered: the list is not full, or its worst
    /// entry is NaN (which any number beats).
    #[inline]
    pub fn takes_any(&self) -> bool {
        self.best.len() < self.k || self.best[self.k - 1].0.is_nan()
    }

    /// The worst kept distance once the list is full (infinity before).
    #[inline]
    pub fn bound(&self) -> f64 {
        if self.best.len() == self.k {
            self.best[self.k - 1].0
        } else {
            f64::INFINITY
        }
    }

    /// Offers the distances `row[c]` to columns `c0 + c`, in increasing column order.
    pub fn offer_row(&mut self, c0: usize, row: &[f64]) {
        let w = row.len();
        let mut c = 0;
        while c < w && self.takes_any() {
            self.offer(row[c], (c0 + c) as i64);
            c += 1;
        }
        // Then columns come in increasing index order, so a candidate enters only with a
        // distance strictly below the worst kept one: one comparison for almost every pair.
        let mut bound = self.bound();
        for (j, &dist) in row.iter().enumerate().skip(c) {
            if dist < bound {
                self.offer(dist, (c0 + j) as i64);
                bound = self.bound();
            }
        }
    }

    /// Replaces every kept distance by `exact(distance, index)` and restores the order (the
    /// fused search's screened distances made exact).
    pub fn rescore(&mut self, mut exact: impl FnMut(f64, i64) -> f64) {
        for e in self.best.iter_mut() {
            e.0 = exact(e.0, e.1);
        }
        self.best.sort_by(|&x, &y| {
            if before(x, y) {
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }
        });
    }

    /// The kept pairs, best first.
    pub fn into_entries(self) -> Vec<(f64, i64)> {
        self.best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_k_best_ties_low_nan_last() {
        let mut t = TopK::new(3);
        t.offer_row(10, &[f64::NAN, 2.0, 1.0, 2.0, 5.0, 1.0]);
        assert_eq!(t.into_entries(), [(1.0, 12), (1.0, 15), (2.0, 11)]);
        let mut t = TopK::new(2);
        t.offer_row(0, &[f64::NAN, f64::NAN, 7.0]);
        let kept = t.clone().into_entries();
        assert_eq!(kept[0], (7.0, 2));
        assert!(kept[1].0.is_nan() && kept[1].1 == 0);
        t.rescore(|d, i| if d.is_nan() { 0.5 } else { d + i as f64 });
        assert_eq!(t.into_entries(), [(0.5, 0), (9.0, 2)]);
    }
}
