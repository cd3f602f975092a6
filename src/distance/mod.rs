//! Pairwise distance matrices, `scipy.spatial.distance`'s `cdist`, `pdist` and `squareform`,
//! with every SciPy metric and three strategies side by side
//! ([`Strategy::Simd`], [`Strategy::MatmulTrick`], [`Strategy::Broadcast`]).
//!
//! Inputs may have any dtype (integers and bool become float64, and boolean metrics see
//! nonzero as true, as in SciPy) and any strides: float inputs are read in place, the kernels
//! pack what they need. Metrics on the register-blocked kernels (and the other two strategies)
//! compute float32 inputs in float32 unless [`CdistOptions::accumulate_f64`] is set; the
//! pair-loop metrics (canberra, jensenshannon, hamming on numbers) and minkowski with p other
//! than 1, 2 and ∞ (a power-sum kernel for integer p from 3 to 8, a pair loop otherwise) copy
//! their inputs to float64 rows and compute in float64. The output is float64 unless
//! [`CdistOptions::out_dtype`] says float32.
//!
//! How a call flows:
//!
//! ```text
//! entry (cdist, pdist, …)   checks shapes and options
//!   → plan                   the metric as prepared rows, an inner operation, a last step
//!                            (SciPy's data-derived defaults filled in first)
//!   → Job                    inputs, dims, plan, options, and the route (a CPU strategy
//!                            or the GPU), chosen once
//!     → back end             DistanceBackend::run: cpu (register-blocked), strategies
//!                            (matmul trick, broadcast) or cuda, each mapping the plan
//!       → OutputRows         disjoint row blocks of the matrix or condensed vector
//! chunked, neighbors         run sub-jobs block by block; never call the entry again
//! ```
//!
//! Files: `metric`, `options`, `spec` (what is asked), `input` (shape rules, in-place
//! operands), `stats` (SciPy's data-derived defaults), `plan`, `job` and `backend` (the seam
//! above), `output` (where results go), `entry` (the public functions), `chunked` (the matrix
//! block by block under a memory budget, to a callback or a `.npy` file), `squareform`; folders
//! `cpu/` (the register-blocked kernels and pair loops), `strategies/`, `neighbors/` (kNN,
//! radius, argmin, the top-k list) and `cuda/`.

mod backend;
mod chunked;
mod cpu;
#[cfg(feature = "cuda")]
mod cuda;
mod entry;
mod input;
mod job;
mod metric;
mod neighbors;
mod options;
mod output;
mod plan;
mod spec;
mod squareform;
mod stats;
mod strategies;

pub use chunked::{cdist_chunked, cdist_to_npy};
#[cfg(feature = "cuda")]
pub use cuda::{cdist_device, compile_kernel, compile_kernels};
pub use entry::{DistanceOutput, cdist, cdist_into, cdist_with, pdist, pdist_with};
pub use metric::{METRIC_NAMES, Metric};
pub use neighbors::knn::{Neighbors, argmin_min, knn, knn_with};
pub use neighbors::radius::{RadiusNeighbors, radius_count, radius_neighbors};
pub use options::{Backend, CdistOptions, Strategy};
pub use spec::MetricSpec;
pub use squareform::squareform;

/// The instruction set and register tile `(mr, nr)` of the f64 and f32 distance kernels on
/// this CPU, for benchmark labels.
pub fn kernel_info() -> [(&'static str, &'static str, usize, usize); 2] {
    use cpu::kernels::{DistFloat, KernelOp};
    let d = f64::dist_kernel(KernelOp::Cityblock);
    let s = f32::dist_kernel(KernelOp::Cityblock);
    [("f64", d.isa, d.mr, d.nr), ("f32", s.isa, s.mr, s.nr)]
}

#[cfg(test)]
mod tests {
    //! Small matrices through every path (register-blocked kernels with full and cut tiles,
    //! strided and transposed operands, strided outputs, condensed pdist, the pair loops, the
    //! bit counts); small enough for Miri, which checks the packing, kernels and sinks.
    use super::*;
    use crate::{DType, NdArray, Order, s};

