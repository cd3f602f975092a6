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
    fn is_inf(self) -> bool;
    /// -1, 0 or 1 (NaN stays NaN; zero of either sign gives +0).
    fn sign(self) -> Self;
    fn trunc(self) -> Self;
    /// `1 / x`; integers divide with truncation and give 0 for 0 (NumPy's result there
    /// depends on the platform's division: `int32` gives its minimum on x86, `int8` gives 0).
    fn reciprocal(self) -> Self;
    /// Python's `//`: the quotient rounded towards minus infinity; integers give 0 for a zero
    /// divisor and `MIN // -1` wraps to MIN, as in NumPy.
    fn floor_divide(self, o: Self) -> Self;
    /// Python's `%`: the remainder has the divisor's sign; integers give 0 for a zero divisor.
    fn remainder(self, o: Self) -> Self;
}

/// Integer-only operations.
pub trait IntScalar: Scalar {
    fn bitand(self, o: Self) -> Self;
    fn bitor(self, o: Self) -> Self;
    fn bitxor(self, o: Self) -> Self;
    fn invert(self) -> Self;
    /// Rounds to a multiple of `10^k` (k ≥ 1), half to even, computed exactly and wrapped
    /// into the type (NumPy goes through float64, which agrees below 2^53).
    fn round_to_pow10(self, k: u32) -> Self;
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
    /// Round half to even (`np.rint`).
    fn rint(self) -> Self;
    fn log1p(self) -> Self;
    fn expm1(self) -> Self;
    fn log2(self) -> Self;
    fn log10(self) -> Self;
    fn tan(self) -> Self;
    fn asin(self) -> Self;
    fn acos(self) -> Self;
    fn atan(self) -> Self;
    fn sinh(self) -> Self;
    fn cosh(self) -> Self;
    fn atan2(self, o: Self) -> Self;
    fn hypot(self, o: Self) -> Self;
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
            #[inline(always)] fn is_inf(self) -> bool { false }
            #[allow(unused_comparisons)]
            #[inline(always)]
            fn sign(self) -> Self {
                if self > 0 { 1 } else if self < 0 { (0 as $t).wrapping_sub(1) } else { 0 }
            }
            #[inline(always)] fn trunc(self) -> Self { self }
            #[inline(always)]
            fn reciprocal(self) -> Self {
                if self == 0 { 0 } else { (1 as $t).wrapping_div(self) }
            }
            #[allow(unused_comparisons)]
            #[inline]
            fn floor_divide(self, o: Self) -> Self {
                if o == 0 {
                    return 0;
                }
                let (q, r) = (self.wrapping_div(o), self.wrapping_rem(o));
                if r != 0 && ((r < 0) != (o < 0)) { q.wrapping_sub(1) } else { q }
            }
            #[allow(unused_comparisons)]
            #[inline]
            fn remainder(self, o: Self) -> Self {
                if o == 0 {
                    return 0;
                }
                let r = self.wrapping_rem(o);
                if r != 0 && ((r < 0) != (o < 0)) { r.wrapping_add(o) } else { r }
            }
        }
        impl IntScalar for $t {
            #[inline(always)] fn bitand(self, o: Self) -> Self { self & o }
            #[inline(always)] fn bitor(self, o: Self) -> Self { self | o }
            #[inline(always)] fn bitxor(self, o: Self) -> Self { self ^ o }
            #[inline(always)] fn invert(self) -> Self { !self }
            fn round_to_pow10(self, k: u32) -> Self {
                // |x| < 2^64 < 10^38 / 2: beyond 38 digits everything rounds to 0.
                let Some(f) = 10i128.checked_pow(k) else { return 0 };
                let x = self as i128;
                let (mut q, r) = (x.div_euclid(f), x.rem_euclid(f));
                if 2 * r > f || (2 * r == f && q & 1 == 1) {
                    q += 1;
                }
                (q * f) as $t
            }
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
            #[inline(always)] fn is_inf(self) -> bool { <$t>::is_infinite(self) }
            #[inline(always)]
            fn sign(self) -> Self {
                if self > 0.0 { 1.0 } else if self < 0.0 { -1.0 } else if self == 0.0 { 0.0 } else { self }
            }
            #[inline(always)] fn trunc(self) -> Self { <$t>::trunc(self) }
            #[inline(always)] fn reciprocal(self) -> Self { 1.0 / self }
            #[inline] fn floor_divide(self, o: Self) -> Self {
                if o == 0.0 { self / o } else { float_divmod(self, o).0 }
            }
            #[inline] fn remainder(self, o: Self) -> Self {
                if o == 0.0 { self % o } else { float_divmod(self, o).1 }
            }
        }
        impl FloatScalar for $t {
            #[inline(always)] fn div(self, o: Self) -> Self { self / o }
            #[inline(always)] fn sqrt(self) -> Self { <$t>::sqrt(self) }
            #[inline(always)] fn exp(self) -> Self { float_exp(self) }
            #[inline] fn ln(self) -> Self { <$t>::ln(self) }
            #[inline] fn sin(self) -> Self { <$t>::sin(self) }
            #[inline] fn cos(self) -> Self { <$t>::cos(self) }
            #[inline] fn tanh(self) -> Self { <$t>::tanh(self) }
            #[inline(always)] fn rint(self) -> Self { <$t>::round_ties_even(self) }
            #[inline] fn log1p(self) -> Self { <$t>::ln_1p(self) }
            #[inline] fn expm1(self) -> Self { <$t>::exp_m1(self) }
            #[inline] fn log2(self) -> Self { <$t>::log2(self) }
            #[inline] fn log10(self) -> Self { <$t>::log10(self) }
            #[inline] fn tan(self) -> Self { <$t>::tan(self) }
            #[inline] fn asin(self) -> Self { <$t>::asin(self) }
            #[inline] fn acos(self) -> Self { <$t>::acos(self) }
            #[inline] fn atan(self) -> Self { <$t>::atan(self) }
            #[inline] fn sinh(self) -> Self { <$t>::sinh(self) }
            #[inline] fn cosh(self) -> Self { <$t>::cosh(self) }
            #[inline] fn atan2(self, o: Self) -> Self { <$t>::atan2(self, o) }
            #[inline] fn hypot(self, o: Self) -> Self { <$t>::hypot(self, o) }
        }
    )*};
}
float_scalar!(f32, f64);

