//! Memory the crate did not allocate (`Buffer::from_foreign`), as the Python package lends a
//! NumPy array: any byte strides over it, no copy, the owner released with the last handle,
//! and writes only where the lender allowed them. Small enough for Miri.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndstride::buffer::Buffer;
use ndstride::distance::{CdistOptions, Metric, cdist_with};
use ndstride::layout::{Dims, Strides};
use ndstride::{CopyStats, DType, Layout, NdArray, s};

/// A `Vec` lent to the crate; counts its release.
struct Lender {
    _data: Vec<f64>,
    released: Arc<AtomicUsize>,
}

impl Drop for Lender {
    fn drop(&mut self) {
        self.released.fetch_add(1, Ordering::SeqCst);
    }
}

/// `rows × cols` values `0, 1, 2, …` lent as a buffer.
fn lent(rows: usize, cols: usize, writable: bool) -> (Buffer, Arc<AtomicUsize>) {
    let released = Arc::new(AtomicUsize::new(0));
    let mut data: Vec<f64> = (0..rows * cols).map(|v| v as f64).collect();
    // `as_mut_ptr`: the pointer is written through when the buffer is writable.
    let (ptr, len) = (data.as_mut_ptr().cast::<u8>(), data.len() * 8);
    let lender = Lender {
        _data: data,
        released: released.clone(),
    };
    // SAFETY: the Vec's heap block does not move with the `Lender`, lives as long as it, and
    // nothing else reads or writes it.
    let buffer = unsafe { Buffer::from_foreign(ptr, len, lender, writable) }.unwrap();
    (buffer, released)
}

fn layout(shape: &[usize], strides: &[isize], offset: usize) -> Layout {
    Layout {
        shape: Dims::from_slice(shape),
        strides: Strides::from_slice(strides),
        offset,
    }
}

#[test]
fn strided_views_of_lent_memory_read_in_place() {
    let (buffer, released) = lent(4, 3, false);
    // A Fortran-order reading of the first 6 values and a reversed, offset column.
    let f = NdArray::from_buffer(buffer.clone(), layout(&[3, 2], &[8, 24], 0), DType::F64).unwrap();
    assert_eq!(f.to_vec::<f64>().unwrap(), vec![0., 3., 1., 4., 2., 5.]);
    let rev =
        NdArray::from_buffer(buffer.clone(), layout(&[4], &[-24], 9 * 8 + 16), DType::F64).unwrap();
    assert_eq!(rev.to_vec::<f64>().unwrap(), vec![11., 8., 5., 2.]);
    // Zero strides (NumPy's broadcast_to) are readable and never writeable.
    let b = NdArray::from_buffer(buffer.clone(), layout(&[5, 3], &[0, 8], 0), DType::F64).unwrap();
    assert!(!b.flags().writeable);
    // Nothing outside the lent bytes is reachable.
    assert!(
        NdArray::from_buffer(buffer.clone(), layout(&[5, 3], &[24, 8], 0), DType::F64).is_err()
    );
    assert!(NdArray::from_buffer(buffer.clone(), layout(&[2], &[-8], 0), DType::F64).is_err());

    let x = NdArray::from_buffer(buffer, layout(&[4, 3], &[24, 8], 0), DType::F64).unwrap();
    assert!(x.is_foreign() && !x.flags().writeable && x.flags().owndata);
    let xt = x.slice(s![..;-1, ..;2]).unwrap();
    let (d, stats) =
        CopyStats::scope(|| cdist_with(&xt, &f, &Metric::Cityblock, &CdistOptions::new()));
    assert_eq!(
        stats.bytes_copied, 0,
        "float64 strided inputs are read where they lie"
    );
    let d = d.unwrap().to_vec::<f64>().unwrap();
    // Row 0 of xt is (9, 11); row 0 of f is (0, 3).
    assert_eq!(d[0], 9.0 + 8.0);
    let mut x = x;
    assert!(x.view_mut::<f64>().is_err(), "lent read-only");
    drop((f, rev, b, x, xt));
    assert_eq!(released.load(Ordering::SeqCst), 1);
}

#[test]
fn writable_lent_memory_is_written_through_the_sole_handle() {
    let (buffer, released) = lent(2, 2, true);
    let mut a = NdArray::from_buffer(buffer, layout(&[2, 2], &[16, 8], 0), DType::F64).unwrap();
    assert!(a.flags().writeable);
    a.slice_mut::<f64>(s![.., 1]).unwrap().fill(-1.0);
    assert_eq!(a.to_vec::<f64>().unwrap(), vec![0., -1., 2., -1.]);
    let other = a.clone();
    assert!(a.view_mut::<f64>().is_err(), "shared: no writes");
    drop(other);
    drop(a);
    assert_eq!(released.load(Ordering::SeqCst), 1);
}

#[test]
fn misaligned_lent_memory_is_computed_on_a_copy() {
    // Float64 values one byte into the lent block, as `np.frombuffer(buf, offset=1)` gives.
    let (buffer, _released) = lent(3, 3, false);
    let x = NdArray::from_buffer(buffer, layout(&[2, 2], &[24, 8], 1), DType::F64).unwrap();
    assert!(!x.flags().aligned);
    let (d, stats) =
        CopyStats::scope(|| cdist_with(&x, &x, &Metric::SqEuclidean, &CdistOptions::new()));
    let d = d.unwrap().to_vec::<f64>().unwrap();
    assert!(stats.bytes_copied > 0, "the realigning copy is counted");
    assert_eq!(d[0], 0.0);
    assert_eq!(d[1], d[2]);
}

#[test]
fn from_vec_adopts_the_vec_and_computes_at_any_alignment() {
    // Element zero at every offset modulo 64 bytes (no kernel may assume 64-byte alignment of
    // memory it did not allocate): results equal those on the crate's own aligned copies.
    for shift in 0..8usize {
        let (rows, d) = (9, 11);
        let vals: Vec<f64> = (0..shift + rows * d)
            .map(|i| ((i * 37) % 23) as f64 - 11.0)
            .collect();
        let ptr = vals.as_ptr();
        let (v, stats) =
            ndstride::CopyStats::scope(|| NdArray::from_vec(vals, &[shift + rows * d]).unwrap());
        assert!(stats.is_metadata_only() && v.as_ptr() == ptr.cast());
        let x = v
            .slice(ndstride::s![shift..])
            .unwrap()
            .reshape(&[rows, d])
            .unwrap();
        let c = x.copy().unwrap();
        let eq =
            |p: NdArray, q: NdArray| assert_eq!(p.to_vec_f64().unwrap(), q.to_vec_f64().unwrap());
        eq(x.matmul(&x.t()).unwrap(), c.matmul(&c.t()).unwrap());
        eq(x.add(&x).unwrap(), c.add(&c).unwrap());
        eq(x.sum_axis(1).unwrap(), c.sum_axis(1).unwrap());
        for metric in ["euclidean", "cityblock", "cosine", "chebyshev"] {
            let m: ndstride::distance::Metric = metric.parse().unwrap();
            eq(
                ndstride::distance::cdist(&x, &x, m.clone()).unwrap(),
                ndstride::distance::cdist(&c, &c, m).unwrap(),
            );
        }
    }
}
