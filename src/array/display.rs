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
        // Read only the elements that will be shown (a summarised 28 GB memory map reads a few
        // dozen), in the order `render` visits them, and size the columns from them.
        let mut shown = Vec::new();
        collect_shown(&picks, &mut vec![], &mut shown);
        let values: Vec<f64> = shown.iter().map(|idx| self.element_f64(idx)).collect();
        let fmt_elem = ElementFormat::new(self.dtype, values.iter().copied());
        let texts: Vec<String> = if self.dtype.is_float() || self.dtype == DType::Bool {
            values.iter().map(|&v| fmt_elem.format(v)).collect()
        } else {
            // Integers print from their exact value: f64 would round beyond 2^53.
            shown
                .iter()
                .map(|idx| self.element_i128(idx).to_string())
                .collect()
        };
        let width = texts.iter().map(|t| t.len()).max().unwrap_or(1);
        let prefix = "array(";
        let mut body = String::new();
        render(
            &mut body,
            shape,
            &picks,
            0,
            &mut texts.iter(),
            width,
            prefix.len(),
        );
        let mut extras = Vec::new();
        if summarise {
            // NumPy 2 names the shape of an array it did not print in full.
            extras.push(format!("shape={}", shape_str(shape)));
        }
        if !implicit_dtype {
            extras.push(format!("dtype={}", self.dtype));
        }
        if extras.is_empty() {
            return write!(f, "{prefix}{body})");
        }
        let head = format!("{prefix}{body},");
        let extra = format!("{})", extras.join(", "));
        let last_line = head.len() - head.rfind('\n').map_or(0, |p| p + 1);
        let spacer = if last_line + extra.len() + 1 > LINE_WIDTH {
            format!("\n{}", " ".repeat(prefix.len()))
        } else {
            " ".into()
        };
        write!(f, "{head}{spacer}{extra}")
    }
}

/// Multi-indices of the printed elements, in C order.
fn collect_shown(picks: &[Vec<Option<usize>>], prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    let axis = prefix.len();
    if axis == picks.len() {
        out.push(prefix.clone());
        return;
    }
    for &i in picks[axis].iter().flatten() {
        prefix.push(i);
        collect_shown(picks, prefix, out);
        prefix.pop();
    }
}

/// Writes the nested brackets, taking the formatted elements from `texts` in C order. Rows
/// wrap as NumPy's `_formatArray` wraps them: a line may not pass `LINE_WIDTH - 2` columns
/// before a separator, or `LINE_WIDTH - 1` before the closing bracket.
fn render(
    out: &mut String,
    shape: &[usize],
    picks: &[Vec<Option<usize>>],
    axis: usize,
    texts: &mut std::slice::Iter<'_, String>,
    width: usize,
    indent: usize,
) {
    if axis == shape.len() {
        out.push_str(&format!(
            "{:>width$}",
            texts.next().map(String::as_str).unwrap_or("?")
        ));
        return;
    }
    out.push('[');
    let last_axis = axis + 1 == shape.len();
    let hang = indent + axis;
    let mut line_len = hang + 1;
    let n = picks[axis].len();
    for (k, p) in picks[axis].iter().enumerate() {
        if k > 0 {
            out.push(',');
            if last_axis {
                let word = if p.is_some() { width } else { 3 };
                let limit = if k + 1 == n {
                    LINE_WIDTH - 1
                } else {
                    LINE_WIDTH - 2
                };
                if line_len + 2 + word > limit {
                    out.push('\n');
                    out.push_str(&" ".repeat(hang + 1));
                    line_len = hang + 1;
                } else {
                    out.push(' ');
                    line_len += 2;
                }
            } else {
                // One blank line per axis level beyond the rows, as NumPy separates blocks.
                out.push_str(&"\n".repeat(shape.len() - axis - 1));
                out.push_str(&" ".repeat(hang + 1));
            }
        }
        if p.is_some() {
            let before = out.len();
            render(out, shape, picks, axis + 1, texts, width, indent);
            line_len += out.len() - before;
        } else {
            out.push_str("...");
            line_len += 3;
        }
    }
    out.push(']');
}

/// How one array's elements print: NumPy picks one style for the whole array, and digits are
/// the shortest that round-trip *in the array's own float type* (at most 8 after the point).
struct ElementFormat {
    style: Style,
    single: bool,
}

