//! Stable radix sorts on unsigned keys, 8 bits a pass (256 buckets: wider digits scatter to
//! more places, and the scattered stores are what costs; BENCHMARKS.md, "Measurements behind choices in the code"). Long inputs are first split into 256 buckets by sampled splitters, one scatter,
//! so that each bucket is then radix sorted inside the caches, buckets in parallel.

use rayon::prelude::*;

use crate::buffer::Buffer;
use crate::error::{Error, Result};
use crate::iter::send_ptr::SendPtr;

const DIGIT_BITS: u32 = 8;
const BUCKETS: usize = 1 << DIGIT_BITS;
/// Below this many elements the comparison sorts win (no histogram passes to pay for).
pub(crate) const RADIX_MIN: usize = 1 << 11;
/// From this many elements a sort first splits into sampled buckets (far fewer under Miri,
/// so that its small tests reach the split and the threads).
const SPLIT_MIN: usize = if cfg!(miri) { 1 << 10 } else { 1 << 17 };
/// Sampled keys per bucket when choosing splitters.
const OVERSAMPLE: usize = 16;
/// Splitter searches run side by side.
const LANES: usize = 8;
/// At least this many elements per thread before a pass is split across threads.
const PARALLEL_MIN_PER_THREAD: usize = if cfg!(miri) { 1 << 8 } else { 1 << 16 };

/// An unsigned sort key.
pub(crate) trait RadixKey: bytemuck::Pod + Ord + Send + Sync + 'static {
    const BITS: u32;
    const MAX: Self;
    fn to_u64(self) -> u64;
}
impl RadixKey for u32 {
    const BITS: u32 = 32;
    const MAX: u32 = u32::MAX;
    #[inline(always)]
    fn to_u64(self) -> u64 {
        self as u64
    }
}
impl RadixKey for u64 {
    const BITS: u32 = 64;
    const MAX: u64 = u64::MAX;
    #[inline(always)]
    fn to_u64(self) -> u64 {
        self
    }
}

#[inline(always)]
fn digit<K: RadixKey>(k: K, pass: u32) -> usize {
    ((k.to_u64() >> (pass * DIGIT_BITS)) as usize) & (BUCKETS - 1)
}

/// Sorts `v` by `key`, stably. `parallel`: whether the work may be split across threads.
pub(crate) fn radix_sort_by_key<E, K>(
    v: &mut [E],
    key: impl Fn(&E) -> K + Sync,
    parallel: bool,
) -> Result<()>
where
    E: Copy + Send + Sync,
    K: RadixKey,
{
    let n = v.len();
    if n < 2 {
        return Ok(());
    }
    let bytes = n
        .checked_mul(size_of::<E>())
        .ok_or_else(|| Error::overflow("radix sort scratch"))?;
    // The crate's buffers: large ones are reused between calls rather than faulted in anew.
    // SAFETY: every position is written (by a scatter) before it is read.
    let mut scratch_buf = unsafe { Buffer::for_overwrite(bytes)? };
    let scratch = SendPtr(
        scratch_buf
            .as_mut_ptr()
            .expect("a fresh buffer is writeable and unshared")
            .cast::<E>(),
    );
    let threads = if parallel {
        rayon::current_num_threads()
            .min(n / PARALLEL_MIN_PER_THREAD)
            .max(1)
    } else {
        1
    };
    if n < SPLIT_MIN {
        // SAFETY: `scratch` has n positions and is not `v`'s memory.
        unsafe { lsd(v.as_mut_ptr(), scratch.0, n, &key, threads) };
        return Ok(());
    }
    split_then_sort(v, scratch, &key, threads);
    Ok(())
}

