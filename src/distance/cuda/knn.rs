//! The fused kNN on the GPU (kernels/cdist.cu, `knn_rows`): distance tiles folded into
//! per-row top-k lists, the matrix never written out. Query rows go through the device in
//! blocks whose lists stay there while B passes, all at once or, when B does not fit the
//! device memory budget, in blocks of its rows ([`KnnSchedule`]).

use cudarc::driver::{CudaView, DeviceRepr, LaunchConfig, PushKernelArg, ValidAsZeroBits};

use super::as_i32;
use super::blocks::{KNN_ROWS, KnnSchedule, Problem, THREADS, type_name};
use super::plan::{GpuPlan, RowSide, row_side};
use super::source::CDIST_CU;
use super::streamed::{HostRows, upload};
use crate::array::try_vec;
use crate::device::{Device, cuda_error};
use crate::dtype::Element;
use crate::error::{Error, Result};

/// The `k` nearest rows of `b` for every row of `a` (prepared rows, `d` features each) by
/// `plan`'s kNN kernel within `budget` device bytes: `(indices, distances)`, row-major `n × k`.
pub(super) fn run<T: Element + DeviceRepr + ValidAsZeroBits>(
    device: &Device,
    a: &HostRows<T>,
    b: &HostRows<T>,
    k: usize,
    plan: &GpuPlan,
    (n, m, d): (usize, usize, usize),
    budget: usize,
) -> Result<(Vec<i64>, Vec<f64>)> {
    if n == 0 {
        return Ok((vec![], vec![]));
    }
    let problem = Problem {
        n,
        m,
        d,
        elem_bytes: size_of::<T>(),
        out_bytes: 0,
    };
    let schedule = KnnSchedule::new(problem, k, budget).map_err(|needed| {
        Error::Cuda(format!(
            "the {k} nearest of {m} rows of {d} features need about {needed} bytes of device \
             memory, the budget is {budget} (CdistOptions::device_memory, default half the \
             free memory)"
        ))
    })?;
    let uses_side = row_side(plan.post) != RowSide::Unused;
    let stream = device.stream();
    let alloc = cuda_error("allocating the kNN buffers");
    // A zero-byte allocation is an error in CUDA: every buffer holds at least one entry.
    let (rows, cols) = (schedule.rows, schedule.cols);
    let mut a_dev = stream.alloc_zeros::<T>((rows * d).max(1)).map_err(&alloc)?;
    let mut a_sides = stream.alloc_zeros::<f64>(rows).map_err(&alloc)?;
    let mut b_dev = stream.alloc_zeros::<T>((cols * d).max(1)).map_err(&alloc)?;
    let mut b_sides = stream.alloc_zeros::<f64>(cols).map_err(&alloc)?;
    let mut dist_dev = stream
        .alloc_zeros::<f64>((rows * k).max(1))
        .map_err(&alloc)?;
    let mut idx_dev = stream
        .alloc_zeros::<i64>((rows * k).max(1))
        .map_err(&alloc)?;
    let func = device.function(
        &CDIST_CU,
        &format!("knn_{}_{}", type_name(T::DTYPE), plan.op),
    )?;
    let lists = crate::layout::checked_nbytes(&[n, k], 8)? / 8;
    let (mut dist, mut idx) = (try_vec::<f64>(lists)?, try_vec::<i64>(lists)?);
    let (d32, k32) = (as_i32(d, "d")?, as_i32(k, "k")?);
    let mut b_at = None;
    for blk in schedule.blocks(n, m) {
        if blk.c0 == 0 {
            upload(stream, &a.rows[blk.a_elems(d)], &mut a_dev)?;
            upload(stream, &a.sides[blk.a_sides(uses_side)], &mut a_sides)?;
        }
        if b_at != Some(blk.c0) {
            upload(stream, &b.rows[blk.b_elems(d)], &mut b_dev)?;
            upload(stream, &b.sides[blk.b_sides(uses_side)], &mut b_sides)?;
            b_at = Some(blk.c0);
        }
        let cfg = LaunchConfig {
            grid_dim: (blk.rows.div_ceil(KNN_ROWS) as u32, 1, 1),
            block_dim: (THREADS, 1, 1),
            shared_mem_bytes: 0,
        };
        let (rows32, cols32) = (as_i32(blk.rows, "rows")?, as_i32(blk.cols, "columns")?);
        let (col_base, fresh) = (blk.c0 as i64, i32::from(blk.c0 == 0));
        let (a_view, b_view): (CudaView<'_, T>, CudaView<'_, T>) =
            (a_dev.slice(..), b_dev.slice(..));
        let post_code = plan.post.code();
        let mut launch = stream.launch_builder(&func);
        launch
            .arg(&a_view)
            .arg(&b_view)
            .arg(&rows32)
            .arg(&cols32)
            .arg(&d32)
            .arg(&k32)
            .arg(&plan.p)
            .arg(&post_code)
            .arg(&a_sides)
            .arg(&b_sides)
            .arg(&mut dist_dev)
            .arg(&mut idx_dev)
            .arg(&col_base)
            .arg(&fresh);
        // SAFETY: the arguments match knn_T_OP in kernels/cdist.cu: const T* A of
        // blk.rows × d (a_dev holds schedule.rows ≥ blk.rows rows, uploaded at the row
        // block's first launch), const T* B of blk.cols × d (b_dev holds this column block),
        // the sizes, p, post, the row sides of these rows and columns when the post code reads
        // them (one-entry placeholders otherwise), double* and long long* lists of rows × k
        // each (kept between the launches of a row block, emptied by the first, `fresh`), and
        // the block's first column; the grid has one block per 64 rows and the kernel checks
        // every row against rows and every column against cols.
        unsafe { launch.launch(cfg) }.map_err(cuda_error("launching the kNN kernel"))?;
        if blk.c0 + blk.cols == m {
            let down = cuda_error("copying neighbours from the device");
            let lists = blk.r0 * k..(blk.r0 + blk.rows) * k;
            let len = blk.rows * k;
            stream
                .memcpy_dtoh(&dist_dev.slice(..len), &mut dist[lists.clone()])
                .map_err(&down)?;
            stream
                .memcpy_dtoh(&idx_dev.slice(..len), &mut idx[lists])
                .map_err(&down)?;
        }
    }
    Ok((idx, dist))
}