    fn naive(x: &[f64], y: &[f64], d: usize, f: fn(f64, f64) -> f64, max: bool) -> Vec<f64> {
        let mut out = vec![];
        for a in x.chunks_exact(d) {
            for b in y.chunks_exact(d) {
                let t = a.iter().zip(b).map(|(&p, &q)| f(p, q));
                out.push(if max { t.fold(0.0, f64::max) } else { t.sum() });
            }
        }
        out
    }

    #[test]
    fn every_path_small() {
        // 9 × 5 against 26 × 5: one full and one cut 8-row tile, 24 + 2 columns.
        let x = NdArray::arange(45, DType::F64)
            .unwrap()
            .reshape(&[9, 5])
            .unwrap();
        let y = NdArray::arange(130, DType::F64)
            .unwrap()
            .reshape(&[26, 5])
            .unwrap()
            .mul(&NdArray::full_f64(&[], -0.5, DType::F64).unwrap())
            .unwrap();
        let (xv, yv) = (x.to_vec_f64().unwrap(), y.to_vec_f64().unwrap());
        type Term = fn(f64, f64) -> f64;
        let cases: [(Metric, Term, bool); 3] = [
            (Metric::SqEuclidean, |p, q| (p - q) * (p - q), false),
            (Metric::Cityblock, |p, q| (p - q).abs(), false),
            (Metric::Chebyshev, |p, q| (p - q).abs(), true),
        ];
        for (metric, f, max) in cases {
            let want = naive(&xv, &yv, 5, f, max);
            for dtype in [DType::F64, DType::F32] {
                let (xa, xb) = (x.astype(dtype).unwrap(), y.astype(dtype).unwrap());
                // F-order and negative-stride operands are read in place.
                let xf = xa.to_contiguous(Order::F);
                let xr = xb.flip(0).unwrap().copy().unwrap().flip(0).unwrap();
                let got = cdist_with(&xf, &xr, &metric, &CdistOptions::new()).unwrap();
                assert_eq!(got.to_vec_f64().unwrap(), want, "{metric} {dtype}");
            }
            // Into every other column of a wider float32 output.
            let mut wide = NdArray::zeros(&[9, 52], DType::F32).unwrap();
            let mut v = wide.slice_mut::<f32>(s![.., ..;2]).unwrap();
            cdist_into(&x, &y, &metric, &CdistOptions::new(), &mut v).unwrap();
            let got = wide.slice(s![.., ..;2]).unwrap().to_vec_f64().unwrap();
            let rounded: Vec<f64> = want.iter().map(|&w| w as f32 as f64).collect();
            assert_eq!(got, rounded, "{metric} into f32");
        }
        // pdist: each pair once, in SciPy's order, for a kernel, a pair loop and bit counts.
        let z = NdArray::from_vec(vec![0.0, 1.0, 3.0, 3.0, 2.0, 0.0], &[3, 2]).unwrap();
        let cond = |m: Metric| pdist(&z, m).unwrap().to_vec_f64().unwrap();
        assert_eq!(cond(Metric::Cityblock), vec![5.0, 3.0, 4.0]);
        assert_eq!(cond(Metric::Canberra), vec![1.5, 2.0, 0.2 + 1.0]);
        assert_eq!(cond(Metric::Hamming), vec![1.0, 1.0, 1.0]);
        assert_eq!(cond(Metric::Jaccard), vec![0.5, 1.0, 0.5]);
        assert_eq!(cond(Metric::Cosine)[1], 1.0); // (0,1)·(2,0) = 0
        // No features and reversed rows: the empty operand's pointer is never offset (found
        // by the cdist fuzz target as a pointer-overflow precondition failure).
        let empty = NdArray::zeros(&[5, 0], DType::F64)
            .unwrap()
            .flip(0)
            .unwrap();
        assert_eq!(
            pdist(&empty, Metric::SqEuclidean)
                .unwrap()
                .to_vec_f64()
                .unwrap(),
            vec![0.0; 10]
        );
    }
}