/// Splits `v` into buckets by sampled splitters into `scratch` (stable), then sorts each
/// bucket by LSD passes, leaving the result in `v`.
fn split_then_sort<E, K>(
    v: &mut [E],
    scratch: SendPtr<*mut E>,
    key: &(impl Fn(&E) -> K + Sync),
    threads: usize,
) where
    E: Copy + Send + Sync,
    K: RadixKey,
{
    let n = v.len();
    // Splitters: every OVERSAMPLE-th of a sorted, evenly spaced sample, laid out as an
    // implicit binary tree (node i's children at 2i and 2i+1) for a branch-free search.
    let mut sample: Vec<K> = (0..BUCKETS * OVERSAMPLE)
        .map(|i| key(&v[i * (n / (BUCKETS * OVERSAMPLE))]))
        .collect();
    sample.sort_unstable();
    let sorted: Vec<K> = (1..BUCKETS).map(|j| sample[j * OVERSAMPLE]).collect();
    let mut tree = vec![sorted[0]; BUCKETS];
    fill_tree(&sorted, &mut tree, 1);
    let levels = DIGIT_BITS;
    // Bucket b holds the keys in (splitter b-1, splitter b]: equal keys share a bucket,
    // which keeps the split stable.
    let bucket_of = |k: K| {
        let mut i = 1usize;
        for _ in 0..levels {
            i = 2 * i + usize::from(k > tree[i]);
        }
        i - BUCKETS
    };
    let chunk = n.div_ceil(threads);
    let mut ids = vec![0u8; n];
    let count = |(part, ids): (&[E], &mut [u8])| {
        let mut h = [0usize; BUCKETS];
        // Eight searches at once: each is a chain of dependent loads, and eight independent
        // chains keep the core busy where one leaves it waiting.
        let mut blocks = part.chunks_exact(LANES);
        let mut id_blocks = ids.chunks_exact_mut(LANES);
        for (es, out) in (&mut blocks).zip(&mut id_blocks) {
            let ks: [K; LANES] = std::array::from_fn(|j| key(&es[j]));
            let mut at = [1usize; LANES];
            for _ in 0..levels {
                for j in 0..LANES {
                    at[j] = 2 * at[j] + usize::from(ks[j] > tree[at[j]]);
                }
            }
            for j in 0..LANES {
                let b = at[j] - BUCKETS;
                out[j] = b as u8;
                h[b] += 1;
            }
        }
        for (e, id) in blocks.remainder().iter().zip(id_blocks.into_remainder()) {
            let b = bucket_of(key(e));
            *id = b as u8;
            h[b] += 1;
        }
        h
    };
    let hists: Vec<[usize; BUCKETS]> = if threads > 1 {
        v.par_chunks(chunk)
            .zip(ids.par_chunks_mut(chunk))
            .map(count)
            .collect()
    } else {
        vec![count((v, &mut ids))]
    };
    let (offsets, starts) = chunk_offsets(&hists);
    let place = |((part, ids), mut off): ((&[E], &[u8]), [usize; BUCKETS])| {
        let dst = scratch;
        for (e, &b) in part.iter().zip(ids) {
            // SAFETY: the offsets give each chunk its own positions in each bucket, all below
            // n, and `scratch` has n positions.
            unsafe { dst.0.add(off[b as usize]).write(*e) };
            off[b as usize] += 1;
        }
    };
    if threads > 1 {
        v.par_chunks(chunk)
            .zip(ids.par_chunks(chunk))
            .zip(offsets)
            .for_each(place);
    } else {
        place(((v, &ids), offsets[0]));
    }
    drop(ids);
    // Each bucket is sorted from scratch back into the same range of `v`.
    let out = SendPtr(v.as_mut_ptr());
    let ranges: Vec<(usize, usize)> = (0..BUCKETS)
        .map(|b| (starts[b], starts.get(b + 1).copied().unwrap_or(n)))
        .filter(|(lo, hi)| hi > lo)
        .collect();
    let sort_bucket = |&(lo, hi): &(usize, usize)| {
        let (out, scratch) = (out, scratch);
        // SAFETY: buckets are disjoint ranges of both buffers; scratch's range was written by
        // the split; the bucket is sorted into `v`'s range (lsd_into leaves it there).
        unsafe { lsd_into(scratch.0.add(lo), out.0.add(lo), hi - lo, key) };
    };
    if threads > 1 {
        ranges.par_iter().for_each(sort_bucket);
    } else {
        ranges.iter().for_each(sort_bucket);
    }
}

