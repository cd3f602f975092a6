//! Sorting and selection along an axis, in NumPy's order (NaN last): `sort`, `argsort`
//! (stable), `partition` and `argpartition`.
//!
//! Every lane (1-d run along the axis) is sorted on order-preserving unsigned keys
//! (`keys`). Values with 64-bit keys (float64, int64, uint64) are sorted by a quicksort in
//! AVX-512 registers where the CPU has it (`avx512_quicksort`, NumPy's design); otherwise, and
//! for `argsort`'s (key, index) pairs, by an LSD radix sort (`radix`) from a few thousand
//! elements and by the standard comparison sorts below that. Lanes run in parallel; one long
//! lane splits its quicksort's halves, or each radix pass, across threads. Selection ranks as
//! the kNN searches do (`select`).

#[cfg(target_arch = "x86_64")]
mod avx512_quicksort;
mod keys;
mod radix;
pub(crate) mod select;

use rayon::prelude::*;

use crate::array::NdArray;
use crate::buffer::Buffer;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::normalize_axis;
use keys::SortKey;
use radix::{RADIX_MIN, RadixKey, radix_sort_by_key};

/// Elements of work below which the lanes stay on the calling thread.
const PARALLEL_MIN: usize = 1 << 15;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Job {
    Sort,
    ArgSort,
    /// Partition around the position `kth` (already normalised).
    Partition(usize),
    ArgPartition(usize),
}

impl NdArray {
    /// NumPy's `sort(a, axis)`: a sorted C-ordered copy, NaN last. Where NumPy's order leaves
    /// a choice, the output is still one answer: `-0.0` before `0.0`, and the NaNs (signs and
    /// payloads kept) in their input order.
    ///
    /// ```
    /// use ndstride::NdArray;
    /// let a = NdArray::from_vec(vec![3.0, f64::NAN, -1.0, 2.0], &[4])?;
    /// let s = a.sort(-1)?.to_vec::<f64>()?;
    /// assert_eq!(&s[..3], &[-1.0, 2.0, 3.0][..]);
    /// assert!(s[3].is_nan());
    /// # Ok::<(), ndstride::Error>(())
    /// ```
    pub fn sort(&self, axis: isize) -> Result<NdArray> {
        along_lanes(self, axis, |_| Ok(Job::Sort))
    }

    /// NumPy's `argsort(a, axis, kind='stable')`: int64 positions that sort each lane, equal
    /// values (including `-0.0` and `0.0`, and every NaN) in index order, NaN last.
    pub fn argsort(&self, axis: isize) -> Result<NdArray> {
        along_lanes(self, axis, |_| Ok(Job::ArgSort))
    }

    /// NumPy's `partition(a, kth, axis)`: each lane rearranged so that position `kth`
    /// (negative counts from the end) holds the value a sort would put there, no larger value
    /// before it and no smaller after it.
    pub fn partition(&self, kth: isize, axis: isize) -> Result<NdArray> {
        along_lanes(self, axis, |n| Ok(Job::Partition(normalize_kth(kth, n)?)))
    }

    /// NumPy's `argpartition(a, kth, axis)`: int64 positions doing what `partition` does.
    /// Ties rank by index, as the kNN searches break them: position `kth` holds exactly the
    /// index a stable `argsort` puts there, and the positions before it the same set.
    pub fn argpartition(&self, kth: isize, axis: isize) -> Result<NdArray> {
        along_lanes(self, axis, |n| {
            Ok(Job::ArgPartition(normalize_kth(kth, n)?))
        })
    }
}

fn normalize_kth(kth: isize, n: usize) -> Result<usize> {
    let k = if kth < 0 { kth + n as isize } else { kth };
    if k < 0 || k as usize >= n {
        return Err(Error::invalid(format!("kth(={kth}) out of bounds ({n})")));
    }
    Ok(k as usize)
}

fn along_lanes(a: &NdArray, axis: isize, job: impl Fn(usize) -> Result<Job>) -> Result<NdArray> {
    let ax = normalize_axis(axis, a.ndim())?;
    let last = a.ndim() - 1;
    let job = job(a.shape()[ax])?;
    let moved = if ax == last {
        a.clone()
    } else {
        a.moveaxis(ax as isize, -1)?
    };
    // Lanes contiguous and aligned for typed slices: a copy only where they are not.
    let mut src = moved.as_contiguous();
    let aligned = crate::dispatch_numeric!(src.dtype(), T => src.view::<T>().is_ok(),
        bool => true);
    if !aligned {
        src = moved.copy()?;
    }
    if src.dtype() == DType::Bool {
        // Any nonzero byte is True: sort the normalised 0/1 bytes.
        let zero = NdArray::zeros(&[], DType::Bool)?;
        src = src.not_equal(&zero)?;
    }
    let out_dtype = match job {
        Job::Sort | Job::Partition(_) => src.dtype(),
        Job::ArgSort | Job::ArgPartition(_) => DType::I64,
    };
    // Every job writes each position of every lane (`lanes`), so the output needs no zeroing
    // and may reuse a pooled buffer rather than fault in fresh pages.
    let mut out = NdArray::for_overwrite(src.shape(), out_dtype)?;
    crate::dispatch_numeric!(src.dtype(), T => lanes::<T>(&src, &mut out, job)?,
        bool => lanes::<u8>(&src, &mut out, job)?);
    if ax == last {
        Ok(out)
    } else {
        out.moveaxis(-1, ax as isize)?.copy()
    }
}

