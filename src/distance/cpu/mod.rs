//! The `Simd` strategy's back end on this CPU: `register_blocked` (the choice per metric),
//! `kernels` (register-blocked micro-kernels per instruction set), `tiled` (their
//! cache-blocked, threaded driver), `lanes` (eight-lane sums and logarithm), `pairwise`
//! (metrics without a kernel, and the driver of all pair-at-a-time metrics), `canberra`
//! (reciprocal-based quotients on AVX-512), `jensenshannon` (rows normalised once), `bits`
//! (boolean metrics by popcount).

pub(super) mod bits;
pub(super) mod canberra;
pub(super) mod jensenshannon;
pub(super) mod kernels;
pub(super) mod lanes;
pub(super) mod pairwise;
pub(super) mod register_blocked;
pub(super) mod tiled;
