//! The CUDA back end at the shapes (n, m, d) = (16384, 16384, 64), (65536, 65536, 128),
//! (16384, 16384, 1024), float32: cityblock and sqeuclidean from host arrays (transfers
//! included, as a user's cdist call pays them; also through a small device memory budget, the
//! streamed path) and from device arrays (kernel and the output's allocation only). Peers in the same session: `scripts/gpu_peers.py`
//! (torch.cdist p=1 and p=2, CuPy's matmul trick). Prints "SKIPPED" without a GPU.
//! Run: `cargo bench --bench cuda` (built here and run there by `scripts/gpu-check.sh`).

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ndstride::device::Device;
use ndstride::distance::{Backend, CdistOptions, Metric, cdist_device, cdist_with};
use ndstride::{DType, NdArray};

fn bench(c: &mut Criterion) {
    let device = match Device::new(0) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("SKIPPED: {e}");
            return;
        }
    };
    let info = device.info().unwrap();
    eprintln!("{info:?}");
    let mut g = c.benchmark_group("cuda_f32");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(5));
    let opts = CdistOptions::new()
        .backend(Backend::Cuda)
        .out_dtype(DType::F32);
    for (n, d) in [(16384usize, 64usize), (65536, 128), (16384, 1024)] {
        let x = NdArray::uniform(&[n, d], -1.0, 1.0, 1, DType::F32).unwrap();
        let dx = x.to_device(&device).unwrap();
        g.throughput(Throughput::Elements((n * n * d) as u64));
        for metric in [Metric::Cityblock, Metric::SqEuclidean] {
            let id = format!("{metric} {n}x{n}x{d}");
            g.bench_function(BenchmarkId::new("device", &id), |b| {
                b.iter(|| {
                    let out = cdist_device(&dx, &dx, &metric, &opts).unwrap();
                    device.synchronize().unwrap();
                    drop(out)
                })
            });
            // The 65536² host result is 17 GB: time it from device arrays only.
            if n <= 16384 {
                g.bench_function(BenchmarkId::new("host", &id), |b| {
                    b.iter(|| drop(cdist_with(&x, &x, &metric, &opts).unwrap()))
                });
            }
            // The same through a 256 MiB device budget: the 1 GiB output streams in blocks on
            // two streams, copies overlapping kernels (compare with "host" above).
            if (n, d) == (16384, 64) {
                let small = opts.clone().device_memory(256 << 20);
                g.bench_function(BenchmarkId::new("host, 256 MiB budget", &id), |b| {
                    b.iter(|| drop(cdist_with(&x, &x, &metric, &small).unwrap()))
                });
            }
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