/// Runs `job` on every lane of the C-contiguous, aligned `src` (lanes along its last axis)
/// into the same lanes of `out`.
fn lanes<T: SortKey>(src: &NdArray, out: &mut NdArray, job: Job) -> Result<()> {
    let n = *src.shape().last().expect("at least one axis");
    if n == 0 || src.is_empty() {
        return Ok(());
    }
    let count = src.size() / n;
    let view = src.view::<T>()?;
    let s = view.as_slice().expect("C-contiguous by construction");
    let parallel = src.size() >= PARALLEL_MIN && rayon::current_num_threads() > 1;
    match job {
        Job::Sort | Job::Partition(_) => {
            let mut ov = out.view_mut::<T>()?;
            let o = ov.as_slice_mut().expect("fresh C-contiguous output");
            run_lanes(s, o, n, count, parallel, |a, b, par| {
                value_lane(a, b, job, par)
            })
        }
        Job::ArgSort | Job::ArgPartition(_) => {
            let mut ov = out.view_mut::<i64>()?;
            let o = ov.as_slice_mut().expect("fresh C-contiguous output");
            run_lanes(s, o, n, count, parallel, |a, b, par| {
                index_lane(a, b, job, par)
            })
        }
    }
}

fn run_lanes<T: Sync, O: Send>(
    s: &[T],
    o: &mut [O],
    n: usize,
    count: usize,
    parallel: bool,
    f: impl Fn(&[T], &mut [O], bool) -> Result<()> + Sync,
) -> Result<()> {
    if count == 1 {
        return f(s, o, parallel);
    }
    if parallel {
        s.par_chunks(n)
            .zip(o.par_chunks_mut(n))
            .try_for_each(|(a, b)| f(a, b, false))
    } else {
        s.chunks(n)
            .zip(o.chunks_mut(n))
            .try_for_each(|(a, b)| f(a, b, false))
    }
}

/// Sorts or partitions one lane's values: the keys of the numbers, in `out` itself when a
/// key has the value's size, NaNs moved to the end in their order.
fn value_lane<T: SortKey>(src: &[T], out: &mut [T], job: Job, parallel: bool) -> Result<()> {
    if job == Job::Sort && size_of::<T::K>() == size_of::<T>() {
        return sort_in_place(src, out, parallel);
    }
    let mut nans: Vec<T> = Vec::new();
    let mut keys_vec: Vec<T::K> = Vec::new();
    let in_place = size_of::<T::K>() == size_of::<T>();
    let keys: &mut [T::K] = if in_place {
        bytemuck::cast_slice_mut(out)
    } else {
        keys_vec
            .try_reserve_exact(src.len())
            .map_err(|_| Error::out_of_memory(src.len() * size_of::<T::K>(), "the sort keys"))?;
        keys_vec.resize(src.len(), bytemuck::Zeroable::zeroed());
        &mut keys_vec
    };
    let mut m = 0;
    for &x in src {
        if x.is_nan() {
            nans.push(x);
        } else {
            keys[m] = x.key();
            m += 1;
        }
    }
    let numbers = &mut keys[..m];
    match job {
        Job::Partition(k) if k < m => {
            numbers.select_nth_unstable(k);
        }
        Job::Partition(_) => {}
        _ => sort_keys(numbers, parallel)?,
    }
    if in_place {
        // Each of the first `m` slots of `out` holds a key: turn it back into its value where
        // it lies (same size, both plain bits).
        let keys: &mut [T::K] = bytemuck::cast_slice_mut(&mut out[..m]);
        for k in keys.iter_mut() {
            *k = bytemuck::cast(T::from_key(*k));
        }
    } else {
        for (o, &k) in out.iter_mut().zip(keys_vec.iter().take(m)) {
            *o = T::from_key(k);
        }
    }
    out[m..].copy_from_slice(&nans);
    Ok(())
}

