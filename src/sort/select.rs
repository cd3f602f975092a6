//! The one ranking rule for selections, shared by `argpartition`/`argsort` (through
//! `SortKey::rank`) and the kNN searches (through `before` and `offer`): smaller first, NaN
//! after every number, and equal values in index order.

/// `a` ranks before `b`: smaller distance, NaN last, and on equal distances the lower index.
#[inline]
pub(crate) fn before(a: (f64, i64), b: (f64, i64)) -> bool {
    match (a.0.is_nan(), b.0.is_nan()) {
        (false, true) => true,
        (true, false) => false,
        (true, true) => a.1 < b.1,
        (false, false) => a.0 < b.0 || (a.0 == b.0 && a.1 < b.1),
    }
}

/// Inserts `(dist, idx)` into the sorted list of at most `k` if it ranks among the best.
#[inline]
pub(crate) fn offer(list: &mut Vec<(f64, i64)>, k: usize, dist: f64, idx: i64) {
    let item = (dist, idx);
    if list.len() == k && !before(item, list[k - 1]) {
        return;
    }
    let at = list.partition_point(|&x| before(x, item));
    list.insert(at, item);
    list.truncate(k);
}

#[cfg(test)]
mod tests {
    use super::super::keys::SortKey;
    use super::*;

    /// `before` and the rank keys of argsort order every pair alike.
    #[test]
    fn before_is_the_rank_order() {
        let v = [
            f64::NAN,
            -0.0,
            0.0,
            1.0,
            -1.0,
            f64::INFINITY,
            -f64::NAN,
            1.0,
        ];
        for (i, &x) in v.iter().enumerate() {
            for (j, &y) in v.iter().enumerate() {
                let by_rank = (x.rank(), i) < (y.rank(), j);
                assert_eq!(before((x, i as i64), (y, j as i64)), by_rank, "{x} {y}");
            }
        }
    }
}
