//! cdist of host arrays on the GPU, streamed through a device memory budget: the output is
//! cut into blocks of rows and columns ([`Schedule`]); each block's rows of A (and of B,
//! when B does not stay on the device) are uploaded with it, and its distances come back
//! through a pinned staging buffer. Two streams take the blocks in turn, so that one block's
//! copy to the host, and the host's copy of it into the result, overlap the next block's
//! kernel.

use std::sync::Arc;

use cudarc::driver::{
    CudaEvent, CudaSlice, CudaStream, CudaView, DeviceRepr, LaunchConfig, PinnedHostSlice,
    PushKernelArg, ValidAsZeroBits,
};
use rayon::prelude::*;

use super::as_i32;
use super::blocks::{OutBlock, Problem, STAGING_BYTES, Schedule, THREADS, cdist_kernel, tile};
use super::plan::{GpuPlan, RowSide, prepared_rows, row_side};
use super::source::CDIST_CU;
use crate::array::{NdArray, try_vec};
use crate::device::{Device, cuda_error};
use crate::dtype::Element;
use crate::error::{Error, Result};

/// Prepared rows (row-major, `d` per row) and their row sides, on the host.
pub(super) struct HostRows<T> {
    pub(super) rows: Vec<T>,
    pub(super) sides: Vec<f64>,
}

impl<T: Element> HostRows<T> {
    /// The rows of `x` as `plan`'s kernel reads them ([`prepared_rows`]).
    pub(super) fn prepare(x: &NdArray, d: usize, plan: &GpuPlan) -> Result<Self> {
        let (rows, sides) = prepared_rows::<T>(x, d, plan)?;
        Ok(HostRows { rows, sides })
    }
}

/// Where a block's inputs lie in the prepared host rows.
impl OutBlock {
    /// Elements of A's rows of this block.
    pub(super) fn a_elems(&self, d: usize) -> std::ops::Range<usize> {
        self.r0 * d..(self.r0 + self.rows) * d
    }
    /// Elements of B's rows of this block.
    pub(super) fn b_elems(&self, d: usize) -> std::ops::Range<usize> {
        self.c0 * d..(self.c0 + self.cols) * d
    }
    /// A's row sides of this block, or the one-entry placeholder when the kernel reads none.
    pub(super) fn a_sides(&self, uses_side: bool) -> std::ops::Range<usize> {
        if uses_side {
            self.r0..self.r0 + self.rows
        } else {
            0..1
        }
    }
    /// B's row sides of this block, or the one-entry placeholder.
    pub(super) fn b_sides(&self, uses_side: bool) -> std::ops::Range<usize> {
        if uses_side {
            self.c0..self.c0 + self.cols
        } else {
            0..1
        }
    }
}

/// One stream and the device and host buffers its blocks use, in turn with the other lane.
struct Lane<T, O> {
    stream: Arc<CudaStream>,
    a: CudaSlice<T>,
    a_sides: CudaSlice<f64>,
    /// This lane's B rows and sides when B is not resident, and the column they start at.
    b: Option<(CudaSlice<T>, CudaSlice<f64>, Option<usize>)>,
    out: CudaSlice<O>,
    /// Page-locked host copy of `out`, so that the copy is asynchronous (none when the whole
    /// output is one block, copied straight into the result).
    staging: Option<PinnedHostSlice<O>>,
    /// The block whose distances are on their way into `staging`, and the event recorded
    /// after that copy.
    pending: Option<(OutBlock, CudaEvent)>,
}

impl<T: DeviceRepr + ValidAsZeroBits, O: DeviceRepr + ValidAsZeroBits> Lane<T, O> {
    fn new(stream: Arc<CudaStream>, s: &Schedule, d: usize, staged: bool) -> Result<Self> {
        let alloc = cuda_error("allocating a block's buffers on the device");
        // A zero-byte allocation is an error in CUDA: every buffer holds at least one entry.
        let a = stream
            .alloc_zeros::<T>((s.rows * d).max(1))
            .map_err(&alloc)?;
        let a_sides = stream.alloc_zeros::<f64>(s.rows).map_err(&alloc)?;
        let b = if s.b_resident {
            None
        } else {
            let rows = stream
                .alloc_zeros::<T>((s.cols * d).max(1))
                .map_err(&alloc)?;
            let sides = stream.alloc_zeros::<f64>(s.cols).map_err(&alloc)?;
            Some((rows, sides, None))
        };
        let out = stream.alloc_zeros::<O>(s.rows * s.cols).map_err(&alloc)?;
        let staging = if staged {
            // SAFETY: the buffer starts uninitialised; it is read only after `finish_block`'s
            // copy of the whole of `out` (zero-initialised, then written by kernels) has
            // filled all of it (the event waited for in `drain`).
            let pinned = unsafe {
                stream
                    .context()
                    .alloc_pinned_with_flags::<O>(s.rows * s.cols, 0)
            };
            Some(pinned.map_err(cuda_error("allocating a pinned staging buffer"))?)
        } else {
            None
        };
        Ok(Lane {
            stream,
            a,
            a_sides,
            b,
            out,
            staging,
            pending: None,
        })
    }

