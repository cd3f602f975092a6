//! Parses NumPy index text such as `"1::2, ::-1, None, 3, ..."` into a [`SliceInfo`].
//! Any text that is not a valid basic index gives an error with the character position.

use super::{SliceInfo, SliceItem};
use crate::error::{Error, Result};

/// Parses a NumPy-style index expression. Accepted items, separated by commas: integers
/// (optionally signed), `start:stop:step` with any part omitted, `None`/`newaxis`/`np.newaxis`,
/// and `...`. Surrounding whitespace is ignored; an empty string means "everything".
pub fn parse_slice_str(text: &str) -> Result<SliceInfo> {
    let err = |pos: usize, msg: &str| Error::SliceParse {
        text: text.to_string(),
        pos,
        msg: msg.to_string(),
    };
    let mut items = Vec::new();
    if text.trim().is_empty() {
        return Ok(SliceInfo::new(items));
    }
    let mut pos = 0usize;
    let parts: Vec<&str> = text.split(',').collect();
    let last = parts.len() - 1;
    for (k, raw) in parts.iter().enumerate() {
        let start_pos = pos + (raw.len() - raw.trim_start().len());
        pos += raw.len() + 1;
        let item = raw.trim();
        if item.is_empty() {
            // A single trailing comma is Python's tuple syntax ("1," is (1,)); others are errors.
            if k == last && k > 0 {
                continue;
            }
            return Err(err(start_pos, "empty index item"));
        }
        let parsed = match item {
            "..." => SliceItem::Ellipsis,
            "None" | "newaxis" | "np.newaxis" | "numpy.newaxis" => SliceItem::NewAxis,
            _ if item.contains(':') => {
                let fields: Vec<&str> = item.split(':').collect();
                if fields.len() > 3 {
                    return Err(err(start_pos, "a slice has at most two ':'"));
                }
                let mut vals = [None, None, None];
                let mut fpos = start_pos;
                for (v, f) in vals.iter_mut().zip(&fields) {
                    let inner = fpos + (f.len() - f.trim_start().len());
                    *v = parse_opt_int(f.trim()).map_err(|m| err(inner, m))?;
                    fpos += f.len() + 1;
                }
                let step = vals[2].unwrap_or(1);
                if step == 0 {
                    return Err(err(start_pos, "slice step cannot be zero"));
                }
                SliceItem::Slice {
                    start: vals[0],
                    stop: vals[1],
                    step,
                }
            }
            _ => SliceItem::Index(
                parse_opt_int(item)
                    .map_err(|m| err(start_pos, m))?
                    .ok_or_else(|| err(start_pos, "expected an index"))?,
            ),
        };
        items.push(parsed);
    }
    Ok(SliceInfo::new(items))
}

fn parse_opt_int(s: &str) -> std::result::Result<Option<isize>, &'static str> {
    if s.is_empty() || s == "None" {
        return Ok(None);
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        || digits.starts_with('_')
    {
        return Err("expected an integer, ':', '...' or None");
    }
    let clean: String = s.chars().filter(|&c| c != '_').collect();
    clean
        .parse::<isize>()
        .map(Some)
        .map_err(|_| "integer does not fit in isize")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numpy_text() {
        let s = parse_slice_str("1::2, ::-1, None, 3, ...").unwrap();
        assert_eq!(
            s.items,
            vec![
                SliceItem::Slice {
                    start: Some(1),
                    stop: None,
                    step: 2
                },
                SliceItem::Slice {
                    start: None,
                    stop: None,
                    step: -1
                },
                SliceItem::NewAxis,
                SliceItem::Index(3),
                SliceItem::Ellipsis,
            ]
        );
        assert_eq!(
            parse_slice_str(" -1 ,").unwrap().items,
            vec![SliceItem::Index(-1)]
        );
        assert_eq!(parse_slice_str(":").unwrap().items.len(), 1);
    }

    #[test]
    fn rejects_bad_text() {
        for bad in [
            "1:2:3:4",
            "a",
            "1,,2",
            "::0",
            "--1",
            "1.5",
            "99999999999999999999999",
            ",",
            "_1",
            "+",
            "1 2",
        ] {
            assert!(parse_slice_str(bad).is_err(), "{bad:?} should fail");
        }
        let e = parse_slice_str("0, x").unwrap_err().to_string();
        assert!(e.contains("character 3"), "{e}");
    }
}