/// Writes the sorted splitters into an implicit binary search tree (in-order = sorted).
fn fill_tree<K: Copy>(sorted: &[K], tree: &mut [K], node: usize) {
    if sorted.is_empty() || node >= tree.len() {
        return;
    }
    let mid = sorted.len() / 2;
    tree[node] = sorted[mid];
    fill_tree(&sorted[..mid], tree, 2 * node);
    fill_tree(&sorted[mid + 1..], tree, 2 * node + 1);
}

/// For each chunk, its first position in each bucket (every element of a lower bucket, then
/// the chunk's predecessors' elements of the bucket), and each bucket's start.
fn chunk_offsets(hists: &[[usize; BUCKETS]]) -> (Vec<[usize; BUCKETS]>, Vec<usize>) {
    let mut offsets = vec![[0usize; BUCKETS]; hists.len()];
    let mut starts = vec![0usize; BUCKETS];
    let mut at = 0;
    for b in 0..BUCKETS {
        starts[b] = at;
        for (t, h) in hists.iter().enumerate() {
            offsets[t][b] = at;
            at += h[b];
        }
    }
    (offsets, starts)
}

/// Sorts the `n` elements at `from` by LSD passes, ending at `to` (`from`'s contents are
/// clobbered). Meant for cache-sized runs (a bucket of the split), so digits are 11 bits
/// wide, and only the bits below the highest one that differs between keys are sorted.
///
/// # Safety
/// `from` and `to` are valid for `n` elements, disjoint; `from`'s are initialised.
unsafe fn lsd_into<E, K>(from: *mut E, to: *mut E, n: usize, key: &impl Fn(&E) -> K)
where
    E: Copy,
    K: RadixKey,
{
    const B: u32 = 11;
    const NB: usize = 1 << B;
    // SAFETY: forwarded from the caller.
    let data = unsafe { std::slice::from_raw_parts(from, n) };
    let first = data.first().map_or(0, |e| key(e).to_u64());
    let differing = data
        .iter()
        .fold(0u64, |acc, e| acc | (key(e).to_u64() ^ first));
    let bits = 64 - differing.leading_zeros();
    let passes = bits.div_ceil(B);
    let mut hist = vec![[0usize; NB]; passes as usize];
    for e in data {
        let k = key(e).to_u64();
        for (p, h) in hist.iter_mut().enumerate() {
            h[((k >> (p as u32 * B)) as usize) & (NB - 1)] += 1;
        }
    }
    // An odd number of passes ends in `to`; an even number starts with a copy there.
    let (mut src, mut dst) = (from, to);
    if passes.is_multiple_of(2) {
        // SAFETY: forwarded from the caller.
        unsafe { std::ptr::copy_nonoverlapping(from, to, n) };
        (src, dst) = (to, from);
    }
    for (p, h) in hist.iter().enumerate() {
        let mut off = [0usize; NB];
        let mut at = 0;
        for (o, &c) in off.iter_mut().zip(h) {
            *o = at;
            at += c;
        }
        let shift = p as u32 * B;
        for i in 0..n {
            // SAFETY: `i < n`; the offsets of one pass are a permutation of 0..n.
            unsafe {
                let e = *src.add(i);
                let d = &mut off[((key(&e).to_u64() >> shift) as usize) & (NB - 1)];
                dst.add(*d).write(e);
                *d += 1;
            }
        }
        (src, dst) = (dst, src);
    }
}

/// Every 8-bit pass's histogram from one read of the keys.
fn histograms<E, K: RadixKey>(data: &[E], key: &impl Fn(&E) -> K) -> Vec<[usize; BUCKETS]> {
    let mut h = vec![[0usize; BUCKETS]; K::BITS.div_ceil(DIGIT_BITS) as usize];
    for e in data {
        let k = key(e);
        for (p, hp) in h.iter_mut().enumerate() {
            hp[digit(k, p as u32)] += 1;
        }
    }
    h
}

