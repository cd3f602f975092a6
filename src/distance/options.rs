//! How a distance matrix is computed: strategy, precision, output dtype, threads.

use std::fmt;
use std::str::FromStr;

use crate::dtype::DType;
use crate::error::{Error, Result};

/// `name()`, `Display` and `FromStr` for an option's enum: each variant's name, then the
/// other spellings it is parsed from.
macro_rules! named_options {
    ($t:ident, $what:literal, { $($v:ident => $name:literal $(| $alias:literal)*,)* }) => {
        impl $t {
            pub fn name(self) -> &'static str {
                match self {
                    $($t::$v => $name,)*
                }
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $t {
            type Err = Error;
            fn from_str(s: &str) -> Result<$t> {
                match s {
                    $($name $(| $alias)* => Ok($t::$v),)*
                    _ => Err(Error::invalid(format!(
                        concat!("unknown ", $what, " {:?} (known: {})"),
                        s,
                        [$($name),*].join(", ")
                    ))),
                }
            }
        }
    };
}

/// Three ways to compute a distance matrix, each kept runnable to compare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strategy {
    /// Register-blocked, cache-tiled kernels with the metric's own inner operation (exact, no
    /// cancellation); every metric. The default.
    #[default]
    Simd,
    /// `‖x‖² + ‖y‖² − 2·x·yᵀ` through [`crate::linalg::matmul`], clamped at 0 (cosine and
    /// correlation as normalised products). Fast, but it cancels: the distance of a point to
    /// itself, or between close points far from the origin, comes out with an absolute error
    /// of about `ε·(‖x‖² + ‖y‖²)` (ε the precision's epsilon), and is not exactly 0.
    /// sqeuclidean, euclidean, cosine, correlation only.
    MatmulTrick,
    /// NumPy's `(x[:, None, :] − y[None, :, :])` temporary through the ufunc engine, then a
    /// reduction over the feature axis: the teaching baseline. Refuses when the `n × m × d`
    /// temporary would exceed [`CdistOptions::memory_limit`]. sqeuclidean, euclidean,
    /// cityblock, chebyshev, minkowski only.
    Broadcast,
}

named_options!(Strategy, "strategy", {
    Simd => "simd",
    MatmulTrick => "matmul" | "matmul-trick" | "matmul_trick",
    Broadcast => "broadcast",
});

/// Where a distance matrix is computed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// This machine's cores (the default; SciPy's results, bit for bit where SciPy's
    /// definitions allow).
    #[default]
    Cpu,
    /// The first CUDA GPU (feature `cuda`): an `Err` naming CUDA when there is no driver,
    /// no GPU, or no kernel for the metric.
    Cuda,
    /// A GPU when one is present, the metric has a kernel, and the problem is large enough
    /// to pay for the transfers (at least 2^27 pair-features); the CPU otherwise.
    Auto,
}

named_options!(Backend, "backend", {
    Cpu => "cpu",
    Cuda => "cuda" | "gpu",
    Auto => "auto",
});

/// Options for [`cdist_with`](super::cdist_with) and [`pdist_with`](super::pdist_with).
///
/// ```
/// use ndstride::{DType, distance::{CdistOptions, Strategy}};
/// let opts = CdistOptions::new().strategy(Strategy::MatmulTrick).out_dtype(DType::F32).threads(1);
/// assert_eq!(opts.get_strategy(), Strategy::MatmulTrick);
/// ```
#[derive(Clone, Debug)]
pub struct CdistOptions {
    pub(crate) strategy: Strategy,
    pub(crate) out_dtype: DType,
    pub(crate) threads: Option<usize>,
    pub(crate) accumulate_f64: bool,
    pub(crate) memory_limit: usize,
    pub(crate) working_memory: usize,
    pub(crate) backend: Backend,
    pub(crate) device_memory: Option<usize>,
}

impl Default for CdistOptions {
    fn default() -> Self {
        CdistOptions {
            strategy: Strategy::Simd,
            out_dtype: DType::F64,
            threads: None,
            accumulate_f64: false,
            memory_limit: 1 << 30,
            working_memory: 1 << 30,
            backend: Backend::Cpu,
            device_memory: None,
        }
    }
}

/// Builder methods: `name(arg)` sets the field `name` to the value given and returns the
/// options.
macro_rules! setters {
    ($($(#[$m:meta])* $name:ident($arg:ident: $t:ty) => $value:expr;)*) => {
        $($(#[$m])*
        pub fn $name(mut self, $arg: $t) -> Self {
            self.$name = $value;
            self
        })*
    };
}

impl CdistOptions {
    /// SciPy's behaviour: the SIMD kernels, float64 output, all of rayon's threads.
    pub fn new() -> Self {
        Self::default()
    }
    setters! {
        /// Which strategy computes the matrix.
        strategy(s: Strategy) => s;
        /// The output dtype, float64 (default, as SciPy) or float32.
        out_dtype(d: DType) => d;
        /// Threads to use (default: rayon's global pool).
        threads(n: usize) => Some(n);
        /// Compute float32 inputs in float64 (by default they are computed in float32, twice as
        /// fast, with a relative error of about `1e-7·sqrt(d)`).
        accumulate_f64(yes: bool) => yes;
        /// The largest temporary, in bytes, the `Broadcast` strategy may allocate (default 1 GiB).
        memory_limit(bytes: usize) => bytes;
        /// The memory budget, in bytes, of the block-by-block drivers
        /// ([`cdist_chunked`](super::cdist_chunked), [`cdist_to_npy`](super::cdist_to_npy)): the
        /// output blocks in flight and the temporaries their strategy allocates per block stay
        /// within it (default 1 GiB, scikit-learn's `working_memory`). The inputs, and a few MiB
        /// of packing buffers per thread, come on top.
        working_memory(bytes: usize) => bytes;
        /// Where to compute: [`Backend::Cpu`] (default), [`Backend::Cuda`] or [`Backend::Auto`].
        /// The strategy applies to the CPU; the GPU runs its own tiled kernels.
        backend(b: Backend) => b;
        /// The GPU memory budget, in bytes, of one call on the CUDA back end (default: half the
        /// device's free memory). Inputs and output that do not fit in it are streamed through
        /// the device in blocks of rows and columns, on two streams so that copies overlap the
        /// kernels.
        device_memory(bytes: usize) => Some(bytes);
    }
    pub fn get_working_memory(&self) -> usize {
        self.working_memory
    }
    pub fn get_device_memory(&self) -> Option<usize> {
        self.device_memory
    }
    pub fn get_backend(&self) -> Backend {
        self.backend
    }
    pub fn get_strategy(&self) -> Strategy {
        self.strategy
    }
    pub fn get_out_dtype(&self) -> DType {
        self.out_dtype
    }

    /// Runs `f` on a pool of the requested size, or on the current one.
    pub(crate) fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> Result<R> {
        match self.threads {
            None => Ok(f()),
            Some(0) => Err(Error::invalid("threads must be at least 1")),
            Some(n) if n == rayon::current_num_threads() => Ok(f()),
            Some(n) => {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .map_err(|e| Error::invalid(format!("cannot start {n} threads: {e}")))?;
                Ok(pool.install(f))
            }
        }
    }
}
