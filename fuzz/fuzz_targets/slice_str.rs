//! NumPy index text from arbitrary bytes. Properties: parsing never panics; a view that results
//! holds only elements of the source (values are their own flat positions) and as many as its
//! shape says.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndstride::{DType, NdArray};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(info) = ndstride::layout::parse_slice_str(&text) else {
        return;
    };
    let a = NdArray::arange(60, DType::I64)
        .unwrap()
        .reshape(&[3, 4, 5])
        .unwrap();
    let Ok(v) = a.slice(info) else { return };
    let vals = v.to_vec::<i64>().unwrap();
    assert_eq!(vals.len(), v.shape().iter().product::<usize>());
    assert!(vals.iter().all(|x| (0..60).contains(x)));
    // Slicing never repeats an element unless a length-1 new axis does (it cannot): distinct.
    let mut sorted = vals.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), vals.len());
});
