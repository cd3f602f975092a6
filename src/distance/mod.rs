//! Pairwise distance matrices, `scipy.spatial.distance`'s `cdist`, `pdist` and `squareform`,
//! with every SciPy metric and the course's three strategies side by side
//! ([`Strategy::Simd`], [`Strategy::MatmulTrick`], [`Strategy::Broadcast`]).
//!
//! Inputs may have any dtype (integers and bool become float64, and boolean metrics see
//! nonzero as true, as in SciPy) and any strides: float inputs are read in place, the kernels
//! pack what they need. Float32 inputs are computed in float32 unless
//! [`CdistOptions::accumulate_f64`] is set; the output is float64 unless
//! [`CdistOptions::out_dtype`] says float32.
//!
//! Files, lowest first: `metric` and `options` (what is asked), `input` (checks, in-place
//! operands), `sink` (where results go), `kernels` (register-blocked micro-kernels per
//! instruction set), `tiled` (their cache-blocked, threaded driver), `pairwise` (metrics
//! without a kernel), `bits` (boolean metrics by popcount), `stats` (SciPy's data-derived
//! defaults), `matmul_trick` and `broadcast` (the other strategies), `entry` (the public
//! functions), `squareform`.

mod bits;
mod broadcast;
mod entry;
mod input;
mod kernels;
mod matmul_trick;
mod metric;
mod options;
mod pairwise;
mod sink;
mod squareform;
mod stats;
mod tiled;

pub use entry::{DistanceOutput, cdist, cdist_into, cdist_with, pdist, pdist_with};
pub use metric::{METRIC_NAMES, Metric};
pub use options::{CdistOptions, Strategy};
pub use squareform::squareform;

/// The instruction set and register tile `(mr, nr)` of the f64 and f32 distance kernels on
/// this CPU, for benchmark labels.
pub fn kernel_info() -> [(&'static str, &'static str, usize, usize); 2] {
    use kernels::{DistFloat, KernelOp};
    let d = f64::dist_kernel(KernelOp::Cityblock);
    let s = f32::dist_kernel(KernelOp::Cityblock);
    [("f64", d.isa, d.mr, d.nr), ("f32", s.isa, s.mr, s.nr)]
}
