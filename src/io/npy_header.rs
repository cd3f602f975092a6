//! The `.npy` header: magic, version, and a Python dict literal
//! `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }` padded to 64 bytes.

use std::io::Read;

use crate::dtype::DType;
use crate::error::{Error, Result, shape_str};
use crate::layout::{Order, c_strides, checked_nbytes, f_strides};

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// NumPy refuses headers longer than this unless told otherwise (`max_header_size`); so do we,
/// so that a hostile file cannot make us read or parse megabytes of header.
pub const MAX_HEADER_LEN: usize = 10_000;

/// What a `.npy` header says about the array that follows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NpyHeader {
    pub version: (u8, u8),
    pub dtype: DType,
    /// The file's bytes are big-endian (converted on load).
    pub big_endian: bool,
    pub fortran_order: bool,
    pub shape: Vec<usize>,
    /// Byte position of the data in the file.
    pub data_offset: usize,
}

impl NpyHeader {
    /// Bytes of data the header announces.
    pub fn data_len(&self) -> usize {
        // Checked when the header was parsed.
        checked_nbytes(&self.shape, self.dtype.itemsize()).unwrap_or(usize::MAX)
    }

    pub fn order(&self) -> Order {
        if self.fortran_order {
            Order::F
        } else {
            Order::C
        }
    }

    /// Byte strides of the array as stored.
    pub fn strides(&self) -> Vec<isize> {
        let isz = self.dtype.itemsize();
        match self.order() {
            Order::C => c_strides(&self.shape, isz),
            Order::F => f_strides(&self.shape, isz),
        }
        .map(|s| s.to_vec())
        .unwrap_or_default()
    }

    /// Reads and validates a header from the start of a `.npy` stream.
    pub fn read_from(r: &mut impl Read) -> Result<NpyHeader> {
        let mut fixed = [0u8; 8];
        read_exact_or(
            r,
            &mut fixed,
            "file is shorter than the 8-byte .npy preamble",
        )?;
        if &fixed[..6] != MAGIC {
            return Err(Error::npy(format!(
                "bad magic {:?} (expected \\x93NUMPY)",
                String::from_utf8_lossy(&fixed[..6])
            )));
        }
        let version = (fixed[6], fixed[7]);
        let (len, prefix) = match version.0 {
            1 => {
                let mut b = [0u8; 2];
                read_exact_or(r, &mut b, "truncated header length")?;
                (u16::from_le_bytes(b) as usize, 10)
            }
            2 | 3 => {
                let mut b = [0u8; 4];
                read_exact_or(r, &mut b, "truncated header length")?;
                (u32::from_le_bytes(b) as usize, 12)
            }
            _ => {
                return Err(Error::npy(format!(
                    "unsupported format version {}.{}",
                    version.0, version.1
                )));
            }
        };
        if version.1 != 0 {
            return Err(Error::npy(format!(
                "unsupported format version {}.{}",
                version.0, version.1
            )));
        }
        if len > MAX_HEADER_LEN {
            return Err(Error::npy(format!(
                "header is {len} bytes, more than the {MAX_HEADER_LEN} NumPy accepts by default"
            )));
        }
        let mut text = vec![0u8; len];
        read_exact_or(r, &mut text, "file ends inside the header")?;
        // Versions 1 and 2 are latin-1, version 3 is UTF-8; the keys and values we accept are ASCII.
        let text: String = if version.0 == 3 {
            String::from_utf8(text).map_err(|_| Error::npy("header is not valid UTF-8"))?
        } else {
            text.iter().map(|&b| b as char).collect()
        };
        let mut h = parse_dict(&text)?;
        h.version = version;
        h.data_offset = prefix + len;
        Ok(h)
    }

