//! Run-time element types, with NumPy's names and `.npy` type strings.

use std::fmt;

use crate::error::{Error, Result};

/// The element type of an [`NdArray`](crate::NdArray), chosen at run time as in NumPy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
}

impl DType {
    /// Every dtype, in NumPy's type-promotion order (bool, signed, unsigned, float).
    pub const ALL: [DType; 11] = [
        DType::Bool,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::F32,
        DType::F64,
    ];

    /// Bytes per element.
    pub const fn itemsize(self) -> usize {
        match self {
            DType::Bool | DType::I8 | DType::U8 => 1,
            DType::I16 | DType::U16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 => 8,
        }
    }

    /// Alignment a typed view needs; for these scalar types it equals the item size.
    pub const fn alignment(self) -> usize {
        self.itemsize()
    }

    /// NumPy's name: `float64`, `int8`, `bool`, ...
    pub const fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::F32 => "float32",
            DType::F64 => "float64",
        }
    }

    /// NumPy's kind character: `b`, `i`, `u`, `f`.
    pub const fn kind(self) -> char {
        match self {
            DType::Bool => 'b',
            DType::I8 | DType::I16 | DType::I32 | DType::I64 => 'i',
            DType::U8 | DType::U16 | DType::U32 | DType::U64 => 'u',
            DType::F32 | DType::F64 => 'f',
        }
    }

    pub const fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }
    pub const fn is_signed_int(self) -> bool {
        matches!(self, DType::I8 | DType::I16 | DType::I32 | DType::I64)
    }
    pub const fn is_unsigned_int(self) -> bool {
        matches!(self, DType::U8 | DType::U16 | DType::U32 | DType::U64)
    }

    /// The little-endian `.npy` descr this crate writes: `<f8`, `|i1`, `|b1`.
    pub fn descr(self) -> String {
        let order = if self.itemsize() == 1 { '|' } else { '<' };
        format!("{order}{}{}", self.kind(), self.itemsize())
    }

    /// Parses a `.npy` descr. Returns the dtype and whether its bytes are big-endian.
    pub fn from_descr(descr: &str) -> Result<(DType, bool)> {
        let bad = || Error::npy(format!("unsupported descr {descr:?}"));
        let mut chars = descr.chars();
        let order = chars.next().ok_or_else(bad)?;
        let rest = chars.as_str();
        let big_endian = match order {
            '<' | '|' => false,
            '>' => true,
            '=' => cfg!(target_endian = "big"),
            _ => return Err(bad()),
        };
        let dtype = match rest.as_bytes() {
            [b'?'] => DType::Bool,
            [kind, size @ b'1'..=b'8'] => {
                DType::from_kind(*kind as char, (size - b'0') as usize).ok_or_else(bad)?
            }
            _ => return Err(bad()),
        };
        // One-byte types have no byte order; big-endian only matters for wider ones.
        Ok((dtype, big_endian && dtype.itemsize() > 1))
    }

    /// The dtype of NumPy's kind character (`b`, `i`, `u`, `f`) and item size in bytes, as a
    /// descr or a buffer's format names it; `None` for kinds and sizes the crate lacks.
    pub const fn from_kind(kind: char, itemsize: usize) -> Option<DType> {
        Some(match (kind, itemsize) {
            ('b', 1) => DType::Bool,
            ('i', 1) => DType::I8,
            ('i', 2) => DType::I16,
            ('i', 4) => DType::I32,
            ('i', 8) => DType::I64,
            ('u', 1) => DType::U8,
            ('u', 2) => DType::U16,
            ('u', 4) => DType::U32,
            ('u', 8) => DType::U64,
            ('f', 4) => DType::F32,
            ('f', 8) => DType::F64,
            _ => return None,
        })
    }

    /// Parses NumPy's name (`float32`) or a short form (`f4`, `f32`, `i8` is int64 as in NumPy's descr).
    pub fn from_name(name: &str) -> Result<DType> {
        let d = match name {
            "bool" | "bool_" | "b1" | "?" => DType::Bool,
            "int8" | "i1" => DType::I8,
            "int16" | "i2" => DType::I16,
            "int32" | "i4" => DType::I32,
            "int64" | "i8" => DType::I64,
            "uint8" | "u1" => DType::U8,
            "uint16" | "u2" => DType::U16,
            "uint32" | "u4" => DType::U32,
            "uint64" | "u8" => DType::U64,
            "float32" | "f4" | "f32" => DType::F32,
            "float64" | "f8" | "f64" | "float" => DType::F64,
            _ => return Err(Error::invalid(format!("data type {name:?} not understood"))),
        };
        Ok(d)
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DType {
    type Err = Error;
    fn from_str(s: &str) -> Result<DType> {
        DType::from_name(s)
    }
}

/// A Rust scalar type that can be an array element: every bit pattern is a valid value
/// (`bytemuck::Pod`), which is what makes reinterpreting buffer bytes sound.
///
/// `bool` is deliberately not an `Element`: a byte other than 0 or 1 read as `bool` is undefined
/// behaviour, and `.npy` files or `view_dtype` can produce such bytes. Bool arrays are read and
/// written as `u8` (any nonzero byte is True) or through `from_bools`/`to_vec_bool`.
pub trait Element:
    bytemuck::Pod + PartialEq + PartialOrd + fmt::Debug + fmt::Display + Send + Sync + 'static
{
    const DTYPE: DType;
    /// The element as f64, exactly where the type allows it (used by references and display).
    fn to_f64(self) -> f64;
    /// Conversion from f64 with Rust's `as` semantics (saturating, NaN to 0 for integers).
    fn from_f64(v: f64) -> Self;
    /// The element as i128: exact for every integer type (floats truncate, as `as` does).
    fn to_i128(self) -> i128;
}

macro_rules! impl_element {
    ($($t:ty => $d:ident),* $(,)?) => {$(
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            #[inline]
            fn to_f64(self) -> f64 { self as f64 }
            #[inline]
            fn from_f64(v: f64) -> Self { v as $t }
            #[inline]
            fn to_i128(self) -> i128 { self as i128 }
        }
    )*};
}
impl_element!(i8 => I8, i16 => I16, i32 => I32, i64 => I64, u8 => U8, u16 => U16, u32 => U32,
              u64 => U64, f32 => F32, f64 => F64);