/// Sorts one lane's values through keys built in `out` itself (a key has the value's size).
/// A NaN gets the largest key, which no number has, so NaNs sort last; they are then put back
/// in their order, as themselves. The passes over the lane run branch-free, on both threads
/// where `parallel`.
fn sort_in_place<T: SortKey>(src: &[T], out: &mut [T], parallel: bool) -> Result<()> {
    let keys: &mut [T::K] = bytemuck::cast_slice_mut(out);
    let to_keys = |(keys, src): (&mut [T::K], &[T])| {
        let mut nans = 0;
        for (k, &x) in keys.iter_mut().zip(src) {
            let nan = x.is_nan();
            *k = if nan { T::K::MAX } else { x.key() };
            nans += usize::from(nan);
        }
        nans
    };
    let nans: usize = if parallel {
        let chunk = src
            .len()
            .div_ceil(rayon::current_num_threads())
            .max(PARALLEL_MIN);
        keys.par_chunks_mut(chunk)
            .zip(src.par_chunks(chunk))
            .map(to_keys)
            .sum()
    } else {
        to_keys((keys, src))
    };
    sort_keys(keys, parallel)?;
    let m = src.len() - nans;
    let to_values = |keys: &mut [T::K]| {
        for k in keys {
            *k = bytemuck::cast(T::from_key(*k));
        }
    };
    if parallel {
        let chunk = m.div_ceil(rayon::current_num_threads()).max(PARALLEL_MIN);
        keys[..m].par_chunks_mut(chunk).for_each(to_values);
    } else {
        to_values(&mut keys[..m]);
    }
    if nans > 0 {
        for (o, &x) in out[m..].iter_mut().zip(src.iter().filter(|x| x.is_nan())) {
            *o = x;
        }
    }
    Ok(())
}

fn sort_keys<K: RadixKey + bytemuck::Pod>(keys: &mut [K], parallel: bool) -> Result<()> {
    #[cfg(target_arch = "x86_64")]
    if K::BITS == 64
        && let Ok(wide) = bytemuck::try_cast_slice_mut::<K, u64>(keys)
        && avx512_quicksort::sort(wide, parallel)
    {
        return Ok(());
    }
    if keys.len() < RADIX_MIN {
        keys.sort_unstable();
        Ok(())
    } else {
        radix_sort_by_key(keys, |&k| k, parallel)
    }
}

/// Argsort or argpartition of one lane: (rank, index) pairs, which are all distinct, so any
/// sort or selection of them gives one answer: the stable one.
fn index_lane<T: SortKey>(src: &[T], out: &mut [i64], job: Job, parallel: bool) -> Result<()> {
    let n = src.len();
    if n > u32::MAX as usize {
        let mut pairs: Vec<(T::K, usize)> = src.iter().map(|x| x.rank()).zip(0..).collect();
        match job {
            Job::ArgPartition(k) => {
                pairs.select_nth_unstable(k);
            }
            _ => pairs.sort_by_key(|p| p.0),
        }
        for (o, p) in out.iter_mut().zip(&pairs) {
            *o = p.1 as i64;
        }
        return Ok(());
    }
    let mut pairs = PairBuffer::<T::K>::new(src)?;
    let p = pairs.as_mut_slice();
    match job {
        Job::ArgPartition(k) => {
            p.select_nth_unstable(k);
        }
        _ if n < RADIX_MIN => p.sort_unstable(),
        _ => radix_sort_by_key(p, |e| e.0, parallel)?,
    }
    for (o, e) in out.iter_mut().zip(p.iter()) {
        *o = e.1 as i64;
    }
    Ok(())
}

/// `n` (key, index) pairs in one of the crate's buffers (large ones are reused between calls
/// rather than faulted in afresh).
struct PairBuffer<K> {
    buffer: Buffer,
    n: usize,
    _k: std::marker::PhantomData<K>,
}

impl<K: RadixKey> PairBuffer<K> {
    /// The pairs `(rank(x), i)` of a lane.
    fn new<T: SortKey<K = K>>(src: &[T]) -> Result<Self> {
        let n = src.len();
        let bytes = n
            .checked_mul(size_of::<(K, u32)>())
            .ok_or_else(|| Error::overflow("argsort pairs"))?;
        // SAFETY: every one of the `n` pairs is written below before anything reads them.
        let mut buffer = unsafe { Buffer::for_overwrite(bytes)? };
        let ptr = buffer
            .as_mut_ptr()
            .expect("a fresh buffer is writeable and unshared")
            .cast::<(K, u32)>();
        for (i, x) in src.iter().enumerate() {
            // SAFETY: `i < n`, the buffer holds `n` pairs and is 64-byte aligned.
            unsafe { ptr.add(i).write((x.rank(), i as u32)) };
        }
        Ok(PairBuffer {
            buffer,
            n,
            _k: std::marker::PhantomData,
        })
    }

    fn as_mut_slice(&mut self) -> &mut [(K, u32)] {
        let ptr = self
            .buffer
            .as_mut_ptr()
            .expect("a fresh buffer is writeable and unshared");
        // SAFETY: the buffer holds `n` initialised pairs (written in `new`), 64-byte aligned,
        // solely owned and borrowed mutably through `self`.
        unsafe { std::slice::from_raw_parts_mut(ptr.cast::<(K, u32)>(), self.n) }
    }
}
