//! The no-argument demo: NumPy's "one buffer + metadata" lesson on built-in data, with the copy
//! counter proving which operations copy, then the price of a copy that has to transpose.

use std::time::Instant;

use ndstride::{CopyStats, DType, NdArray, Order, s, shares_memory};

fn show(
    label: &str,
    base: &NdArray,
    f: impl FnOnce() -> ndstride::Result<NdArray>,
) -> ndstride::Result<NdArray> {
    let (r, stats) = CopyStats::scope(f);
    let r = r?;
    let copied = if stats.is_metadata_only() {
        "metadata only".to_string()
    } else {
        format!("COPIED {} bytes", stats.bytes_copied)
    };
    println!(
        "{label:<22} shape={:<9} strides={:<10} offset={:<2} C={:<5} F={:<5} shares={:<5} {copied}",
        ndstride::error::shape_str(r.shape()),
        ndstride::error::strides_str(r.strides()),
        r.offset(),
        r.flags().c_contiguous,
        r.flags().f_contiguous,
        shares_memory(base, &r),
    );
    Ok(r)
}

pub fn run() -> ndstride::Result<()> {
    println!("ndstride demo: one data buffer, many views\n");
    let a = NdArray::arange(9, DType::I8)?.reshape(&[3, 3])?;
    println!(
        "a = np.arange(9, dtype=np.int8).reshape(3, 3)\n{a}\n{}\n",
        a.info()
    );
    show("a.T", &a, || Ok(a.t()))?;
    show("a[::2]", &a, || a.slice(s![..;2]))?;
    show("a[:, ::-1]", &a, || a.slice(s![.., ..;-1]))?;
    show("a[1:, ::2]", &a, || a.slice_str("1:, ::2"))?;
    show("a[None, 1]", &a, || a.slice_str("None, 1"))?;
    show("a.diagonal()", &a, || a.diagonal(0, 0, 1))?;
    show("broadcast_to(a[0],(4,3))", &a, || {
        a.slice(s![0])?.broadcast_to(&[4, 3])
    })?;
    show("a.T.reshape(3, 3)", &a, || a.t().reshape(&[3, 3]))?;
    show("a.T.reshape(9)", &a, || a.t().reshape(&[9]))?;
    show("a.T.ravel(order=F)", &a, || {
        a.t().reshape_order(&[9], Order::F)
    })?;
    show("a.view(uint8)[:, 1:]", &a, || {
        a.view_dtype(DType::U8)?.slice(s![.., 1..])
    })?;
    show("ascontiguousarray(a.T)", &a, || {
        Ok(a.t().to_contiguous(Order::C))
    })?;

    let n = 4096;
    println!(
        "\nCopies that must reorder memory ({n}x{n} float64, {} MiB):",
        (n * n * 8) >> 20
    );
    let x = NdArray::uniform(&[n, n], 0.0, 1.0, 7, DType::F64)?;
    let gbps = |label: &str, f: &dyn Fn() -> NdArray| {
        let bytes = f().nbytes();
        let reps = 5;
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(f());
        }
        let secs = t.elapsed().as_secs_f64() / reps as f64;
        println!(
            "  {label:<34} {:>7.2} ms  {:>6.1} GB/s (read + write)",
            secs * 1e3,
            2.0 * bytes as f64 / secs / 1e9
        );
    };
    gbps("x.copy()   (contiguous memcpy)", &|| {
        x.copy().expect("memory")
    });
    gbps("x.T.to_contiguous(C) (tiled)", &|| {
        x.t().to_contiguous(Order::C)
    });
    gbps("x[:, ::2].copy() (strided rows)", &|| {
        x.slice(s![.., ..;2])
            .expect("valid")
            .copy()
            .expect("memory")
    });
    println!("\nRun `ndstride info FILE.npy` to inspect a file's metadata without loading it.");
    Ok(())
}