    /// The encoded header for an array: version 1.0 unless the text needs more than 65535
    /// bytes, padded with spaces so the data start on a 64-byte boundary.
    pub fn encode(dtype: DType, fortran_order: bool, shape: &[usize]) -> Vec<u8> {
        let shape_text = match shape {
            [n] => format!("({n},)"),
            _ => shape_str(shape),
        };
        let dict = format!(
            "{{'descr': '{}', 'fortran_order': {}, 'shape': {}, }}",
            dtype.descr(),
            if fortran_order { "True" } else { "False" },
            shape_text
        );
        let (version, prefix) = if dict.len() + 1 + 10 <= u16::MAX as usize {
            (1u8, 10usize)
        } else {
            (2u8, 12usize)
        };
        let total = (prefix + dict.len() + 1).next_multiple_of(64);
        let hlen = total - prefix;
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[version, 0]);
        if version == 1 {
            out.extend_from_slice(&(hlen as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(hlen as u32).to_le_bytes());
        }
        out.extend_from_slice(dict.as_bytes());
        out.resize(total - 1, b' ');
        out.push(b'\n');
        out
    }
}

fn read_exact_or(r: &mut impl Read, buf: &mut [u8], msg: &str) -> Result<()> {
    r.read_exact(buf).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::npy(msg)
        } else {
            Error::npy(format!("{msg}: {e}"))
        }
    })
}

/// A value in the header dict.
#[derive(Debug)]
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, msg: &str) -> Error {
        Error::npy(format!("header dict: {msg} at character {}", self.pos))
    }
    fn ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.pos).copied()
    }
    fn expect(&mut self, c: u8) -> Result<()> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected '{}'", c as char)))
        }
    }
    fn string(&mut self) -> Result<String> {
        let q = self.peek().ok_or_else(|| self.err("expected a string"))?;
        if q != b'\'' && q != b'"' {
            return Err(self.err("expected a quoted string"));
        }
        self.pos += 1;
        let start = self.pos;
        while self.pos < self.s.len() && self.s[self.pos] != q {
            if self.s[self.pos] == b'\\' {
                return Err(self.err("escapes are not supported in header strings"));
            }
            self.pos += 1;
        }
        if self.pos >= self.s.len() {
            return Err(self.err("unterminated string"));
        }
        let out = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
        self.pos += 1;
        Ok(out)
    }
    fn word(&mut self) -> &str {
        self.ws();
        let start = self.pos;
        while self.pos < self.s.len()
            && (self.s[self.pos].is_ascii_alphanumeric() || self.s[self.pos] == b'_')
        {
            self.pos += 1;
        }
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("")
    }
    fn value(&mut self) -> Result<Value> {
        match self.peek() {
            Some(b'\'' | b'"') => Ok(Value::Str(self.string()?)),
            Some(b'(') => {
                self.pos += 1;
                let mut dims = Vec::new();
                loop {
                    if self.peek() == Some(b')') {
                        self.pos += 1;
                        break;
                    }
                    let w = self.word().to_string();
                    // Python 2 wrote long integers with an L suffix.
                    let digits = w.strip_suffix('L').unwrap_or(&w);
                    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(self.err("shape entries must be non-negative integers"));
                    }
                    let d: usize = digits
                        .parse()
                        .map_err(|_| self.err("shape entry does not fit in usize"))?;
                    dims.push(d);
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b')') => {}
                        _ => return Err(self.err("expected ',' or ')' in shape")),
                    }
                }
                Ok(Value::Tuple(dims))
            }
            _ => match self.word() {
                "True" => Ok(Value::Bool(true)),
                "False" => Ok(Value::Bool(false)),
                _ => Err(self.err("expected a string, a tuple, True or False")),
            },
        }
    }
}