/// LSD passes over the `n` elements at `v` using `scratch`, passes split across `threads`;
/// the result ends in `v`.
///
/// # Safety
/// As `lsd_into`, with `v`'s elements initialised.
unsafe fn lsd<E, K>(
    v: *mut E,
    scratch: *mut E,
    n: usize,
    key: &(impl Fn(&E) -> K + Sync),
    threads: usize,
) where
    E: Copy + Send + Sync,
    K: RadixKey,
{
    if threads <= 1 {
        // SAFETY: forwarded; lsd_into ends in its second buffer, so sort from a copy.
        unsafe {
            std::ptr::copy_nonoverlapping(v, scratch, n);
            lsd_into(scratch, v, n, key);
        }
        return;
    }
    // Passes split across threads: 8-bit digits, as out of cache.
    let chunk = n.div_ceil(threads);
    // SAFETY: forwarded from the caller.
    let hist = histograms(unsafe { std::slice::from_raw_parts(v, n) }, key);
    let mut in_v = true;
    for pass in 0..K::BITS.div_ceil(DIGIT_BITS) {
        if hist[pass as usize].contains(&n) {
            continue;
        }
        let (src, dst) = if in_v { (v, scratch) } else { (scratch, v) };
        // SAFETY: `src` holds n initialised elements (the input, or the previous pass's).
        let src = unsafe { std::slice::from_raw_parts(src.cast_const(), n) };
        let count = |part: &[E]| {
            let mut h = [0usize; BUCKETS];
            for e in part {
                h[digit(key(e), pass)] += 1;
            }
            h
        };
        let hists: Vec<[usize; BUCKETS]> = src.par_chunks(chunk).map(count).collect();
        let (offsets, _) = chunk_offsets(&hists);
        let to = SendPtr(dst);
        src.par_chunks(chunk)
            .zip(offsets)
            .for_each(|(part, mut off)| {
                // The whole SendPtr, not its raw pointer field, is captured.
                let dst = to;
                for e in part {
                    let d = &mut off[digit(key(e), pass)];
                    // SAFETY: each chunk's positions in each bucket are its own, all below n.
                    unsafe { dst.0.add(*d).write(*e) };
                    *d += 1;
                }
            });
        in_v = !in_v;
    }
    if !in_v {
        // SAFETY: the last pass wrote all n positions of scratch.
        unsafe { std::ptr::copy_nonoverlapping(scratch, v, n) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(n, spread)` cases: keys keep the top `64 - spread` bits of a hash (spread 62: two
    /// bits, mostly ties; 20: 44 bits, many passes). Under Miri only what reaches each path:
    /// LSD on one thread and on two (n ≥ 2 × 256), and the bucket split (n ≥ 1024; with fewer
    /// keys than samples its splitters repeat, which the split must survive too).
    fn cases() -> Vec<(usize, u32)> {
        if cfg!(miri) {
            vec![
                (0, 50),
                (1, 50),
                (2, 50),
                (100, 50),
                (600, 50),
                (1500, 62),
                (1500, 50),
            ]
        } else {
            let sizes = [0usize, 1, 2, 3, 100, 1500, 300_000];
            sizes
                .iter()
                .flat_map(|&n| [(n, 50), (n, 20), (n, 62)])
                .collect()
        }
    }

    /// Checked against std's stable sort.
    fn check_against_std(parallel: bool) {
        for (n, spread) in cases() {
            let keys: Vec<(u64, u32)> = (0..n as u64)
                .map(|i| {
                    (
                        (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> spread) << 7,
                        i as u32,
                    )
                })
                .collect();
            let mut want = keys.clone();
            want.sort_by_key(|e| e.0); // std's stable sort
            let mut got = keys.clone();
            radix_sort_by_key(&mut got, |e| e.0, parallel).unwrap();
            assert_eq!(got, want, "n = {n}, spread {spread}, parallel = {parallel}");
        }
    }

    #[test]
    fn sorts_stably_serial_and_split() {
        check_against_std(false);
        let mut small: Vec<u32> = vec![5, 3, u32::MAX, 0, 3];
        radix_sort_by_key(&mut small, |&k| k, false).unwrap();
        assert_eq!(small, vec![0, 3, 3, 5, u32::MAX]);
    }

    /// Named `on_threads`: .ci/run gives the tests that start rayon's pool to Miri under Tree
    /// Borrows, since crossbeam-epoch (under rayon) breaks Stacked Borrows' rules
    /// (crossbeam-rs/crossbeam#1181) and crossbeam checks itself under Tree Borrows.
    #[test]
    fn sorts_stably_split_on_threads() {
        check_against_std(true);
    }
}
