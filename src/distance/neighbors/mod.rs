//! Reductions of the distance matrix that never hold it whole: `blocks` (the driver: blocks
//! of a job folded into per-row state), `knn` (k nearest neighbours, argmin), `matmul_knn`
//! (the fused search under the matmul strategy, faiss's method), `radius` (radius
//! neighbours), and `top_k` (the k best of a row, shared by the searches).

pub(super) mod blocks;
pub(super) mod knn;
pub(super) mod matmul_knn;
pub(super) mod radius;
pub(super) mod top_k;
