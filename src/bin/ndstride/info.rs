//! `ndstride info FILE.npy [--json]`.

use std::path::Path;

use ndstride::error::{shape_str, strides_str};
use ndstride::io::read_npy_header;

pub fn run(path: &Path, json: bool) -> ndstride::Result<()> {
    let h = read_npy_header(path)?;
    let strides = h.strides();
    let order = if h.fortran_order { "F" } else { "C" };
    let size: usize = h.shape.iter().product();
    let descr = format!(
        "{}{}{}",
        if h.big_endian {
            '>'
        } else if h.dtype.itemsize() == 1 {
            '|'
        } else {
            '<'
        },
        h.dtype.kind(),
        h.dtype.itemsize()
    );
    if json {
        let v = serde_json::json!({
            "file": path.display().to_string(),
            "version": format!("{}.{}", h.version.0, h.version.1),
            "dtype": h.dtype.name(),
            "descr": descr,
            "shape": h.shape,
            "strides": strides,
            "fortran_order": h.fortran_order,
            "order": order,
            "size": size,
            "nbytes": h.data_len(),
            "itemsize": h.dtype.itemsize(),
            "data_offset": h.data_offset,
        });
        println!("{v}");
    } else {
        println!("file:        {}", path.display());
        println!("version:     {}.{}", h.version.0, h.version.1);
        println!("dtype:       {} ({descr})", h.dtype);
        println!("shape:       {}", shape_str(&h.shape));
        println!("strides:     {} bytes", strides_str(&strides));
        println!("order:       {order}");
        println!("size:        {size} elements, {} bytes", h.data_len());
        println!("data offset: {} bytes", h.data_offset);
    }
    Ok(())
}
