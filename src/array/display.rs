//! `Display` in the style of NumPy's repr: `array([[0, 1],\n       [2, 3]], dtype=int8)`,
//! summarised with `...` beyond 1000 elements.

use std::fmt;

use super::NdArray;
use crate::dtype::DType;
use crate::error::shape_str;

/// Arrays with more elements than this print only their edges (NumPy's `threshold`).
const THRESHOLD: usize = 1000;
/// Elements kept at each end of a summarised axis (NumPy's `edgeitems`).
const EDGE: usize = 3;
/// NumPy's `linewidth`.
const LINE_WIDTH: usize = 75;

impl fmt::Display for NdArray {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let implicit_dtype = matches!(self.dtype, DType::F64 | DType::I64 | DType::Bool);
        if self.size() == 0 {
            let shape = if self.ndim() == 1 {
                String::new()
            } else {
                format!("shape={}, ", shape_str(self.shape()))
            };
            return write!(f, "array([], {shape}dtype={})", self.dtype);
        }
        let summarise = self.size() > THRESHOLD;
        let values = self.to_vec_f64();
        let shape = self.shape();
        // Which indices print along each axis (None marks the "..." gap).
        let picks: Vec<Vec<Option<usize>>> = shape
            .iter()
            .map(|&n| {
                if summarise && n > 2 * EDGE {
                    (0..EDGE)
                        .map(Some)
                        .chain([None])
                        .chain((n - EDGE..n).map(Some))
                        .collect()
                } else {
                    (0..n).map(Some).collect()
                }
            })
            .collect();
        // Format only the elements that will be shown, to size the columns.
        let mut shown = Vec::new();
        collect_shown(shape, &picks, 0, 0, &mut shown);
        let fmt_elem = ElementFormat::new(self.dtype, shown.iter().map(|&i| values[i]));
        let width = shown
            .iter()
            .map(|&i| fmt_elem.format(values[i]).len())
            .max()
            .unwrap_or(1);
        let prefix = "array(";
        let mut body = String::new();
        render(
            &mut body,
            shape,
            &picks,
            0,
            0,
            &values,
            &fmt_elem,
            width,
            prefix.len() + 1,
        );
        write!(f, "{prefix}{body}")?;
        if summarise {
            // NumPy 2 names the shape of an array it did not print in full.
            write!(f, ", shape={}", shape_str(shape))?;
        }
        if !implicit_dtype {
            write!(f, ", dtype={}", self.dtype)?;
        }
        write!(f, ")")
    }
}

fn collect_shown(
    shape: &[usize],
    picks: &[Vec<Option<usize>>],
    axis: usize,
    flat: usize,
    out: &mut Vec<usize>,
) {
    if axis == shape.len() {
        out.push(flat);
        return;
    }
    for i in picks[axis].iter().flatten() {
        collect_shown(shape, picks, axis + 1, flat * shape[axis] + i, out);
    }
}

#[allow(clippy::too_many_arguments)]
fn render(
    out: &mut String,
    shape: &[usize],
    picks: &[Vec<Option<usize>>],
    axis: usize,
    flat: usize,
    values: &[f64],
    ef: &ElementFormat,
    width: usize,
    indent: usize,
) {
    if axis == shape.len() {
        out.push_str(&format!("{:>width$}", ef.format(values[flat])));
        return;
    }
    out.push('[');
    let last_axis = axis + 1 == shape.len();
    let mut line_len = indent + axis;
    for (k, p) in picks[axis].iter().enumerate() {
        if k > 0 {
            if last_axis {
                out.push(',');
                let next_len = width + 2;
                if line_len + next_len + 1 > LINE_WIDTH {
                    out.push('\n');
                    out.push_str(&" ".repeat(indent + axis));
                    line_len = indent + axis;
                } else {
                    out.push(' ');
                    line_len += 1;
                }
            } else {
                out.push(',');
                // One blank line per axis level beyond the rows, as NumPy separates blocks.
                let blank = shape.len() - axis - 1;
                out.push_str(&"\n".repeat(blank));
                out.push_str(&" ".repeat(indent + axis));
            }
        }
        match p {
            Some(i) => {
                let before = out.len();
                render(
                    out,
                    shape,
                    picks,
                    axis + 1,
                    flat * shape[axis] + i,
                    values,
                    ef,
                    width,
                    indent,
                );
                line_len += out.len() - before;
            }
            None => {
                out.push_str("...");
                line_len += 3;
            }
        }
    }
    out.push(']');
}

/// How one array's elements print: NumPy picks one style for the whole array.
enum ElementFormat {
    Bool,
    Int,
    /// All finite values integral: `1.`, `-2.`
    FloatIntegral,
    /// Positional with up to 8 digits, padded on the right to `frac` fraction digits.
    FloatFixed {
        frac: usize,
    },
    /// Scientific: `1.5e-05`, with `frac` mantissa digits.
    FloatSci {
        frac: usize,
    },
}