fn parse_dict(text: &str) -> Result<NpyHeader> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
    };
    p.expect(b'{')?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    loop {
        if p.peek() == Some(b'}') {
            p.pos += 1;
            break;
        }
        let key = p.string()?;
        p.expect(b':')?;
        if key == "descr" && p.peek() == Some(b'[') {
            return Err(Error::npy(
                "structured dtypes (a 'descr' list of named fields) are not supported: only \
                 arrays of bool, int8..int64, uint8..uint64, float32 and float64",
            ));
        }
        let v = p.value()?;
        match (key.as_str(), v) {
            ("descr", Value::Str(s)) => descr = Some(s),
            ("fortran_order", Value::Bool(b)) => fortran = Some(b),
            ("shape", Value::Tuple(t)) => shape = Some(t),
            ("descr" | "fortran_order" | "shape", v) => {
                return Err(Error::npy(format!(
                    "header key {key:?} has a value of the wrong type: {v:?}"
                )));
            }
            _ => return Err(Error::npy(format!("unexpected header key {key:?}"))),
        }
        match p.peek() {
            Some(b',') => p.pos += 1,
            Some(b'}') => {}
            _ => return Err(p.err("expected ',' or '}'")),
        }
    }
    if p.peek().is_some() {
        return Err(p.err("unexpected text after the header dict"));
    }
    let descr = descr.ok_or_else(|| Error::npy("header has no 'descr'"))?;
    let fortran_order = fortran.ok_or_else(|| Error::npy("header has no 'fortran_order'"))?;
    let shape = shape.ok_or_else(|| Error::npy("header has no 'shape'"))?;
    if shape.len() > crate::layout::MAX_NDIM {
        return Err(Error::npy(format!(
            "shape has {} axes; at most {} are supported",
            shape.len(),
            crate::layout::MAX_NDIM
        )));
    }
    let (dtype, big_endian) = DType::from_descr(&descr)?;
    checked_nbytes(&shape, dtype.itemsize()).map_err(|_| {
        Error::npy(format!(
            "shape {} of {} overflows the address space",
            shape_str(&shape),
            dtype
        ))
    })?;
    Ok(NpyHeader {
        version: (1, 0),
        dtype,
        big_endian,
        fortran_order,
        shape,
        data_offset: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Result<NpyHeader> {
        NpyHeader::read_from(&mut &bytes[..])
    }

    #[test]
    fn encode_parse_round_trip_and_alignment() {
        for shape in [vec![], vec![0], vec![3], vec![2, 3, 4]] {
            for f in [false, true] {
                let enc = NpyHeader::encode(DType::F32, f, &shape);
                assert_eq!(enc.len() % 64, 0);
                let h = parse(&enc).unwrap();
                assert_eq!(
                    (h.dtype, h.fortran_order, h.shape.clone(), h.data_offset),
                    (DType::F32, f, shape.clone(), enc.len())
                );
            }
        }
    }

    #[test]
    fn malformed_headers_are_errors() {
        let good = NpyHeader::encode(DType::F64, false, &[2, 2]);
        assert!(
            parse(b"\x93NUMPX\x01\x00")
                .unwrap_err()
                .to_string()
                .contains("magic")
        );
        assert!(parse(&good[..9]).is_err());
        assert!(
            parse(&good[..40])
                .unwrap_err()
                .to_string()
                .contains("ends inside")
        );
        let mk = |dict: &str| {
            let mut v = b"\x93NUMPY\x01\x00".to_vec();
            v.extend_from_slice(&(dict.len() as u16).to_le_bytes());
            v.extend_from_slice(dict.as_bytes());
            parse(&v)
        };
        assert!(mk("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }").is_ok());
        assert!(mk("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}").is_err());
        assert!(mk("{'descr': '<f8', 'fortran_order': False}").is_err());
        assert!(mk("{'descr': '<c8', 'fortran_order': False, 'shape': (2,)}").is_err());
        assert!(mk("{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}").is_err());
        assert!(mk("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,)}").is_err());
        let e = mk("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}")
            .unwrap_err();
        assert!(e.to_string().contains("overflows"), "{e}");
        assert!(mk("{'descr': '<f8', 'fortran_order': False, 'shape': (2,)} junk").is_err());
        let many = format!(
            "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}), }}",
            "1, ".repeat(65)
        );
        assert!(mk(&many).unwrap_err().to_string().contains("65 axes"));
        assert!(mk("{'descr': '<f8").is_err());
        let mut v = b"\x93NUMPY\x02\x00".to_vec();
        v.extend_from_slice(&(100_000u32).to_le_bytes());
        assert!(parse(&v).unwrap_err().to_string().contains("10000"));
        assert!(
            parse(b"\x93NUMPY\x04\x00\x00\x00")
                .unwrap_err()
                .to_string()
                .contains("version")
        );
    }
}
