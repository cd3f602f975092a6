//! Order-preserving unsigned keys for every dtype: comparing keys compares values, in NumPy's
//! order (NaN last).
//!
//! `key` is a bijection on non-NaN values (so sorted keys turn back into the very values,
//! `-0.0` before `0.0`); `rank` is the order of `argsort` and selection, where `-0.0 == 0.0`
//! and every NaN ties with every other, as comparisons see them (NumPy's stable argsort keeps
//! such ties in index order).

use super::radix::RadixKey;

pub(crate) trait SortKey: crate::dtype::Element + Copy {
    type K: RadixKey;
    /// Order-preserving and invertible on numbers (what it gives for a NaN is not used).
    fn key(self) -> Self::K;
    fn from_key(k: Self::K) -> Self;
    /// Order-preserving, with equal values (±0, any NaN) mapped to one key; NaN the largest.
    fn rank(self) -> Self::K;
    fn is_nan(self) -> bool {
        false
    }
}

macro_rules! unsigned {
    ($($t:ty => $k:ty),*) => {$(
        impl SortKey for $t {
            type K = $k;
            #[inline(always)]
            fn key(self) -> $k { self as $k }
            #[inline(always)]
            fn from_key(k: $k) -> $t { k as $t }
            #[inline(always)]
            fn rank(self) -> $k { self as $k }
        }
    )*};
}
unsigned!(u8 => u32, u16 => u32, u32 => u32, u64 => u64);

macro_rules! signed {
    ($($t:ty => $wide:ty, $k:ty),*) => {$(
        impl SortKey for $t {
            type K = $k;
            #[inline(always)]
            fn key(self) -> $k { (self as $wide as $k) ^ (1 << (<$k>::BITS - 1)) }
            #[inline(always)]
            fn from_key(k: $k) -> $t { (k ^ (1 << (<$k>::BITS - 1))) as $wide as $t }
            #[inline(always)]
            fn rank(self) -> $k { self.key() }
        }
    )*};
}
signed!(i8 => i32, u32, i16 => i32, u32, i32 => i32, u32, i64 => i64, u64);

macro_rules! float {
    ($($t:ty => $k:ty),*) => {$(
        impl SortKey for $t {
            type K = $k;
            /// Positive values get the sign bit set, negative ones are inverted: the unsigned
            /// order of the keys is then the numeric order.
            #[inline(always)]
            fn key(self) -> $k {
                let b = self.to_bits();
                let sign = 1 << (<$k>::BITS - 1);
                if b & sign != 0 { !b } else { b | sign }
            }
            #[inline(always)]
            fn from_key(k: $k) -> $t {
                let sign = 1 << (<$k>::BITS - 1);
                <$t>::from_bits(if k & sign != 0 { k & !sign } else { !k })
            }
            #[inline(always)]
            fn rank(self) -> $k {
                if self.is_nan() {
                    <$k>::MAX
                } else if self == 0.0 {
                    (0.0 as $t).key()
                } else {
                    self.key()
                }
            }
            #[inline(always)]
            fn is_nan(self) -> bool { <$t>::is_nan(self) }
        }
    )*};
}
float!(f32 => u32, f64 => u64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_as_values_and_invert() {
        let v = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -5e-324,
            -0.0,
            0.0,
            5e-324,
            1.0,
            f64::INFINITY,
        ];
        for w in v.windows(2) {
            assert!(w[0].key() < w[1].key(), "{} {}", w[0], w[1]);
        }
        for x in v {
            assert_eq!(f64::from_key(x.key()).to_bits(), x.to_bits());
        }
        assert_eq!((-0.0f64).rank(), 0.0f64.rank());
        assert!(f64::NAN.rank() > f64::INFINITY.rank());
        assert_eq!((-f64::NAN).rank(), f64::NAN.rank());
        for x in [i64::MIN, -1, 0, 1, i64::MAX] {
            assert_eq!(i64::from_key(x.key()), x);
        }
        assert!((-1i8).key() < 0i8.key() && i8::MIN.key() < i8::MAX.key());
        assert_eq!(i8::from_key((-128i8).key()), -128);
        assert!((-1.5f32).key() < (-1.0f32).key());
    }
}
