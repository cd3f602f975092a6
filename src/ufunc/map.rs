//! Mapping Rust closures over arrays on the elementwise engine: `mapv`/`map` over one array,
//! `zip_map`/`zip_map3` over several broadcast together. Outputs are new C-contiguous arrays;
//! the engine walks the inputs in memory order and splits large work across threads, which is
//! why the closures must be `Sync` and must not rely on visiting order.

use super::kernels::{Map1, Map2, Map3};
use crate::array::NdArray;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::iter::elementwise;
use crate::layout::{broadcast_dims, same_shape};

/// `a` as an operand of element type `T`: an error naming both types when they differ
/// (`u8` reads bool arrays).
fn check_operand<T: Element>(what: &str, a: &NdArray) -> Result<()> {
    let ok = a.dtype() == T::DTYPE || (a.dtype() == DType::Bool && T::DTYPE == DType::U8);
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{what}: the closure takes {} but the array is {}",
            T::DTYPE,
            a.dtype()
        )))
    }
}

/// `a` broadcast to `shape` (itself when it already has it).
fn expanded(a: &NdArray, shape: &[usize]) -> Result<NdArray> {
    if same_shape(a.shape(), shape) {
        Ok(a.clone())
    } else {
        a.broadcast_to(shape)
    }
}

impl NdArray {
    /// A new array of `f(x)` for every element `x` (ndarray's `mapv`), in this array's shape.
    /// `T` is this array's element type (`u8` for bool), `U` any element type.
    ///
    /// ```
    /// use ndstride::{DType, NdArray};
    /// let a = NdArray::arange(4, DType::F64)?;
    /// let b = a.mapv(|x: f64| (x * 10.0) as i32)?;
    /// assert_eq!(b.to_vec::<i32>()?, [0, 10, 20, 30]);
    /// # Ok::<(), ndstride::Error>(())
    /// ```
    pub fn mapv<T: Element, U: Element>(&self, f: impl Fn(T) -> U + Sync) -> Result<NdArray> {
        check_operand::<T>("mapv", self)?;
        let mut out = NdArray::for_overwrite(self.shape(), U::DTYPE)?;
        if self.is_empty() {
            return Ok(out);
        }
        let ptr = out.data_mut_ptr()?;
        let strides = out.strides();
        let ins = [(self.data_ptr(), self.strides())];
        let bytes = size_of::<T>() + size_of::<U>();
        // SAFETY: `out` is fresh, solely owned and packed in this array's shape, every element
        // written by the engine; this array is in bounds of its buffer, distinct from `out`'s.
        unsafe { elementwise::run(self.shape(), ptr, strides, ins, bytes, &Map1::new(f)) };
        Ok(out)
    }

    /// [`mapv`](Self::mapv) with the closure taking a reference, as ndarray's `map` does.
    pub fn map<T: Element, U: Element>(&self, f: impl Fn(&T) -> U + Sync) -> Result<NdArray> {
        self.mapv(move |x: T| f(&x))
    }
}

/// `f(x, y)` over `a` and `b` broadcast together (ndarray's `Zip::from(a).and(b).map_collect`).
///
/// ```
/// use ndstride::{DType, NdArray};
/// let a = NdArray::arange(3, DType::F64)?.reshape(&[3, 1])?;
/// let b = NdArray::arange(2, DType::I64)?;
/// let c = ndstride::zip_map(&a, &b, |x: f64, y: i64| x * 10.0 + y as f64)?;
/// assert_eq!(c.shape(), &[3, 2]);
/// assert_eq!(c.to_vec::<f64>()?, [0., 1., 10., 11., 20., 21.]);
/// # Ok::<(), ndstride::Error>(())
/// ```
pub fn zip_map<A: Element, B: Element, O: Element>(
    a: &NdArray,
    b: &NdArray,
    f: impl Fn(A, B) -> O + Sync,
) -> Result<NdArray> {
    check_operand::<A>("zip_map (first operand)", a)?;
    check_operand::<B>("zip_map (second operand)", b)?;
    let shape = broadcast_dims(&[a.shape(), b.shape()])?;
    let (a, b) = (expanded(a, &shape)?, expanded(b, &shape)?);
    let mut out = NdArray::for_overwrite(&shape, O::DTYPE)?;
    if out.is_empty() {
        return Ok(out);
    }
    let ptr = out.data_mut_ptr()?;
    let strides = out.strides();
    let ins = [(a.data_ptr(), a.strides()), (b.data_ptr(), b.strides())];
    let bytes = size_of::<A>() + size_of::<B>() + size_of::<O>();
    // SAFETY: as in `mapv`, with both inputs broadcast to the output's shape.
    unsafe { elementwise::run(&shape, ptr, strides, ins, bytes, &Map2::new(f)) };
    Ok(out)
}

/// `f(x, y, z)` over three arrays broadcast together.
pub fn zip_map3<A: Element, B: Element, C: Element, O: Element>(
    a: &NdArray,
    b: &NdArray,
    c: &NdArray,
    f: impl Fn(A, B, C) -> O + Sync,
) -> Result<NdArray> {
    check_operand::<A>("zip_map3 (first operand)", a)?;
    check_operand::<B>("zip_map3 (second operand)", b)?;
    check_operand::<C>("zip_map3 (third operand)", c)?;
    let shape = broadcast_dims(&[a.shape(), b.shape(), c.shape()])?;
    let (a, b, c) = (
        expanded(a, &shape)?,
        expanded(b, &shape)?,
        expanded(c, &shape)?,
    );
    let mut out = NdArray::for_overwrite(&shape, O::DTYPE)?;
    if out.is_empty() {
        return Ok(out);
    }
    let ptr = out.data_mut_ptr()?;
    let strides = out.strides();
    let ins = [
        (a.data_ptr(), a.strides()),
        (b.data_ptr(), b.strides()),
        (c.data_ptr(), c.strides()),
    ];
    let bytes = size_of::<A>() + size_of::<B>() + size_of::<C>() + size_of::<O>();
    // SAFETY: as in `zip_map`.
    unsafe { elementwise::run(&shape, ptr, strides, ins, bytes, &Map3::new(f)) };
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! Small cases through the map and zip kernels (contiguous, strided, broadcast), small
    //! enough for Miri.
    use crate::{DType, NdArray, s};

    #[test]
    fn maps_and_zips_small() {
        let a = NdArray::arange(12, DType::F64)
            .unwrap()
            .reshape(&[3, 4])
            .unwrap();
        let r = a.slice(s![.., ..;-2]).unwrap();
        assert_eq!(
            r.mapv(|x: f64| x as i16).unwrap().to_vec::<i16>().unwrap(),
            [3, 1, 7, 5, 11, 9]
        );
        let col = NdArray::arange(3, DType::I32)
            .unwrap()
            .reshape(&[3, 1])
            .unwrap();
        let z = super::zip_map(&r, &col, |x: f64, k: i32| x + 100.0 * k as f64).unwrap();
        assert_eq!(z.to_vec::<f64>().unwrap(), [3., 1., 107., 105., 211., 209.]);
        let t = a.t();
        let z3 = super::zip_map3(&t, &t, &NdArray::scalar(1u8), |x: f64, y: f64, o: u8| {
            x * y + o as f64
        })
        .unwrap();
        assert_eq!(z3.shape(), &[4, 3]);
        assert_eq!(z3.to_vec::<f64>().unwrap()[..3], [1., 17., 65.]);
        let floor = a.floor_divide(&NdArray::scalar(-5.0f64)).unwrap();
        assert_eq!(floor.to_vec::<f64>().unwrap()[..3], [0., -1., -1.]);
    }
}