    /// Waits for this lane's last block and copies it into `host` (`n × m`, row-major).
    fn drain(&mut self, host: &mut [O], m: usize) -> Result<()>
    where
        O: Send + Sync + Copy,
    {
        let Some((blk, done)) = self.pending.take() else {
            return Ok(());
        };
        let wait = cuda_error("waiting for distances from the device");
        done.synchronize().map_err(&wait)?;
        let staged = match &self.staging {
            Some(s) => s.as_slice().map_err(&wait)?,
            None => {
                return Err(Error::Cuda(
                    "a staged block without a staging buffer".into(),
                ));
            }
        };
        place_block(host, m, &blk, staged);
        Ok(())
    }
}

/// Copies a block's distances (`blk.rows × blk.cols`, row-major, from the start of `block`)
/// into their place in `host` (`n × m`, row-major), rows in parallel.
pub(super) fn place_block<O: Copy + Send + Sync>(
    host: &mut [O],
    m: usize,
    blk: &OutBlock,
    block: &[O],
) {
    host[blk.r0 * m..(blk.r0 + blk.rows) * m]
        .par_chunks_mut(m)
        .zip(block.par_chunks(blk.cols))
        .for_each(|(dst, src)| dst[blk.c0..blk.c0 + blk.cols].copy_from_slice(src));
}

pub(super) fn upload<T: DeviceRepr>(
    stream: &Arc<CudaStream>,
    src: &[T],
    dst: &mut CudaSlice<T>,
) -> Result<()> {
    if src.is_empty() {
        return Ok(());
    }
    // memcpy_htod asserts (panics) when the destination is shorter: say so as an error.
    if src.len() > dst.len() {
        return Err(Error::Cuda(format!(
            "internal: {} entries do not fit a device buffer of {}",
            src.len(),
            dst.len()
        )));
    }
    stream
        .memcpy_htod(src, &mut dst.slice_mut(..src.len()))
        .map_err(cuda_error("copying rows to the device"))
}

