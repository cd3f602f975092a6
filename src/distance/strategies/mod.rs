//! The two other CPU strategies, kept beside the register-blocked kernels to compare with:
//! `matmul_trick` (`‖x‖² + ‖y‖² − 2·x·yᵀ` through the GEMM) and `broadcast` (NumPy's
//! `n × m × d` temporary through the ufunc engine).

pub(super) mod broadcast;
pub(super) mod matmul_trick;
