//! GPUs through CUDA (feature `cuda`, on by default): a [`Device`] (one GPU, its context and
//! stream, and the kernels registered as [`KernelSource`]s, `kernels/cdist.cu` by the distance
//! layer, compiled for it with NVRTC once per process and architecture), and [`DeviceArray`], NumPy's model on the device — one buffer
//! in GPU memory plus shape, byte strides, byte offset and dtype — so that `t()`, slicing and
//! broadcasting stay O(1) there too.
//!
//! cudarc loads `libcuda` and `libnvrtc` when first used, and panics inside if they are
//! missing; every entry point here probes for them first and returns [`Error::Cuda`]
//! ("no CUDA driver found") instead.
//!
//! [`Error::Cuda`]: crate::Error::Cuda

mod array;
mod context;
mod kernels;

pub use array::DeviceArray;
pub use context::{Device, DeviceInfo};
pub use kernels::{KernelSource, compile_source, compile_source_kernel};

pub(crate) use context::cuda_error;
