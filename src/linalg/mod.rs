//! Linear algebra: `matmul` on a GEMM written from scratch the way BLIS builds one — operands
//! packed from any strides into cache-sized panels, a register-blocked FMA micro-kernel per
//! instruction set chosen at run time (AVX-512, AVX2, portable `wide`), and rayon over the
//! row blocks.
//!
//! Files, lowest first: `direct` (small products without packing), `kernels` (micro-kernels
//! and their block sizes), `pack` (strided block → panel), `scratch` (aligned per-thread
//! buffers), `gemm` (the blocked driver), `int_kernel` (integers and bool), `matmul_shape`
//! (NumPy's shape rules), `matmul` (the `NdArray` entry points).

mod direct;
mod gemm;
mod int_kernel;
mod kernels;
mod matmul;
mod matmul_shape;
pub(crate) mod pack;
pub(crate) mod scratch;

pub use matmul::{matmul, matmul_into};

pub(crate) use gemm::{MatMut, gemm};
pub(crate) use kernels::GemmFloat;

/// The instruction set the f64 and f32 GEMM kernels use on this CPU, and their register
/// tile `(mr, nr)`: for benchmark labels and for checking the dispatch.
pub fn gemm_kernel_info() -> [(&'static str, &'static str, usize, usize); 2] {
    use kernels::GemmFloat;
    let d = f64::gemm_kernel();
    let s = f32::gemm_kernel();
    [("f64", d.isa, d.mr, d.nr), ("f32", s.isa, s.mr, s.nr)]
}

#[cfg(test)]
mod tests {
    //! Small products through every packing and tile path (full tiles, narrow and cut edge
    //! tiles, transposed and negative-stride operands, strided and column-major outputs);
    //! small enough for Miri, which checks the unsafe packing and kernel code.
    use crate::{DType, NdArray, Order, s};

    fn naive(a: &NdArray, b: &NdArray) -> Vec<f64> {
        let (m, k, n) = (a.shape()[0], a.shape()[1], b.shape()[1]);
        let (x, y) = (a.to_vec_f64().unwrap(), b.to_vec_f64().unwrap());
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| x[i * k + p] * y[p * n + j]).sum();
            }
        }
        c
    }

    #[test]
    fn every_tile_path_small() {
        // 9 × 11 · 11 × 26: one full 8-row panel and a cut one; 26 columns = a full AVX-512
        // f64 panel (24) and a narrow one, or cut AVX2/portable panels.
        for d in [DType::F64, DType::F32] {
            let a = NdArray::arange(99, d).unwrap().reshape(&[9, 11]).unwrap();
            let b = NdArray::arange(286, d).unwrap().reshape(&[11, 26]).unwrap();
            let want = naive(&a, &b);
            let layouts = [
                (a.clone(), b.clone()),
                (
                    a.t().to_contiguous(Order::C).t(),
                    b.t().to_contiguous(Order::C).t(),
                ),
                (
                    a.flip(0).unwrap().copy().unwrap().flip(0).unwrap(),
                    b.flip(1).unwrap().copy().unwrap().flip(1).unwrap(),
                ),
            ];
            for (a, b) in layouts {
                let got = a.matmul(&b).unwrap().to_vec_f64().unwrap();
                assert_eq!(got, want, "{d}");
                let mut f = NdArray::zeros_order(&[9, 26], d, Order::F).unwrap();
                let mut wide = NdArray::zeros(&[9, 52], d).unwrap();
                if d == DType::F64 {
                    super::matmul_into(&a, &b, &mut f.view_mut::<f64>().unwrap()).unwrap();
                    let mut v = wide.slice_mut::<f64>(s![.., ..;2]).unwrap();
                    super::matmul_into(&a, &b, &mut v).unwrap();
                } else {
                    super::matmul_into(&a, &b, &mut f.view_mut::<f32>().unwrap()).unwrap();
                    let mut v = wide.slice_mut::<f32>(s![.., ..;2]).unwrap();
                    super::matmul_into(&a, &b, &mut v).unwrap();
                }
                assert_eq!(f.to_vec_f64().unwrap(), want);
                let w = wide.slice(s![.., ..;2]).unwrap().to_vec_f64().unwrap();
                assert_eq!(w, want);
            }
        }
        let i = NdArray::arange(12, DType::I16)
            .unwrap()
            .reshape(&[3, 4])
            .unwrap();
        let got = i.matmul(&i.t()).unwrap();
        assert_eq!(
            got.to_vec::<i16>().unwrap(),
            vec![14, 38, 62, 38, 126, 214, 62, 214, 366]
        );
    }
}
