//! `as_strided` with arbitrary shape, strides and offset over a small buffer whose byte at
//! position p holds p. Properties: Ok exactly when every reachable byte is in the buffer, and
//! then every element reads the byte the naive offset formula names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndstride::{DType, NdArray};

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let len = data[0] as usize % 64;
    let ndim = data[1] as usize % 5;
    let offset = data[2] as i8 as isize;
    let rest = &data[3..];
    if rest.len() < 2 * ndim {
        return;
    }
    let shape: Vec<usize> = (0..ndim).map(|k| rest[k] as usize % 6).collect();
    let strides: Vec<isize> = (0..ndim).map(|k| rest[ndim + k] as i8 as isize).collect();
    let buf = NdArray::from_vec((0..len as u8).collect::<Vec<u8>>(), &[len]).unwrap();
    let got = buf.as_strided_at(&shape, &strides, offset);
    // Naive model: enumerate every index.
    let mut positions = vec![];
    let mut idx = vec![0usize; ndim];
    let empty = shape.contains(&0);
    if !empty {
        loop {
            positions.push(
                offset
                    + idx
                        .iter()
                        .zip(&strides)
                        .map(|(&i, &s)| i as isize * s)
                        .sum::<isize>(),
            );
            let mut k = ndim;
            let mut done = true;
            while k > 0 {
                k -= 1;
                idx[k] += 1;
                if idx[k] < shape[k] {
                    done = false;
                    break;
                }
                idx[k] = 0;
            }
            if done {
                break;
            }
        }
    }
    let inside = offset >= 0
        && offset as usize <= len
        && positions.iter().all(|&p| p >= 0 && (p as usize) < len);
    assert_eq!(
        got.is_ok(),
        inside,
        "shape {shape:?} strides {strides:?} offset {offset} len {len}"
    );
    if let Ok(v) = got {
        let vals = v.to_vec::<u8>().unwrap();
        let want: Vec<u8> = positions.iter().map(|&p| p as u8).collect();
        assert_eq!(vals, want);
        let _ = v.as_strided(&[1], &[0]);
        let _ = DType::U8;
    }
});