impl ElementFormat {
    fn new(dtype: DType, shown: impl Iterator<Item = f64>) -> ElementFormat {
        if dtype == DType::Bool {
            return ElementFormat::Bool;
        }
        if !dtype.is_float() {
            return ElementFormat::Int;
        }
        let finite: Vec<f64> = shown.filter(|v| v.is_finite()).collect();
        let max = finite.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let min_nz = finite
            .iter()
            .filter(|v| **v != 0.0)
            .fold(f64::INFINITY, |m, v| m.min(v.abs()));
        if max >= 1e16 || (min_nz < 1e-4) || (min_nz.is_finite() && max / min_nz > 1e3) {
            let frac = finite
                .iter()
                .map(|v| sci_digits(*v).0.len().saturating_sub(1))
                .max()
                .unwrap_or(0);
            return ElementFormat::FloatSci { frac };
        }
        if finite.iter().all(|v| v.fract() == 0.0) {
            return ElementFormat::FloatIntegral;
        }
        let frac = finite
            .iter()
            .map(|v| fixed_fraction(*v).len())
            .max()
            .unwrap_or(0);
        ElementFormat::FloatFixed { frac }
    }

    fn format(&self, v: f64) -> String {
        match self {
            ElementFormat::Bool => if v != 0.0 { "True" } else { "False" }.to_string(),
            ElementFormat::Int => format!("{v}"),
            _ if v.is_nan() => "nan".to_string(),
            _ if v.is_infinite() => if v > 0.0 { "inf" } else { "-inf" }.to_string(),
            ElementFormat::FloatIntegral => format!("{}.", v.trunc() as i128),
            ElementFormat::FloatFixed { frac } => {
                let digits = fixed_fraction(v);
                let int = if v < 0.0 {
                    format!("-{}", (-v).trunc())
                } else {
                    format!("{}", v.trunc())
                };
                format!("{int}.{digits}{}", " ".repeat(frac - digits.len()))
            }
            ElementFormat::FloatSci { frac } => {
                let (mantissa, exp) = sci_digits(v);
                let (first, rest) = mantissa.split_at(1.min(mantissa.len()));
                let sign = if v < 0.0 { "-" } else { "" };
                let esign = if exp < 0 { '-' } else { '+' };
                format!(
                    "{sign}{first}.{rest}{}e{esign}{:02}",
                    "0".repeat(frac - rest.len()),
                    exp.abs()
                )
            }
        }
    }
}

/// Fraction digits of `v` rounded to 8 places, trailing zeros removed.
fn fixed_fraction(v: f64) -> String {
    let s = format!("{:.8}", v.abs());
    let frac = s.split('.').nth(1).unwrap_or("");
    frac.trim_end_matches('0').to_string()
}

/// Mantissa digits (at most 9 significant, trailing zeros removed) and decimal exponent.
fn sci_digits(v: f64) -> (String, i32) {
    if v == 0.0 {
        return ("0".to_string(), 0);
    }
    let s = format!("{:.8e}", v.abs());
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: String = m.chars().filter(|c| c.is_ascii_digit()).collect();
    (
        digits
            .trim_end_matches('0')
            .to_string()
            .max("0".to_string()),
        e.parse().unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use crate::{DType, NdArray};

    #[test]
    fn numpy_like_repr() {
        let a = NdArray::arange(4, DType::I8)
            .unwrap()
            .reshape(&[2, 2])
            .unwrap();
        assert_eq!(a.to_string(), "array([[0, 1],\n       [2, 3]], dtype=int8)");
        let b = NdArray::from_vec(vec![0.5f64, 0.25, 1.0], &[3]).unwrap();
        assert_eq!(b.to_string(), "array([0.5 , 0.25, 1.  ])");
        let c = NdArray::from_vec(vec![1.0f64, -2.0], &[2]).unwrap();
        assert_eq!(c.to_string(), "array([ 1., -2.])");
        let d = NdArray::from_bools(&[true, false], &[2]).unwrap();
        assert_eq!(d.to_string(), "array([ True, False])");
        assert_eq!(
            NdArray::zeros(&[0], DType::F32).unwrap().to_string(),
            "array([], dtype=float32)"
        );
        assert_eq!(NdArray::scalar(5i64).to_string(), "array(5)");
        let big = NdArray::arange(2000, DType::I64).unwrap();
        assert_eq!(
            big.to_string(),
            "array([   0,    1,    2, ..., 1997, 1998, 1999], shape=(2000,))"
        );
    }
}