enum Style {
    Bool,
    Int,
    /// All finite values integral: `1.`, `-2.`
    FloatIntegral,
    /// Positional, padded on the right to `frac` fraction digits.
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
        let single = dtype == DType::F32;
        let style = if dtype == DType::Bool {
            Style::Bool
        } else if !dtype.is_float() {
            Style::Int
        } else {
            let finite: Vec<f64> = shown.filter(|v| v.is_finite()).collect();
            let max = finite.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            let min_nz = finite
                .iter()
                .filter(|v| **v != 0.0)
                .fold(f64::INFINITY, |m, v| m.min(v.abs()));
            if max >= 1e16 || min_nz < 1e-4 || (min_nz.is_finite() && max / min_nz > 1e3) {
                let frac = finite
                    .iter()
                    .map(|v| sci_digits(*v, single).0.len().saturating_sub(1))
                    .max()
                    .unwrap_or(0);
                Style::FloatSci { frac }
            } else if finite.iter().all(|v| v.fract() == 0.0) {
                Style::FloatIntegral
            } else {
                Style::FloatFixed {
                    frac: finite
                        .iter()
                        .map(|v| fixed_fraction(*v, single).len())
                        .max()
                        .unwrap_or(0),
                }
            }
        };
        ElementFormat { style, single }
    }

    fn format(&self, v: f64) -> String {
        match self.style {
            Style::Bool => if v != 0.0 { "True" } else { "False" }.to_string(),
            Style::Int => format!("{v}"),
            _ if v.is_nan() => "nan".to_string(),
            _ if v.is_infinite() => if v > 0.0 { "inf" } else { "-inf" }.to_string(),
            Style::FloatIntegral => format!("{}.", v.trunc() as i128),
            Style::FloatFixed { frac } => {
                let digits = fixed_fraction(v, self.single);
                let int = format!("{}{}", if v < 0.0 { "-" } else { "" }, v.abs().trunc());
                format!(
                    "{int}.{digits}{}",
                    " ".repeat(frac.saturating_sub(digits.len()))
                )
            }
            Style::FloatSci { frac } => {
                let (mantissa, exp) = sci_digits(v, self.single);
                let (first, rest) = mantissa.split_at(1.min(mantissa.len()));
                let sign = if v < 0.0 { "-" } else { "" };
                let esign = if exp < 0 { '-' } else { '+' };
                format!(
                    "{sign}{first}.{rest}{}e{esign}{:02}",
                    "0".repeat(frac.saturating_sub(rest.len())),
                    exp.abs()
                )
            }
        }
    }
}

/// Fraction digits of `|v|`: the shortest round-trip digits of its float type, or the value
/// rounded to 8 places when those are longer; trailing zeros removed.
fn fixed_fraction(v: f64, single: bool) -> String {
    let shortest = if single {
        format!("{}", (v as f32).abs())
    } else {
        format!("{}", v.abs())
    };
    let frac = shortest.split('.').nth(1).unwrap_or("");
    let frac = if frac.len() > 8 {
        format!("{:.8}", v.abs())
            .split('.')
            .nth(1)
            .unwrap_or("")
            .to_string()
    } else {
        frac.to_string()
    };
    frac.trim_end_matches('0').to_string()
}

/// Mantissa digits (shortest round-trip, at most 9 significant) and decimal exponent.
fn sci_digits(v: f64, single: bool) -> (String, i32) {
    if v == 0.0 {
        return ("0".to_string(), 0);
    }
    let shortest = if single {
        format!("{:e}", (v as f32).abs())
    } else {
        format!("{:e}", v.abs())
    };
    let (m, _) = shortest.split_once('e').unwrap_or((&shortest, "0"));
    let s = if m.chars().filter(|c| c.is_ascii_digit()).count() > 9 {
        format!("{:.8e}", v.abs())
    } else {
        shortest.clone()
    };
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: String = m.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0');
    (
        if digits.is_empty() {
            "0".to_string()
        } else {
            digits.to_string()
        },
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
        // Texts below are NumPy 2.4's reprs of the same arrays.
        let t = NdArray::arange(12, DType::I64)
            .unwrap()
            .reshape(&[2, 2, 3])
            .unwrap();
        assert_eq!(
            t.to_string(),
            "array([[[ 0,  1,  2],\n        [ 3,  4,  5]],\n\n       [[ 6,  7,  8],\n        [ 9, 10, 11]]])"
        );
        let s = NdArray::arange(2000, DType::I64)
            .unwrap()
            .reshape(&[40, 50])
            .unwrap();
        assert_eq!(
            s.to_string(),
            "array([[   0,    1,    2, ...,   47,   48,   49],\n       [  50,   51,   52, ...,   97,   98,   99],\n       [ 100,  101,  102, ...,  147,  148,  149],\n       ...,\n       [1850, 1851, 1852, ..., 1897, 1898, 1899],\n       [1900, 1901, 1902, ..., 1947, 1948, 1949],\n       [1950, 1951, 1952, ..., 1997, 1998, 1999]], shape=(40, 50))"
        );
        let f =
            NdArray::from_vec((0..30).map(|i| i as f32 / 7.0).collect::<Vec<_>>(), &[30]).unwrap();
        assert_eq!(
            f.to_string(),
            "array([0.        , 0.14285715, 0.2857143 , 0.42857143, 0.5714286 ,\n       0.71428573, 0.85714287, 1.        , 1.1428572 , 1.2857143 ,\n       1.4285715 , 1.5714285 , 1.7142857 , 1.8571428 , 2.        ,\n       2.142857  , 2.2857144 , 2.4285715 , 2.5714285 , 2.7142856 ,\n       2.857143  , 3.        , 3.142857  , 3.2857144 , 3.4285715 ,\n       3.5714285 , 3.7142856 , 3.857143  , 4.        , 4.142857  ],\n      dtype=float32)"
        );
        // Integers beyond 2^53 keep every digit (NumPy: array([18446744073709551615, 1], dtype=uint64)).
        let wide = NdArray::from_vec(vec![u64::MAX, 1], &[2]).unwrap();
        assert_eq!(
            wide.to_string(),
            "array([18446744073709551615,                    1], dtype=uint64)"
        );
        let odd = NdArray::from_vec(vec![9007199254740993i64], &[1]).unwrap();
        assert_eq!(odd.to_string(), "array([9007199254740993])");
        let big = NdArray::arange(2000, DType::I64).unwrap();
        assert_eq!(
            big.to_string(),
            "array([   0,    1,    2, ..., 1997, 1998, 1999], shape=(2000,))"
        );
    }
}
