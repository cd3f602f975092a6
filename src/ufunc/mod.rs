//! Universal functions: elementwise operations with NumPy's broadcasting and type promotion,
//! and reductions. Everything runs on the crate's one elementwise engine (`iter::elementwise`).
//!
//! # Failure modes
//! Methods (`a.add(&b)`) and functions return `Result`: shapes that do not broadcast, dtypes a
//! ufunc does not support (`negative` of bool), integers to negative powers, outputs that the
//! result cannot be cast to under NumPy's `same_kind` rule. The `std::ops` operators
//! (`&a + &b`, `a += &b`) cannot return errors: they **panic** with the same message. Use the
//! methods where input may be bad.

mod accumulate;
mod binary;
pub(crate) mod exp;
mod kernels;
mod map;
mod ops;
mod promote;
mod reduce;
mod row_sum;
mod scalar;
mod select;
pub mod simd;
mod statistics;
mod unary;
mod weak_scalar;

pub use accumulate::{AccumulateOp, accumulate};
pub use binary::{BinaryOp, binary, binary_into, outer};
pub use map::{zip_map, zip_map3};
pub(crate) use promote::out_target;
pub use promote::{can_cast_same_kind, float_result, result_type, sum_result};
pub(crate) use reduce::pairwise_sum;
pub use reduce::{ReduceOp, reduce};
pub use select::where_;
pub use unary::{UnaryOp, round, unary};
pub use weak_scalar::{ScalarValue, binary_scalar, scalar_binary, weak_scalar};

#[cfg(test)]
mod tests {
    //! Small cases through every kernel path (packed, broadcast scalar, transposed tiles,
    //! strided, reduced-inner and kept-inner reductions); small enough to run under Miri.
    use crate::{DType, NdArray, s};

    fn grid(r: usize, c: usize) -> NdArray {
        NdArray::arange(r * c, DType::F64)
            .unwrap()
            .reshape(&[r, c])
            .unwrap()
    }

    #[test]
    fn every_path_small() {
        let a = grid(3, 70); // more than one 32-wide tile along the inner axis
        let b = grid(70, 3).t(); // transposed operand: the tiled path
        let sum = a.add(&b).unwrap().to_vec::<f64>().unwrap();
        for i in 0..3 {
            for j in 0..70 {
                assert_eq!(sum[i * 70 + j], (i * 70 + j) as f64 + (j * 3 + i) as f64);
            }
        }
        let scalar = NdArray::full::<f64>(&[], 2.0).unwrap();
        assert_eq!(a.mul(&scalar).unwrap().to_vec::<f64>().unwrap()[69], 138.0);
        let strided = a.slice(s![.., ..;-3]).unwrap();
        let neg = strided.neg().unwrap().to_vec::<f64>().unwrap();
        assert_eq!(neg[0], -69.0);
        // e, correctly rounded (not std's exp, which Miri perturbs on purpose)
        assert_eq!(
            a.exp().unwrap().to_vec::<f64>().unwrap()[1],
            std::f64::consts::E
        );
        // reductions: inner reduced (axis 1), inner kept (axis 0), all, strided
        assert_eq!(
            a.sum_axis(1).unwrap().to_vec::<f64>().unwrap()[0],
            (0..70).sum::<usize>() as f64
        );
        assert_eq!(
            a.sum_axis(0).unwrap().to_vec::<f64>().unwrap()[5],
            (5 + 75 + 145) as f64
        );
        assert_eq!(
            a.max(None, false).unwrap().to_vec::<f64>().unwrap(),
            vec![209.0]
        );
        assert_eq!(
            strided.min_axis(1).unwrap().to_vec::<f64>().unwrap(),
            vec![0.0, 70.0, 140.0]
        );
        let ints = NdArray::arange(10, DType::I16).unwrap();
        assert_eq!(
            ints.sum(None, true).unwrap().to_vec::<i64>().unwrap(),
            vec![45]
        );
        assert_eq!(
            ints.argmax(None, false).unwrap().to_vec::<i64>().unwrap(),
            vec![9]
        );
        assert_eq!(
            ints.less(&NdArray::full::<i16>(&[1], 3).unwrap())
                .unwrap()
                .to_vec_bool()
                .unwrap()[2..4],
            [true, false]
        );
    }
}