/// `n × m` distances between the prepared rows `a` and `b` (`d` features each) by `plan`'s
/// kernel, in blocks within `budget` device bytes.
pub(super) fn run<T, O>(
    device: &Device,
    a: &HostRows<T>,
    b: &HostRows<T>,
    plan: &GpuPlan,
    (n, m, d): (usize, usize, usize),
    budget: usize,
) -> Result<NdArray>
where
    T: Element + DeviceRepr + ValidAsZeroBits,
    O: Element + DeviceRepr + ValidAsZeroBits,
{
    if n == 0 || m == 0 {
        return NdArray::zeros(&[n, m], O::DTYPE);
    }
    let (bm, bn) = tile(T::DTYPE, plan.op);
    let problem = Problem {
        n,
        m,
        d,
        elem_bytes: size_of::<T>(),
        out_bytes: size_of::<O>(),
    };
    let schedule = Schedule::new(problem, budget, STAGING_BYTES, (bm, bn)).map_err(|needed| {
        Error::Cuda(format!(
            "a {n} x {m} distance matrix of {d} features needs at least {needed} bytes of \
             device memory, the budget is {budget} (CdistOptions::device_memory, default half \
             the free memory)"
        ))
    })?;
    let func = device.function(&CDIST_CU, &cdist_kernel(T::DTYPE, O::DTYPE, plan.op))?;
    let uses_side = row_side(plan.post) != RowSide::Unused;
    let main = device.stream();
    let up = cuda_error("copying rows to the device");
    // B uploaded once when it stays on the device; the lanes' streams, forked after, wait
    // for the upload.
    let resident_b = if schedule.b_resident {
        // A zero-byte allocation is an error in CUDA: no features (d = 0) upload one zero.
        let rows = if b.rows.is_empty() {
            &[T::zeroed()][..]
        } else {
            &b.rows[..]
        };
        Some((
            main.clone_htod(rows).map_err(&up)?,
            main.clone_htod(&b.sides).map_err(&up)?,
        ))
    } else {
        None
    };
    let blocks = schedule.blocks(n, m);
    let staged = blocks.len() > 1;
    let mut lanes = (0..schedule.lanes)
        .map(|_| {
            let stream = if staged {
                main.fork().map_err(cuda_error("creating a stream"))?
            } else {
                main.clone()
            };
            Lane::<T, O>::new(stream, &schedule, d, staged)
        })
        .collect::<Result<Vec<_>>>()?;
    // The result: an error, not an abort, when the host cannot hold it.
    let total = crate::layout::checked_nbytes(&[n, m], size_of::<O>())? / size_of::<O>();
    let mut host: Vec<O> = try_vec(total)?;
    let (d32, p, post) = (as_i32(d, "d")?, plan.p, plan.post.code());
    for (i, blk) in blocks.iter().enumerate() {
        let lanes_len = lanes.len();
        let lane = &mut lanes[i % lanes_len];
        // The lane's buffers are reused: its previous block must be in the result first.
        lane.drain(&mut host, m)?;
        upload(&lane.stream, &a.rows[blk.a_elems(d)], &mut lane.a)?;
        upload(
            &lane.stream,
            &a.sides[blk.a_sides(uses_side)],
            &mut lane.a_sides,
        )?;
        if let Some((rows, sides, at)) = &mut lane.b
            && *at != Some(blk.c0)
        {
            upload(&lane.stream, &b.rows[blk.b_elems(d)], rows)?;
            upload(&lane.stream, &b.sides[blk.b_sides(uses_side)], sides)?;
            *at = Some(blk.c0);
        }
        let (b_rows, b_sides): (CudaView<'_, T>, CudaView<'_, f64>) = match (&resident_b, &lane.b) {
            (Some((rows, sides)), _) => (
                rows.slice((blk.c0 * d).min(rows.len() - 1)..),
                sides.slice(blk.b_sides(uses_side)),
            ),
            (None, Some((rows, sides, _))) => (rows.slice(..), sides.slice(..)),
            (None, None) => return Err(Error::Cuda("internal: a lane without B rows".into())),
        };
        let grid = blk.grid((bm, bn));
        let cfg = LaunchConfig {
            grid_dim: (grid.0, grid.1, 1),
            block_dim: (THREADS, 1, 1),
            shared_mem_bytes: 0,
        };
        let (rows32, cols32, ldo) = (
            as_i32(blk.rows, "rows")?,
            as_i32(blk.cols, "columns")?,
            blk.cols as i64,
        );
        let mut launch = lane.stream.launch_builder(&func);
        launch
            .arg(&lane.a)
            .arg(&b_rows)
            .arg(&mut lane.out)
            .arg(&rows32)
            .arg(&cols32)
            .arg(&d32)
            .arg(&ldo)
            .arg(&p)
            .arg(&post)
            .arg(&lane.a_sides)
            .arg(&b_sides);
        // SAFETY: the arguments match cdist_T_O_OP in kernels/cdist.cu: const T* A of
        // blk.rows × d (lane.a holds schedule.rows ≥ blk.rows rows), const T* B of blk.cols × d
        // (the resident B from row c0, or the lane's block of it), O* out of blk.rows × blk.cols
        // with row stride ldo = blk.cols (lane.out holds schedule.rows × schedule.cols), the
        // sizes, p, post, and inv_a / inv_b of blk.rows / blk.cols entries when the post code
        // reads them (row_side), a one-entry placeholder otherwise; the grid covers the block
        // in tiles of bm × bn and the kernel checks every index against rows and columns.
        unsafe { launch.launch(cfg) }.map_err(cuda_error("launching a distance kernel"))?;
        let down = cuda_error("copying distances from the device");
        match &mut lane.staging {
            Some(staging) => {
                // The whole buffer, so that the copy's length is the staging buffer's.
                lane.stream.memcpy_dtoh(&lane.out, staging).map_err(&down)?;
                let done = lane.stream.record_event(None).map_err(&down)?;
                lane.pending = Some((*blk, done));
            }
            // One block, the whole output: copied straight into the result (pageable memory,
            // so the copy returns when it is done).
            None => lane
                .stream
                .memcpy_dtoh(&lane.out.slice(..n * m), &mut host[..])
                .map_err(&down)?,
        }
    }
    for lane in &mut lanes {
        lane.drain(&mut host, m)?;
    }
    NdArray::from_vec(host, &[n, m])
}
