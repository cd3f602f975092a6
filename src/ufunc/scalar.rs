//! Per-element semantics of the ufuncs, per Rust type, as NumPy defines them: integers wrap on
//! overflow, `maximum`/`minimum` propagate NaN, `fmax`/`fmin` ignore it, integer `floor`/`ceil`
//! are the identity.

use crate::dtype::Element;

/// Arithmetic every numeric element type has.
pub trait Scalar: Element + Copy {
    const ZERO: Self;
    const ONE: Self;
    fn add(self, o: Self) -> Self;
    fn sub(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
    /// Integer power with a non-negative exponent (checked before the loop) or float `powf`.
    fn pow(self, o: Self) -> Self;
    fn maximum(self, o: Self) -> Self;
    fn minimum(self, o: Self) -> Self;
    fn fmax(self, o: Self) -> Self;
    fn fmin(self, o: Self) -> Self;
    fn neg(self) -> Self;
    fn abs(self) -> Self;
    fn floor(self) -> Self;
    fn ceil(self) -> Self;
    fn is_nan(self) -> bool;
    fn is_finite(self) -> bool;
    fn is_negative(self) -> bool;
}

/// Float-only functions.
pub trait FloatScalar: Scalar {
    fn div(self, o: Self) -> Self;
    fn sqrt(self) -> Self;
    /// Vectorisable, within 2 ulp of std's `exp` (see `ufunc::exp`).
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn tanh(self) -> Self;
}

macro_rules! int_scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            #[inline(always)] fn add(self, o: Self) -> Self { self.wrapping_add(o) }
            #[inline(always)] fn sub(self, o: Self) -> Self { self.wrapping_sub(o) }
            #[inline(always)] fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
            #[inline]
            fn pow(self, o: Self) -> Self {
                // Square-and-multiply with wrapping, for exponents of any size.
                let (mut base, mut e, mut acc) = (self, o as u128, 1 as $t);
                while e > 0 {
                    if e & 1 == 1 { acc = acc.wrapping_mul(base); }
                    base = base.wrapping_mul(base);
                    e >>= 1;
                }
                acc
            }
            #[inline(always)] fn maximum(self, o: Self) -> Self { if self >= o { self } else { o } }
            #[inline(always)] fn minimum(self, o: Self) -> Self { if self <= o { self } else { o } }
            #[inline(always)] fn fmax(self, o: Self) -> Self { self.maximum(o) }
            #[inline(always)] fn fmin(self, o: Self) -> Self { self.minimum(o) }
            #[inline(always)] fn neg(self) -> Self { (0 as $t).wrapping_sub(self) }
            #[inline(always)] fn abs(self) -> Self { if self.is_negative() { self.neg() } else { self } }
            #[inline(always)] fn floor(self) -> Self { self }
            #[inline(always)] fn ceil(self) -> Self { self }
            #[inline(always)] fn is_nan(self) -> bool { false }
            #[inline(always)] fn is_finite(self) -> bool { true }
            #[allow(unused_comparisons)]
            #[inline(always)] fn is_negative(self) -> bool { self < 0 }
        }
    )*};
}
int_scalar!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! float_scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)] fn add(self, o: Self) -> Self { self + o }
            #[inline(always)] fn sub(self, o: Self) -> Self { self - o }
            #[inline(always)] fn mul(self, o: Self) -> Self { self * o }
            #[inline] fn pow(self, o: Self) -> Self { self.powf(o) }
            // NaN-propagating, and written as selects so they vectorise.
            #[inline(always)] fn maximum(self, o: Self) -> Self { if self.is_nan() || self >= o { self } else { o } }
            #[inline(always)] fn minimum(self, o: Self) -> Self { if self.is_nan() || self <= o { self } else { o } }
            #[inline(always)] fn fmax(self, o: Self) -> Self { self.max(o) }
            #[inline(always)] fn fmin(self, o: Self) -> Self { self.min(o) }
            #[inline(always)] fn neg(self) -> Self { -self }
            #[inline(always)] fn abs(self) -> Self { <$t>::abs(self) }
            #[inline(always)] fn floor(self) -> Self { <$t>::floor(self) }
            #[inline(always)] fn ceil(self) -> Self { <$t>::ceil(self) }
            #[inline(always)] fn is_nan(self) -> bool { <$t>::is_nan(self) }
            #[inline(always)] fn is_finite(self) -> bool { <$t>::is_finite(self) }
            #[inline(always)] fn is_negative(self) -> bool { self < 0.0 }
        }
        impl FloatScalar for $t {
            #[inline(always)] fn div(self, o: Self) -> Self { self / o }
            #[inline(always)] fn sqrt(self) -> Self { <$t>::sqrt(self) }
            #[inline(always)] fn exp(self) -> Self { float_exp(self) }
            #[inline] fn ln(self) -> Self { <$t>::ln(self) }
            #[inline] fn sin(self) -> Self { <$t>::sin(self) }
            #[inline] fn cos(self) -> Self { <$t>::cos(self) }
            #[inline] fn tanh(self) -> Self { <$t>::tanh(self) }
        }
    )*};
}
float_scalar!(f32, f64);

trait FastExp {
    fn fast_exp(self) -> Self;
}
impl FastExp for f64 {
    #[inline(always)]
    fn fast_exp(self) -> f64 {
        super::exp::exp_f64(self)
    }
}
impl FastExp for f32 {
    #[inline(always)]
    fn fast_exp(self) -> f32 {
        super::exp::exp_f32(self)
    }
}
#[inline(always)]
fn float_exp<T: FastExp>(x: T) -> T {
    x.fast_exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_semantics() {
        assert_eq!(Scalar::add(127i8, 1), -128);
        assert_eq!(Scalar::pow(3i64, 4), 81);
        assert_eq!(Scalar::pow(2u8, 9), 0);
        assert_eq!(Scalar::pow(0i32, 0), 1);
        assert!(Scalar::maximum(f64::NAN, 1.0).is_nan() && Scalar::maximum(1.0, f64::NAN).is_nan());
        assert_eq!(Scalar::fmax(f64::NAN, 1.0), 1.0);
        assert_eq!(Scalar::abs(i8::MIN), i8::MIN);
        assert_eq!(Scalar::neg(1u8), 255);
    }
}
