//! Seeded random arrays for demos, tests and benchmarks.

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal, Uniform};

use super::NdArray;
use crate::dtype::DType;
use crate::error::{Error, Result};

impl NdArray {
    /// Uniform values in `[low, high)`, float32 or float64, reproducible from `seed`.
    pub fn uniform(
        shape: &[usize],
        low: f64,
        high: f64,
        seed: u64,
        dtype: DType,
    ) -> Result<NdArray> {
        let dist = Uniform::new(low, high)
            .map_err(|e| Error::invalid(format!("uniform: bad range [{low}, {high}): {e}")))?;
        let mut rng = StdRng::seed_from_u64(seed);
        Self::random_float(shape, dtype, || dist.sample(&mut rng))
    }

    /// Normal values with the given mean and standard deviation, reproducible from `seed`.
    pub fn normal(
        shape: &[usize],
        mean: f64,
        std: f64,
        seed: u64,
        dtype: DType,
    ) -> Result<NdArray> {
        if !(std >= 0.0 && std.is_finite() && mean.is_finite()) {
            return Err(Error::invalid(format!(
                "normal: need finite mean and std >= 0, got {mean}, {std}"
            )));
        }
        let mut rng = StdRng::seed_from_u64(seed);
        Self::random_float(shape, dtype, || {
            let z: f64 = StandardNormal.sample(&mut rng);
            mean + std * z
        })
    }

    fn random_float(
        shape: &[usize],
        dtype: DType,
        mut next: impl FnMut() -> f64,
    ) -> Result<NdArray> {
        match dtype {
            DType::F64 => Self::from_fn::<f64>(shape, |_| next()),
            DType::F32 => Self::from_fn::<f32>(shape, |_| next() as f32),
            _ => Err(Error::invalid(format!(
                "random arrays are float32 or float64, not {dtype}"
            ))),
        }
    }
}
