//! NumPy's array manipulation routines on [`NdArray`]: joining and splitting
//! ([`concatenate`], [`stack`], `split`), gathering (`take`, `take_along_axis`, `compress`,
//! `nonzero`) and comparing ([`allclose`], [`array_equal`]). Copies go through the crate's one
//! strided copy (`iter::copy_strided`); splits are views.

mod compare;
mod gather;
mod join;
mod split;

pub use compare::{allclose, array_equal, isclose};
pub use join::{concatenate, stack};

use crate::array::NdArray;
use crate::error::Result;
use crate::layout::{Layout, normalize_axis};

/// The view of `a` holding `len` positions of `axis` from `start` (in bounds: callers check).
pub(crate) fn along(a: &NdArray, axis: usize, start: usize, len: usize) -> Result<NdArray> {
    a.derive(along_layout(a.layout(), axis, start, len)?, a.dtype())
}

/// The layout of [`along`]'s view.
pub(crate) fn along_layout(
    layout: &Layout,
    axis: usize,
    start: usize,
    len: usize,
) -> Result<Layout> {
    let mut layout = layout.clone();
    layout.shape[axis] = len;
    // An empty view reaches no bytes: its offset stays where the array's is.
    if start > 0 && layout.size() > 0 {
        layout.offset =
            crate::layout::shift_offset(layout.offset, start as isize * layout.strides[axis])?;
    }
    Ok(layout)
}

/// `axis` counted from the end when negative, for an array of `ndim` axes.
pub(crate) fn axis_of(axis: isize, ndim: usize) -> Result<usize> {
    normalize_axis(axis, ndim)
}

#[cfg(test)]
mod tests {
    //! Small cases through every copy and gather path, small enough for Miri (the property
    //! tests are in tests/manip_proptest.rs).
    use crate::{DType, NdArray, s};

    #[test]
    fn every_path_small() {
        let a = NdArray::arange(12, DType::F64)
            .unwrap()
            .reshape(&[3, 4])
            .unwrap();
        let r = a.slice(s![.., ..;-1]).unwrap();
        let c = super::concatenate(&[&a, &r.astype(DType::I32).unwrap()], 1).unwrap();
        assert_eq!(
            c.to_vec::<f64>().unwrap()[..8],
            [0., 1., 2., 3., 3., 2., 1., 0.]
        );
        let st = super::stack(&[&a, &a], 2).unwrap();
        assert_eq!(st.shape(), &[3, 4, 2]);
        let idx = NdArray::from_vec(vec![-1i64, 0], &[2]).unwrap();
        assert_eq!(
            a.take(&idx, 0).unwrap().to_vec::<f64>().unwrap()[..4],
            [8., 9., 10., 11.]
        );
        assert_eq!(
            a.take(&idx, 1).unwrap().to_vec::<f64>().unwrap()[..2],
            [3., 0.]
        );
        let i16s = idx.astype(DType::I16).unwrap();
        assert_eq!(
            r.take(&i16s, 1).unwrap().to_vec::<f64>().unwrap()[..2],
            [0., 3.]
        );
        let along = NdArray::from_vec(vec![3i64, 0, 1], &[3, 1]).unwrap();
        assert_eq!(
            a.take_along_axis(&along, 1)
                .unwrap()
                .to_vec::<f64>()
                .unwrap(),
            [3., 4., 9.]
        );
        let m = a.greater(&NdArray::scalar(8.5f64)).unwrap();
        assert_eq!(
            a.extract(&m).unwrap().to_vec::<f64>().unwrap(),
            [9., 10., 11.]
        );
        let w = crate::where_(&m, &a, &r).unwrap();
        assert_eq!(w.to_vec::<f64>().unwrap()[8..], [11., 9., 10., 11.]);
        let parts = a.array_split(3, 1).unwrap();
        assert_eq!(parts[2].to_vec::<f64>().unwrap(), [3., 7., 11.]);
        let sorted = r.sort(-1).unwrap();
        assert_eq!(sorted.to_vec::<f64>().unwrap()[..4], [0., 1., 2., 3.]);
        assert_eq!(
            r.argsort(0).unwrap().to_vec::<i64>().unwrap()[..4],
            [0, 0, 0, 0]
        );
        assert_eq!(r.argpartition(1, 1).unwrap().to_vec::<i64>().unwrap()[1], 2);
    }
}
