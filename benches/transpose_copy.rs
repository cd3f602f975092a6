//! Copies that reorder memory, ndstride beside ndarray in one run: `t().to_contiguous(C)` vs
//! ndarray's `t().as_standard_layout()`, plus the contiguous copy both do with memcpy.
//! Throughput counts bytes read + written. Run: `cargo bench --bench transpose_copy`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndstride::{DType, NdArray, Order};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("copy_f64");
    g.sample_size(20);
    for n in [256usize, 1024, 4096] {
        let x = NdArray::uniform(&[n, n], 0.0, 1.0, 1, DType::F64).unwrap();
        let y = ndarray::Array2::from_shape_vec((n, n), x.to_vec::<f64>().unwrap()).unwrap();
        g.throughput(Throughput::Bytes(2 * (n * n * 8) as u64));
        g.bench_with_input(
            BenchmarkId::new("ndstride t().to_contiguous(C)", n),
            &n,
            |b, _| b.iter(|| x.t().to_contiguous(Order::C)),
        );
        g.bench_with_input(
            BenchmarkId::new("ndarray t().as_standard_layout()", n),
            &n,
            |b, _| b.iter(|| y.t().as_standard_layout().into_owned()),
        );
        g.bench_with_input(BenchmarkId::new("ndstride copy()", n), &n, |b, _| {
            b.iter(|| x.copy().unwrap())
        });
        g.bench_with_input(BenchmarkId::new("ndarray to_owned()", n), &n, |b, _| {
            b.iter(|| y.to_owned())
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
