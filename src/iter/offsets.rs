//! Logical (C order) walks over a shape: multi-indices and byte offsets.

/// Multi-indices of `shape` in C order (`[0,0], [0,1], ...`). A 0-d shape yields one empty
/// index; a shape with a zero yields nothing.
#[derive(Clone, Debug)]
pub struct IndexIter {
    shape: Vec<usize>,
    next: Option<Vec<usize>>,
}

impl IndexIter {
    pub fn new(shape: &[usize]) -> Self {
        let next = if shape.contains(&0) {
            None
        } else {
            Some(vec![0; shape.len()])
        };
        IndexIter {
            shape: shape.to_vec(),
            next,
        }
    }
}

impl Iterator for IndexIter {
    type Item = Vec<usize>;
    fn next(&mut self) -> Option<Vec<usize>> {
        let cur = self.next.take()?;
        let mut idx = cur.clone();
        for ax in (0..idx.len()).rev() {
            idx[ax] += 1;
            if idx[ax] < self.shape[ax] {
                self.next = Some(idx);
                return Some(cur);
            }
            idx[ax] = 0;
        }
        Some(cur)
    }
}

/// Byte offsets of the elements of a strided layout in C order, starting from `offset`.
#[derive(Clone, Debug)]
pub struct OffsetIter {
    shape: Vec<usize>,
    strides: Vec<isize>,
    index: Vec<usize>,
    pos: isize,
    remaining: usize,
}

impl OffsetIter {
    pub fn new(shape: &[usize], strides: &[isize], offset: isize) -> Self {
        let remaining = shape.iter().product();
        OffsetIter {
            shape: shape.to_vec(),
            strides: strides.to_vec(),
            index: vec![0; shape.len()],
            pos: offset,
            remaining,
        }
    }
}

impl Iterator for OffsetIter {
    type Item = isize;
    #[inline]
    fn next(&mut self) -> Option<isize> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let cur = self.pos;
        if self.remaining > 0 {
            for ax in (0..self.index.len()).rev() {
                self.index[ax] += 1;
                self.pos += self.strides[ax];
                if self.index[ax] < self.shape[ax] {
                    break;
                }
                self.pos -= self.strides[ax] * self.shape[ax] as isize;
                self.index[ax] = 0;
            }
        }
        Some(cur)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for OffsetIter {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_in_c_order() {
        let v: Vec<isize> = OffsetIter::new(&[2, 3], &[1, 2], 0).collect();
        assert_eq!(v, vec![0, 2, 4, 1, 3, 5]);
        assert_eq!(OffsetIter::new(&[], &[], 7).collect::<Vec<_>>(), vec![7]);
        assert_eq!(OffsetIter::new(&[2, 0], &[1, 2], 0).count(), 0);
        assert_eq!(IndexIter::new(&[2, 2]).count(), 4);
        assert_eq!(
            IndexIter::new(&[]).collect::<Vec<_>>(),
            vec![Vec::<usize>::new()]
        );
    }
}
