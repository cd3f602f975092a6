//! Exact memory-overlap test for two strided layouts over one buffer, the algorithm of NumPy's
//! `mem_overlap.c` (a bounded linear Diophantine problem solved by depth-first search over
//! extended-Euclid parametrisations), with a work bound and an honest "too hard" answer.
//!
//! Two arrays share a byte when
//! `start_a + Σ|s_a,i|·x_i + u == end_b - 1 - Σ|s_b,j|·y_j - v`, with `0 ≤ x_i < n_a,i`,
//! `0 ≤ u < itemsize_a` (and likewise for b), i.e. when
//! `Σ|s_a,i|·x_i + u + Σ|s_b,j|·y_j + v == end_b - 1 - start_a` has a bounded solution.

use super::Layout;

/// Answer of the overlap solver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlap {
    /// No byte is reachable from both.
    No,
    /// Some byte is reachable from both.
    Yes,
    /// The work bound ran out before an answer (NumPy's `TooHardError`).
    TooHard,
}

#[derive(Clone, Copy, Debug)]
struct Term {
    a: i64,
    ub: i64,
}

/// Decides whether `a` and `b` (layouts over the same buffer) reach a common byte.
/// `max_work` bounds the search (`None`: unbounded, like NumPy's `max_work=None`).
pub fn solve_overlap(
    a: &Layout,
    a_itemsize: usize,
    b: &Layout,
    b_itemsize: usize,
    max_work: Option<u64>,
) -> Overlap {
    let (Some((start1, end1)), Some((start2, end2))) = (a.extent(a_itemsize), b.extent(b_itemsize))
    else {
        return Overlap::No;
    };
    if start1 >= end2 || start2 >= end1 {
        return Overlap::No;
    }
    if max_work == Some(0) {
        return Overlap::TooHard;
    }
    let rhs = (end2 - 1 - start1).min(end1 - 1 - start2);
    let Ok(rhs) = i64::try_from(rhs) else {
        return Overlap::TooHard;
    };
    let mut terms = Vec::new();
    for (layout, itemsize) in [(a, a_itemsize), (b, b_itemsize)] {
        for (&d, &s) in layout.shape.iter().zip(&layout.strides) {
            if d > 1 && s != 0 {
                let (Ok(a), Ok(ub)) = (i64::try_from(s.unsigned_abs()), i64::try_from(d - 1))
                else {
                    return Overlap::TooHard;
                };
                terms.push(Term { a, ub });
            }
        }
        if itemsize > 1 {
            terms.push(Term {
                a: 1,
                ub: itemsize as i64 - 1,
            });
        }
    }
    let Some(terms) = simplify(terms, rhs) else {
        return Overlap::TooHard;
    };
    let mut solver = Solver {
        max_work,
        count: 0,
        e: terms,
        ep: vec![],
        gamma: vec![],
        epsilon: vec![],
    };
    solver.solve(rhs)
}

/// Sorts by decreasing coefficient, merges equal coefficients, trims bounds to what `b` allows
/// and drops terms that can only be zero. `None` on overflow.
fn simplify(mut e: Vec<Term>, b: i64) -> Option<Vec<Term>> {
    e.sort_by_key(|t| std::cmp::Reverse(t.a));
    let mut merged: Vec<Term> = Vec::with_capacity(e.len());
    for t in e {
        match merged.last_mut() {
            Some(last) if last.a == t.a => last.ub = last.ub.checked_add(t.ub)?,
            _ => merged.push(t),
        }
    }
    merged.retain_mut(|t| {
        t.ub = t.ub.min(b / t.a);
        t.ub != 0
    });
    Some(merged)
}

