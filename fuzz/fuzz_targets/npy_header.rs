//! `.npy` parsing from arbitrary bytes. Properties: a header that parses is self-consistent
//! and survives an encode/parse round trip; a file that loads has exactly the promised shape,
//! dtype and byte count; nothing panics or allocates before the length checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndstride::io::{NpyHeader, load_npy};

fuzz_target!(|data: &[u8]| {
    let Ok(h) = NpyHeader::read_from(&mut &data[..]) else {
        return;
    };
    assert!(
        h.data_offset <= data.len(),
        "header claims more bytes than it read"
    );
    assert!(h.data_offset <= 12 + ndstride::io::MAX_HEADER_LEN);
    let size: usize = h.shape.iter().product();
    assert_eq!(h.data_len(), size * h.dtype.itemsize());
    let again =
        NpyHeader::read_from(&mut &NpyHeader::encode(h.dtype, h.fortran_order, &h.shape)[..])
            .unwrap();
    assert_eq!(
        (again.dtype, again.fortran_order, &again.shape),
        (h.dtype, h.fortran_order, &h.shape)
    );

    let path = std::env::temp_dir().join(format!("ndstride-fuzz-{}.npy", std::process::id()));
    std::fs::write(&path, data).unwrap();
    match load_npy(&path) {
        Ok(a) => {
            assert_eq!((a.shape(), a.dtype()), (&h.shape[..], h.dtype));
            assert_eq!(a.nbytes(), h.data_len());
            assert!(
                data.len() - h.data_offset >= h.data_len(),
                "loaded more data than the file has"
            );
            assert_eq!(a.to_vec_f64().unwrap().len(), size);
        }
        Err(_) => assert!(
            data.len() - h.data_offset < h.data_len(),
            "a complete file must load"
        ),
    }
});
