//! Eight-lane float64 arithmetic written as plain array loops, so that one body compiles to
//! zmm, ymm or xmm code under each instruction set of [`crate::cpu::dispatched`]: a sum in
//! independent partial sums (a single running sum cannot vectorise: float addition is not
//! reassociated) and a branch-free natural logarithm (`f64::ln` is a libm call per element).

use crate::ufunc::exp::exp_f64;

pub(crate) const LANES: usize = 8;

/// `Σ f(a[k], b[k])` in `LANES` partial sums.
#[inline(always)]
pub(crate) fn lane_sum(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> f64 {
    let (ac, ar) = a.as_chunks::<LANES>();
    let (bc, br) = b.as_chunks::<LANES>();
    let mut acc = [0.0; LANES];
    for (x, y) in ac.iter().zip(bc) {
        for l in 0..LANES {
            acc[l] += f(x[l], y[l]);
        }
    }
    let tail: f64 = ar.iter().zip(br).map(|(&x, &y)| f(x, y)).sum();
    acc.iter().sum::<f64>() + tail
}

// fdlibm's reduction and minimax coefficients (as bit patterns, exactly as published) for log(1 + f) = f − f²/2 + s·(f²/2 + R(s²)),
// s = f / (2 + f), on [√2/2 − 1, √2 − 1]; error below one ulp.
pub(crate) const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
pub(crate) const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
const LG1: f64 = f64::from_bits(0x3fe5_5555_5555_5593);
const LG2: f64 = f64::from_bits(0x3fd9_9999_9997_fa04);
const LG3: f64 = f64::from_bits(0x3fd2_4924_9422_9359);
const LG4: f64 = f64::from_bits(0x3fcc_71c5_1d8e_78af);
const LG5: f64 = f64::from_bits(0x3fc7_4664_96cb_03de);
const LG6: f64 = f64::from_bits(0x3fc3_9a09_d078_c69f);
const LG7: f64 = f64::from_bits(0x3fc2_f112_df3e_5244);
/// Bit pattern of the top half of √2/2: mantissas are moved into [√2/2, √2) so that
/// `f = m − 1` is small on both sides of 1.
const SQRT_HALF_HI: u64 = 0x3fe6_a09e << 32;
/// Added to the bits so that mantissas at or above √2 carry into the exponent.
const CARRY_AT_SQRT2: u64 = (0x3ff0_0000 - 0x3fe6_a09e) << 32;
const MANTISSA: u64 = (1 << 52) - 1;
/// `2^52` as bits: `from_bits(EXP_AS_INT | e) = 2^52 + e` turns an exponent field into a
/// float without an integer-to-float conversion (which AVX2 lacks for 64-bit integers).
const EXP_AS_INT: u64 = 0x4330_0000_0000_0000;
const TWO_52: f64 = 4_503_599_627_370_496.0;
const TWO_54: f64 = 18_014_398_509_481_984.0;

/// The natural logarithm of a positive finite `x` (subnormals included), within one ulp of
/// the exact value; branch-free so that lanes vectorise. Zero, negative and non-finite
/// inputs give an unspecified value: callers select those lanes away.
#[inline(always)]
pub(crate) fn ln_positive(x: f64) -> f64 {
    let tiny = x < f64::MIN_POSITIVE;
    let x = if tiny { x * TWO_54 } else { x };
    let (k, f) = reduce_normal(x);
    let k = k - if tiny { 54.0 } else { 0.0 };
    let (hi, lo) = ln_parts(k, f);
    lo + hi
}

/// `ln x = hi + lo` for a normal positive `x`, with `hi = k·ln2_hi` for the exponent `k`
/// (exact: `ln2_hi` has 32 significant bits) and `lo = k·ln2_lo + ln(1 + f)` for the
/// reduced mantissa `1 + f` in [√2/2, √2), so `|lo| < 0.35` plus `|k|·2e-10`. Two such
/// splits subtract without the cancellation of `ln x − ln y`: `hi_x − hi_y` is exact, and
/// `lo`'s rounding error is below 6e-17 whatever `|ln x|`. `lo + hi` is [`ln_positive`]'s
/// value, bit for bit. Zero gives finite parts (of `ln 2^-1023`); subnormal, negative and
/// non-finite inputs give unspecified ones.
#[inline(always)]
pub(crate) fn ln_split_normal(x: f64) -> (f64, f64) {
    let (k, f) = reduce_normal(x);
    ln_parts(k, f)
}

/// `x = 2^k·(1 + f)` with `1 + f` in [√2/2, √2), for a normal positive `x`.
#[inline(always)]
pub(crate) fn reduce_normal(x: f64) -> (f64, f64) {
    let bits = x.to_bits().wrapping_add(CARRY_AT_SQRT2);
    let exponent = bits >> 52;
    let k = f64::from_bits(EXP_AS_INT | exponent) - (TWO_52 + 1023.0);
    let m = f64::from_bits((bits & MANTISSA) + SQRT_HALF_HI);
    (k, m - 1.0)
}

/// fdlibm's pieces of `ln(1 + f) = f − half_f2 + s·half_f2_plus_r` for `f` in
/// [√2/2 − 1, √2 − 1].
pub(crate) struct Log1pParts {
    /// `f²/2`.
    pub half_f2: f64,
    /// `f / (2 + f)`.
    pub s: f64,
    /// `f²/2 + R(s²)`.
    pub half_f2_plus_r: f64,
}

/// [`Log1pParts`] of `f`.
#[inline(always)]
pub(crate) fn log1p_parts(f: f64) -> Log1pParts {
    log1p_parts_given(f, log1p_quotient(f))
}

/// `s = f / (2 + f)`, the one division of [`log1p_parts`], for callers that schedule it
/// apart from the polynomial.
#[inline(always)]
pub(crate) fn log1p_quotient(f: f64) -> f64 {
    f / (2.0 + f)
}

/// [`Log1pParts`] of `f` given its [`log1p_quotient`] `s`. fdlibm's polynomial
/// `R(z) = Σ LGi·zⁱ` is evaluated in Estrin's scheme with fused multiply-adds rather than in
/// fdlibm's two Horner chains: callers are bound by the latency of this chain.
#[inline(always)]
pub(crate) fn log1p_parts_given(f: f64, s: f64) -> Log1pParts {
    let half_f2 = 0.5 * f * f;
    let z = s * s;
    let z2 = z * z;
    let low = LG2.mul_add(z, LG1);
    let mid = LG4.mul_add(z, LG3);
    let high = LG7.mul_add(z2, LG6.mul_add(z, LG5));
    let inner = high.mul_add(z2 * z2, mid.mul_add(z2, low));
    Log1pParts {
        half_f2,
        s,
        half_f2_plus_r: inner.mul_add(z, half_f2),
    }
}

/// `ln(2^k·(1 + f))` as `(k·ln2_hi, the rest)`.
#[inline(always)]
fn ln_parts(k: f64, f: f64) -> (f64, f64) {
    let l = log1p_parts(f);
    (
        k * LN2_HI,
        l.s.mul_add(l.half_f2_plus_r, k * LN2_LO) - l.half_f2 + f,
    )
}

/// `x^e` for `x ≥ 0` (or NaN) and a finite `e > 0`, as `exp(e·ln x)`, branch-free so that
/// lanes vectorise (`powf` is a libm call per element): `0^e = 0`, `inf^e = inf`, NaN stays
/// NaN. Within about `(2 + 2·|e·ln x|)` ulps of the exact value.
#[inline(always)]
pub(crate) fn pow_nonnegative(x: f64, e: f64) -> f64 {
    let y = exp_f64(e * ln_positive(x));
    if x > 0.0 && x < f64::INFINITY { y } else { x }
}

// The cube root of FreeBSD's `s_cbrt.c` (its coefficients as bit patterns; error below
// 0.667 ulp): a first guess from the exponent bits divided by 3, a polynomial step to 23
// bits, rounding to 32 bits so that the Newton step's products are exact, and one Newton
// step to 53 bits.
const CBRT_B1: f64 = 715_094_163.0;
const CBRT_P: [f64; 5] = [
    f64::from_bits(0x3ffe_03e6_0f61_e692),
    f64::from_bits(0xbffe_28e0_92f0_2420),
    f64::from_bits(0x3ff9_f160_4a49_d6c2),
    f64::from_bits(0xbfe8_44cb_bee7_51d9),
    f64::from_bits(0x3fc2_b000_d4e4_edd7),
];

/// The cube root of `x ≥ 0` (or NaN), within one ulp; branch-free so that lanes vectorise
/// (`f64::cbrt` is a libm call per element). `0`, `inf` and NaN give themselves.
#[inline(always)]
pub(crate) fn cbrt_nonnegative(x: f64) -> f64 {
    // Subnormals are scaled by 2^54 into the normal range, the root by 2^-18 back.
    let tiny = x < f64::MIN_POSITIVE;
    let xs = if tiny { x * TWO_54 } else { x };
    // The high word's integer divided by 3 (exactly, through a float division: the word is
    // below 2^31), plus FreeBSD's bias: about 5 bits of the root.
    let high = (xs.to_bits() >> 32) as i32;
    let third = (f64::from(high) / 3.0).floor() + CBRT_B1;
    let mut t = f64::from_bits((third as i64 as u64) << 32);
    let r = (t * t) * (t / xs);
    let [p0, p1, p2, p3, p4] = CBRT_P;
    t *= (p0 + r * (p1 + r * p2)) + ((r * r) * r) * (p3 + r * p4);
    // Round to 32 bits away from zero, so that t·t is exact and t is slightly large.
    t = f64::from_bits((t.to_bits() + 0x8000_0000) & 0xffff_ffff_c000_0000);
    let s = t * t;
    let r = xs / s;
    let w = t + t;
    let r = (r - t) / (w + r);
    let root = t + t * r;
    let root = if tiny { root * (1.0 / 262_144.0) } else { root };
    if x > 0.0 && x < f64::INFINITY {
        root
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    #[test]
    // Miri perturbs `f64::ln` on purpose (std promises no precision), so the reference
    // would not be libm's.
    #[cfg_attr(miri, ignore)]
    fn ln_is_within_one_ulp_of_libm() {
        // Every binade (subnormals included), both sides of √2 and of 1, and a sweep near 1
        // where log(1 + f) ≈ f cancels.
        let mut xs = vec![f64::MIN_POSITIVE, f64::MAX, 5e-324, 1.0, 2.0, 0.5, 1.5];
        for e in -1074..1024 {
            let r2 = std::f64::consts::SQRT_2;
            for frac in [1.0, 1.1, r2.next_down(), r2, r2.next_up(), 1.9] {
                xs.push(frac * 2f64.powi(e));
            }
        }
        for i in 1..2000 {
            let t = i as f64 * 1e-6;
            xs.extend([1.0 + t, 1.0 - t, 1.0 + t * 1e-9]);
        }
        let mut worst = 0;
        for &x in xs.iter().filter(|x| x.is_finite() && **x > 0.0) {
            let (got, want) = (ln_positive(x), x.ln());
            worst = worst.max(ulps(got, want));
            assert!(ulps(got, want) <= 1, "ln({x:e}) = {got:e}, libm {want:e}");
        }
        assert!(worst <= 1);
        assert_eq!(ln_positive(1.0), 0.0, "ln 1 is exactly 0");
    }

    #[test]
    #[cfg_attr(miri, ignore)] // as above: the reference is libm's powf
    fn pow_is_close_to_libm_and_keeps_zero_infinity_and_nan() {
        let mut worst = 0.0f64;
        for &e in &[1.0 / 3.0, 0.125, 1.5, 2.5, 3.0, 3.5, 7.0, 10.25] {
            for k in -400..400 {
                let x = 1.37f64.powi(k) * 0.61;
                let (got, want) = (pow_nonnegative(x, e), x.powf(e));
                if want.is_normal() {
                    let bound = 2.0 + 2.0 * (e * x.ln()).abs();
                    let err = ulps(got, want) as f64;
                    assert!(err <= bound, "{x:e}^{e} = {got:e}, libm {want:e}");
                    worst = worst.max(err / bound);
                }
            }
            assert_eq!(pow_nonnegative(0.0, e), 0.0);
            assert_eq!(pow_nonnegative(f64::INFINITY, e), f64::INFINITY);
            assert!(pow_nonnegative(f64::NAN, e).is_nan());
            assert_eq!(pow_nonnegative(1.0, e), 1.0);
        }
        assert!(worst > 0.0, "the sweep compared nothing");
    }

    #[test]
    #[cfg_attr(miri, ignore)] // as above: the reference is libm's cbrt
    fn cbrt_is_within_one_ulp_of_libm() {
        let mut xs = vec![
            f64::MIN_POSITIVE,
            f64::MAX,
            5e-324,
            1.0,
            8.0,
            27.0,
            0.125,
            2.0,
        ];
        for e in -1074..1024 {
            for frac in [1.0, 1.1, 1.3, 1.5, 1.7, 1.999_999] {
                xs.push(frac * 2f64.powi(e));
            }
        }
        for &x in xs.iter().filter(|x| x.is_finite() && **x > 0.0) {
            let (got, want) = (cbrt_nonnegative(x), x.cbrt());
            assert!(ulps(got, want) <= 1, "cbrt({x:e}) = {got:e}, libm {want:e}");
        }
        for k in 1..200 {
            let c = (k * k * k) as f64;
            assert_eq!(
                cbrt_nonnegative(c),
                k as f64,
                "the cube root of a cube is exact"
            );
        }
        assert_eq!(cbrt_nonnegative(0.0), 0.0);
        assert_eq!(cbrt_nonnegative(f64::INFINITY), f64::INFINITY);
        assert!(cbrt_nonnegative(f64::NAN).is_nan());
    }

    #[test]
    fn lane_sum_matches_a_plain_sum_on_integers() {
        let a: Vec<f64> = (0..37).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..37).map(|i| (i * i) as f64).collect();
        let want: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert_eq!(lane_sum(&a, &b, |x, y| x * y), want);
    }
}