/// Extended Euclid: `(gcd, gamma, epsilon)` with `a1·gamma + a2·epsilon = gcd`, for a1, a2 > 0.
fn euclid(mut a1: i64, mut a2: i64) -> (i64, i64, i64) {
    let (mut gamma1, mut gamma2, mut eps1, mut eps2) = (1i64, 0i64, 0i64, 1i64);
    loop {
        if a2 > 0 {
            let r = a1 / a2;
            a1 -= r * a2;
            gamma1 -= r * gamma2;
            eps1 -= r * eps2;
        } else {
            return (a1, gamma1, eps1);
        }
        if a1 > 0 {
            let r = a2 / a1;
            a2 -= r * a1;
            gamma2 -= r * gamma1;
            eps2 -= r * eps1;
        } else {
            return (a2, gamma2, eps2);
        }
    }
}

fn floor_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

fn ceil_div(a: i128, b: i128) -> i128 {
    -floor_div(-a, b)
}

struct Solver {
    max_work: Option<u64>,
    count: u64,
    e: Vec<Term>,
    /// Ep[j]: the combined term of E[0..=j+1] (gcd coefficient, combined bound).
    ep: Vec<Term>,
    gamma: Vec<i64>,
    epsilon: Vec<i64>,
}

impl Solver {
    fn solve(&mut self, b: i64) -> Overlap {
        let n = self.e.len();
        match n {
            0 => return if b == 0 { Overlap::Yes } else { Overlap::No },
            1 => {
                let t = self.e[0];
                return if b % t.a == 0 && (0..=t.ub).contains(&(b / t.a)) {
                    Overlap::Yes
                } else {
                    Overlap::No
                };
            }
            _ => {}
        }
        if self.precompute().is_none() {
            return Overlap::TooHard;
        }
        self.dfs(n - 1, b as i128)
    }

    fn precompute(&mut self) -> Option<()> {
        let (n, e) = (self.e.len(), &self.e);
        self.ep = vec![Term { a: 0, ub: 0 }; n - 1];
        self.gamma = vec![0; n - 1];
        self.epsilon = vec![0; n - 1];
        let (g, ga, ep) = euclid(e[0].a, e[1].a);
        (self.ep[0].a, self.gamma[0], self.epsilon[0]) = (g, ga, ep);
        if n > 2 {
            let (c1, c2) = (e[0].a / g, e[1].a / g);
            self.ep[0].ub = e[0]
                .ub
                .checked_mul(c1)?
                .checked_add(e[1].ub.checked_mul(c2)?)?;
        }
        // Indexes j-1 and j-2 of the running combination as well as E[j]: a range loop is clearest.
        #[allow(clippy::needless_range_loop)]
        for j in 2..n {
            let (g, ga, ep) = euclid(self.ep[j - 2].a, e[j].a);
            (self.ep[j - 1].a, self.gamma[j - 1], self.epsilon[j - 1]) = (g, ga, ep);
            if j < n - 1 {
                let (c1, c2) = (self.ep[j - 2].a / g, e[j].a / g);
                self.ep[j - 1].ub = c1
                    .checked_mul(self.ep[j - 2].ub)?
                    .checked_add(c2.checked_mul(e[j].ub)?)?;
            }
        }
        Some(())
    }