/// NumPy's `npy_divmod` for a nonzero divisor: `(a // b, a % b)` with the remainder taking
/// the divisor's sign and the quotient corrected so that `b * q + r` stays close to `a`.
#[inline]
fn float_divmod<T: num_traits::Float>(a: T, b: T) -> (T, T) {
    let zero = T::zero();
    let mut m = a % b;
    let mut div = (a - m) / b;
    if m != zero {
        if (b < zero) != (m < zero) {
            m = m + b;
            div = div - T::one();
        }
    } else {
        m = zero.copysign(b);
    }
    let q = if div != zero {
        let f = div.floor();
        if div - f > T::from(0.5).expect("0.5 is a float") {
            f + T::one()
        } else {
            f
        }
    } else {
        zero.copysign(a / b)
    };
    (q, m)
}

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
        // NumPy 2.4.6: np.floor_divide / np.remainder of int8 [5,-5,5,-5,0,-128] by
        // [3,3,-3,-3,0,-1], and of float64 pairs.
        let (a, b) = ([5i8, -5, 5, -5, 0, -128], [3i8, 3, -3, -3, 0, -1]);
        let fd: Vec<i8> = a.iter().zip(&b).map(|(x, y)| x.floor_divide(*y)).collect();
        let rm: Vec<i8> = a.iter().zip(&b).map(|(x, y)| x.remainder(*y)).collect();
        assert_eq!(fd, [1, -2, -2, 1, 0, -128]);
        assert_eq!(rm, [2, 1, -1, -2, 0, 0]);
        let inf = f64::INFINITY;
        let a = [5., -5., 5., -5., 0., 1., -1., inf, 1., -0.0, -1.];
        let b = [3., 3., -3., -3., 0., 0., 0., 2., inf, 2., inf];
        let fd = [
            1.,
            -2.,
            -2.,
            1.,
            f64::NAN,
            inf,
            -inf,
            f64::NAN,
            0.,
            -0.0,
            -1.,
        ];
        let rm = [
            2.,
            1.,
            -1.,
            -2.,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            1.,
            0.,
            inf,
        ];
        let same = |x: f64, y: f64| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan());
        for i in 0..a.len() {
            let (q, r) = (a[i].floor_divide(b[i]), a[i].remainder(b[i]));
            assert!(same(q, fd[i]), "{} // {} = {q}", a[i], b[i]);
            assert!(same(r, rm[i]), "{} % {} = {r}", a[i], b[i]);
        }
        // np.round(int8 [5, 15, 50, 51, -50, -51], -2) and np.round(uint8 255, -1) (wraps).
        let r: Vec<i8> = [5i8, 15, 50, 51, -50, -51]
            .iter()
            .map(|x| x.round_to_pow10(2))
            .collect();
        assert_eq!(r, [0, 0, 0, 100, 0, -100]);
        assert_eq!(255u8.round_to_pow10(1), 4);
        assert_eq!((-25i64).round_to_pow10(1), -20);
        assert_eq!(i64::MAX.round_to_pow10(40), 0);
        assert_eq!(Scalar::sign(-0.0f64).to_bits(), 0.0f64.to_bits());
        assert_eq!(Scalar::sign(-3i8), -1);
        assert_eq!(Scalar::reciprocal(0i32), 0);
        assert_eq!(Scalar::reciprocal(-2i32), 0);
    }
}