/// Calls `$body` with the type alias `$T` bound to the Rust type of a numeric `$dtype`;
/// `$bool` is evaluated for `DType::Bool`.
#[macro_export]
#[doc(hidden)]
macro_rules! dispatch_numeric {
    ($dtype:expr, $T:ident => $body:expr, bool => $bool:expr) => {
        $crate::dispatch_kinds!($dtype, int $T => $body, float $T => $body, bool => $bool)
    };
}

/// Like [`dispatch_numeric!`], with integer and float dtypes in separate arms, for operations
/// that exist for one kind only (bitwise ops on integers, `log1p` on floats).
#[macro_export]
#[doc(hidden)]
macro_rules! dispatch_kinds {
    ($dtype:expr, int $I:ident => $int:expr, float $F:ident => $float:expr, bool => $bool:expr) => {
        match $dtype {
            $crate::DType::Bool => $bool,
            $crate::DType::I8 => {
                type $I = i8;
                $int
            }
            $crate::DType::I16 => {
                type $I = i16;
                $int
            }
            $crate::DType::I32 => {
                type $I = i32;
                $int
            }
            $crate::DType::I64 => {
                type $I = i64;
                $int
            }
            $crate::DType::U8 => {
                type $I = u8;
                $int
            }
            $crate::DType::U16 => {
                type $I = u16;
                $int
            }
            $crate::DType::U32 => {
                type $I = u32;
                $int
            }
            $crate::DType::U64 => {
                type $I = u64;
                $int
            }
            $crate::DType::F32 => {
                type $F = f32;
                $float
            }
            $crate::DType::F64 => {
                type $F = f64;
                $float
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descr_round_trip() {
        for d in DType::ALL {
            assert_eq!(DType::from_descr(&d.descr()).unwrap(), (d, false));
            assert_eq!(DType::from_name(d.name()).unwrap(), d);
        }
        assert_eq!(DType::from_descr(">f8").unwrap(), (DType::F64, true));
        assert_eq!(DType::from_descr(">i1").unwrap(), (DType::I8, false));
        assert!(DType::from_descr("<c16").is_err());
        assert!(DType::from_descr("").is_err());
    }
}