    /// Is there a solution of Σ_{i≤v} E[i].a·x_i = b within the bounds?
    fn dfs(&mut self, v: usize, b: i128) -> Overlap {
        if self.max_work.is_some_and(|m| self.count >= m) {
            return Overlap::TooHard;
        }
        let (a1, u1) = if v == 1 {
            (self.e[0].a, self.e[0].ub)
        } else {
            (self.ep[v - 2].a, self.ep[v - 2].ub)
        };
        let (a2, u2) = (self.e[v].a, self.e[v].ub);
        let g = self.ep[v - 1].a as i128;
        let (gamma, epsilon) = (self.gamma[v - 1] as i128, self.epsilon[v - 1] as i128);
        if b % g != 0 {
            self.count += 1;
            return Overlap::No;
        }
        let c = b / g;
        let (c1, c2) = (a2 as i128 / g, a1 as i128 / g);
        // All solutions: x1 = gamma·c + c1·t, x2 = epsilon·c − c2·t, with 0 ≤ x1 ≤ u1, 0 ≤ x2 ≤ u2.
        let (x10, x20) = (gamma * c, epsilon * c);
        let t_l = ceil_div(-x10, c1).max(ceil_div(x20 - u2 as i128, c2));
        let t_u = floor_div(u1 as i128 - x10, c1).min(floor_div(x20, c2));
        if t_l > t_u {
            self.count += 1;
            return Overlap::No;
        }
        if v == 1 {
            return Overlap::Yes;
        }
        let mut t = t_l;
        while t <= t_u {
            let xv = x20 - c2 * t;
            let b2 = b - a2 as i128 * xv;
            let r = self.dfs(v - 1, b2);
            if r != Overlap::No {
                return r;
            }
            t += 1;
        }
        self.count += 1;
        Overlap::No
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn bytes(l: &Layout, itemsize: usize) -> HashSet<i128> {
        let mut out = HashSet::new();
        if l.shape.contains(&0) {
            return out;
        }
        let mut idx = vec![0usize; l.ndim()];
        loop {
            let p = l.offset_of(&idx) as i128;
            for k in 0..itemsize as i128 {
                out.insert(p + k);
            }
            let mut ax = l.ndim();
            loop {
                if ax == 0 {
                    return out;
                }
                ax -= 1;
                idx[ax] += 1;
                if idx[ax] < l.shape[ax] {
                    break;
                }
                idx[ax] = 0;
            }
        }
    }

    use crate::layout::layout_of as lay;

    #[test]
    fn interleaved_columns_do_not_overlap() {
        // x[:, ::2] and x[:, 1::2] of a (10, 10) float64: extents overlap, bytes do not.
        let a = lay(&[10, 5], &[80, 16], 0);
        let b = lay(&[10, 5], &[80, 16], 8);
        assert_eq!(solve_overlap(&a, 8, &b, 8, None), Overlap::No);
        let c = lay(&[10, 5], &[80, 16], 16);
        assert_eq!(solve_overlap(&a, 8, &c, 8, None), Overlap::Yes);
        // 4-byte views: bytes 12..16 of each row fall in a's gaps, bytes 20..24 do not
        let d = lay(&[10], &[80], 12);
        assert_eq!(solve_overlap(&a, 8, &d, 4, None), Overlap::No);
        let d = lay(&[10], &[80], 20);
        assert_eq!(solve_overlap(&a, 8, &d, 4, None), Overlap::Yes);
        assert_eq!(solve_overlap(&a, 8, &c, 8, Some(0)), Overlap::TooHard);
    }

    #[test]
    fn agrees_with_brute_force_on_a_grid() {
        // Miri interprets every step; a corner of the grid is enough to exercise the unsafe-free
        // solver there, the full grid runs natively.
        let all_shapes: [&[usize]; 4] = [&[3, 4], &[7], &[2, 2, 3], &[0, 3]];
        let shapes = if cfg!(miri) {
            &all_shapes[..2]
        } else {
            &all_shapes[..]
        };
        let (s1s, offs): (&[isize], &[usize]) = if cfg!(miri) {
            (&[5, -8], &[0, 7])
        } else {
            (&[3, 5, 8, -8, 12], &[0, 4, 7, 40])
        };
        let mut checked = 0;
        for &sa in shapes {
            for &sb in shapes {
                for &s1 in s1s {
                    for &off in offs {
                        let strides_a: Vec<isize> =
                            (0..sa.len()).map(|i| s1 * (1 + 3 * i as isize)).collect();
                        let strides_b: Vec<isize> =
                            (0..sb.len()).map(|i| 4 * (1 + 2 * i as isize)).collect();
                        let mut a = lay(sa, &strides_a, 200);
                        let b = lay(sb, &strides_b, off + 100);
                        a.offset = 200;
                        for (ia, ib) in [(1usize, 1usize), (4, 2), (8, 8)] {
                            let brute = !bytes(&a, ia).is_disjoint(&bytes(&b, ib));
                            let got = solve_overlap(&a, ia, &b, ib, None);
                            assert_eq!(
                                got,
                                if brute { Overlap::Yes } else { Overlap::No },
                                "{a:?} {b:?} {ia} {ib}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked >= if cfg!(miri) { 24 } else { 960 });
    }
}
