//! NumPy 2's dtype rules for ufuncs: promotion of two operands (`result_type`), the
//! `same_kind` casting check for `out=` arguments, and each ufunc's output dtype.

use crate::dtype::DType;
use crate::error::{Error, Result};

fn int_bits(d: DType) -> u32 {
    (d.itemsize() * 8) as u32
}

fn signed_of_bits(bits: u32) -> Option<DType> {
    match bits {
        8 => Some(DType::I8),
        16 => Some(DType::I16),
        32 => Some(DType::I32),
        64 => Some(DType::I64),
        _ => None,
    }
}

/// NumPy 2's `np.result_type(a, b)` for two array dtypes (no value-based casting):
/// `int64 + float32 -> float64`, `uint64 + int64 -> float64`, `bool + int8 -> int8`.
pub fn result_type(a: DType, b: DType) -> DType {
    use DType::*;
    if a == b {
        return a;
    }
    match (a, b) {
        (Bool, x) | (x, Bool) => x,
        (F64, _) | (_, F64) => F64,
        (F32, x) | (x, F32) => {
            // float32 holds integers of up to 16 bits exactly; wider ones need float64.
            if int_bits(x) <= 16 { F32 } else { F64 }
        }
        _ => {
            let (sa, sb) = (a.is_signed_int(), b.is_signed_int());
            let (ba, bb) = (int_bits(a), int_bits(b));
            if sa == sb {
                if ba >= bb { a } else { b }
            } else {
                let (ubits, sbits) = if sa { (bb, ba) } else { (ba, bb) };
                if ubits < sbits {
                    signed_of_bits(sbits).expect("valid width")
                } else {
                    // The unsigned one needs a signed type twice as wide; none beyond 64 bits.
                    signed_of_bits(ubits * 2).unwrap_or(F64)
                }
            }
        }
    }
}

/// NumPy's `np.can_cast(from, to, casting='same_kind')`: safe casts, plus any cast within
/// integers (unsigned may go to signed, not the reverse) or within floats.
pub fn can_cast_same_kind(from: DType, to: DType) -> bool {
    use DType::*;
    match from {
        Bool => true,
        I8 | I16 | I32 | I64 => to.is_signed_int() || to.is_float(),
        U8 | U16 | U32 | U64 => to != Bool,
        F32 | F64 => to.is_float(),
    }
}

/// The dtype an `out=` view with element type `view` takes a `result` as, checked with NumPy's
/// `same_kind` rule and message. A `u8` view stands for a bool array when the result is bool.
pub(crate) fn out_target(ufunc: &str, result: DType, view: DType) -> Result<DType> {
    let target = if view == DType::U8 && result == DType::Bool {
        DType::Bool
    } else {
        view
    };
    if can_cast_same_kind(result, target) {
        Ok(target)
    } else {
        Err(Error::invalid(format!(
            "Cannot cast ufunc '{ufunc}' output from {result} to {view} with casting rule 'same_kind'"
        )))
    }
}

/// Output dtype of the float functions (`sqrt`, `exp`, ...) for an input dtype. NumPy gives
/// float16 for bool/int8/uint8; this crate has no float16 and uses float32.
pub fn float_result(d: DType) -> DType {
    match d {
        DType::F32 | DType::F64 => d,
        DType::Bool | DType::I8 | DType::U8 | DType::I16 | DType::U16 => DType::F32,
        _ => DType::F64,
    }
}

/// dtype of `sum`/`prod`: small integers widen to int64/uint64 as in NumPy.
pub fn sum_result(d: DType) -> DType {
    match d {
        DType::Bool | DType::I8 | DType::I16 | DType::I32 | DType::I64 => DType::I64,
        DType::U8 | DType::U16 | DType::U32 | DType::U64 => DType::U64,
        f => f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `np.result_type(a, b)` from NumPy 2.4.6, rows and columns in `DType::ALL` order.
    const NUMPY_RESULT_TYPE: [[&str; 11]; 11] = [
        [
            "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
            "float32", "float64",
        ],
        [
            "int8", "int8", "int16", "int32", "int64", "int16", "int32", "int64", "float64",
            "float32", "float64",
        ],
        [
            "int16", "int16", "int16", "int32", "int64", "int16", "int32", "int64", "float64",
            "float32", "float64",
        ],
        [
            "int32", "int32", "int32", "int32", "int64", "int32", "int32", "int64", "float64",
            "float64", "float64",
        ],
        [
            "int64", "int64", "int64", "int64", "int64", "int64", "int64", "int64", "float64",
            "float64", "float64",
        ],
        [
            "uint8", "int16", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
            "float32", "float64",
        ],
        [
            "uint16", "int32", "int32", "int32", "int64", "uint16", "uint16", "uint32", "uint64",
            "float32", "float64",
        ],
        [
            "uint32", "int64", "int64", "int64", "int64", "uint32", "uint32", "uint32", "uint64",
            "float64", "float64",
        ],
        [
            "uint64", "float64", "float64", "float64", "float64", "uint64", "uint64", "uint64",
            "uint64", "float64", "float64",
        ],
        [
            "float32", "float32", "float32", "float64", "float64", "float32", "float32", "float64",
            "float64", "float32", "float64",
        ],
        [
            "float64", "float64", "float64", "float64", "float64", "float64", "float64", "float64",
            "float64", "float64", "float64",
        ],
    ];

    /// `np.can_cast(a, b, 'same_kind')` from NumPy 2.4.6.
    const NUMPY_SAME_KIND: [&str; 11] = [
        "11111111111",
        "01111000011",
        "01111000011",
        "01111000011",
        "01111000011",
        "01111111111",
        "01111111111",
        "01111111111",
        "01111111111",
        "00000000011",
        "00000000011",
    ];

    #[test]
    fn promotion_table_matches_numpy() {
        for (i, a) in DType::ALL.iter().enumerate() {
            for (j, b) in DType::ALL.iter().enumerate() {
                assert_eq!(
                    result_type(*a, *b).name(),
                    NUMPY_RESULT_TYPE[i][j],
                    "{a} + {b}"
                );
                let want = NUMPY_SAME_KIND[i].as_bytes()[j] == b'1';
                assert_eq!(can_cast_same_kind(*a, *b), want, "{a} -> {b}");
            }
        }
    }
}
