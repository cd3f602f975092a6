//! A quicksort of `u64` keys in AVX-512 registers, for long lanes of 64-bit values where the
//! CPU has AVX-512 (the radix sort serves every other case).
//!
//! The design is the one NumPy 2.x ships (x86-simd-sort, after Bramas 2017):
//! - partitions run eight keys at a time, each vector split by one comparison into the keys
//!   below the pivot and the rest, compressed and written to the two ends of the range; the
//!   first and last vectors of a range are held in registers so that writes never overtake
//!   reads;
//! - ranges of up to `NETWORK_MAX` keys are sorted by a bitonic network in registers;
//! - a range whose pivot is its minimum has its copies of the minimum split off, so runs of
//!   equal keys end the recursion; a depth limit hands pathological inputs to the standard
//!   sort (O(n log n) whatever the input).
//!
//! Masked stores write only the keys that belong to a side, never a whole vector. (Compressed
//! stores straight to memory are slow on Zen 4, so keys are compressed in registers first.)
//! Measurements are in BENCHMARKS.md, "sort".

use std::arch::x86_64::*;

/// Keys per vector.
const LANES: usize = 8;
/// Ranges up to this long are sorted by the network (16 registers).
const NETWORK_MAX: usize = 16 * LANES;
/// Vectors partitioned per loop turn (4 beat 2 and 8, which spills registers: BENCHMARKS.md).
const UNROLL: usize = 4;
/// Ranges at least this long split their two halves across threads.
const PARALLEL_MIN: usize = 1 << 16;

/// Sorts `keys` ascending if the running CPU has AVX-512 (and this is not Miri, which does not
/// model these instructions); returns whether it did.
pub(crate) fn sort(keys: &mut [u64], parallel: bool) -> bool {
    if !available() {
        return false;
    }
    let depth = 2 * (usize::BITS - keys.len().leading_zeros()) + 4;
    // SAFETY: AVX-512 F and POPCNT are present (`available`).
    unsafe { quicksort(keys, depth, parallel) };
    true
}

/// Whether this CPU runs the sort: AVX-512 in use (`simd_level`) and POPCNT.
fn available() -> bool {
    !cfg!(miri)
        && crate::cpu::simd_level() == crate::cpu::SimdLevel::Avx512
        && std::arch::is_x86_feature_detected!("popcnt")
}

#[target_feature(enable = "avx512f,popcnt")]
fn quicksort(v: &mut [u64], depth: u32, parallel: bool) {
    let n = v.len();
    if n <= NETWORK_MAX {
        network_sort(v);
        return;
    }
    if depth == 0 {
        v.sort_unstable();
        return;
    }
    let pivot = choose_pivot(v);
    let mid = partition(v, pivot);
    let mut right_from = mid;
    if mid == 0 {
        // The pivot is the minimum: every key is at least the pivot. The copies of it (keys
        // below pivot + 1; the pivot is not u64::MAX, or every key would equal it) are in
        // place once split off.
        if pivot == u64::MAX {
            return;
        }
        right_from = partition(v, pivot + 1);
    }
    let (left, rest) = v.split_at_mut(mid);
    let right = &mut rest[right_from - mid..];
    if parallel && n >= PARALLEL_MIN {
        // The closures inherit this function's target features (the CPU is the same on every
        // thread of the pool).
        rayon::join(
            || quicksort(left, depth - 1, true),
            || quicksort(right, depth - 1, true),
        );
    } else {
        quicksort(left, depth - 1, false);
        quicksort(right, depth - 1, false);
    }
}

/// The median of evenly spaced samples (more of them for longer ranges: a better split
/// saves a whole pass over the range).
#[target_feature(enable = "avx512f,popcnt")]
fn choose_pivot(v: &[u64]) -> u64 {
    let count = if v.len() >= 1 << 14 { 64 } else { 16 };
    let step = v.len() / count;
    let mut sample = [0u64; 64];
    for (i, s) in sample[..count].iter_mut().enumerate() {
        *s = v[i * step + step / 2];
    }
    network_sort(&mut sample[..count]);
    sample[count / 2]
}

/// Reorders `v` (longer than two vectors) so that the keys below `pivot` come first; returns
/// how many there are.
#[target_feature(enable = "avx512f,popcnt")]
fn partition(v: &mut [u64], pivot: u64) -> usize {
    // A few keys one at a time, so that the vector part is whole vectors: below-pivot keys
    // stay at the front, the others are swapped to the back.
    let (mut lo, mut hi) = (0, v.len());
    for _ in 0..v.len() % LANES {
        if v[lo] < pivot {
            lo += 1;
        } else {
            hi -= 1;
            v.swap(lo, hi);
        }
    }
    let vec_len = hi - lo;
    debug_assert!(vec_len.is_multiple_of(LANES) && vec_len >= 2 * LANES);
    let at = lo + partition_vectors(&mut v[lo..hi], pivot);
    debug_assert!(v[..at].iter().all(|&k| k < pivot) && v[at..].iter().all(|&k| k >= pivot));
    at
}

/// Write positions of a partition: keys below the pivot go to `v[..left]`, the others to
/// `v[right..]`.
struct Ends {
    base: *mut u64,
    left: usize,
    right: usize,
    pivot: __m512i,
}

impl Ends {
    /// Writes the keys of `x` below the pivot at the left end and the others at the right.
    ///
    /// # Safety
    /// AVX-512 F is present; `base[left..right]` holds at least the eight positions this
    /// writes, already read (the partition's invariant: positions between the two write ends
    /// minus those not yet read are free, and there are eight or more on each side it
    /// writes).
    #[inline]
    #[target_feature(enable = "avx512f,popcnt")]
    unsafe fn put(&mut self, x: __m512i) {
        let high = _mm512_cmpge_epu64_mask(x, self.pivot);
        let n_high = high.count_ones() as usize;
        let n_low = LANES - n_high;
        let low_keys = _mm512_maskz_compress_epi64(!high, x);
        let high_keys = _mm512_maskz_compress_epi64(high, x);
        self.right -= n_high;
        // SAFETY: `left + n_low <= right` after the update (the eight keys fill free
        // positions between the ends), inside `base`'s range; masked stores write only the
        // lanes their masks name.
        unsafe {
            _mm512_mask_storeu_epi64(self.base.add(self.left).cast(), low_mask(n_low), low_keys);
            _mm512_mask_storeu_epi64(
                self.base.add(self.right).cast(),
                low_mask(n_high),
                high_keys,
            );
        }
        self.left += n_low;
    }
}

/// The mask of the lowest `n` lanes (`n <= 8`).
#[inline(always)]
fn low_mask(n: usize) -> __mmask8 {
    ((1u16 << n) - 1) as __mmask8
}

/// Partitions whole vectors (`v.len()` a multiple of 8, at least 16) around `pivot`; returns
/// the count below it.
#[target_feature(enable = "avx512f,popcnt")]
fn partition_vectors(v: &mut [u64], pivot: u64) -> usize {
    if v.len() >= 4 * UNROLL * LANES {
        partition_holding::<UNROLL>(v, pivot)
    } else {
        partition_holding::<1>(v, pivot)
    }
}

/// The partition, `H` vectors at a time. The first and last `H` vectors are held in registers
/// until the end, so that each side has `8 * H` free positions before any write.
#[target_feature(enable = "avx512f,popcnt")]
fn partition_holding<const H: usize>(v: &mut [u64], pivot: u64) -> usize {
    let n = v.len();
    debug_assert!(n.is_multiple_of(LANES) && n >= 2 * H * LANES);
    let base = v.as_mut_ptr();
    let load = |at: usize| {
        debug_assert!(at + LANES <= n);
        // SAFETY: `at + 8 <= n` for every caller below: the held vectors lie inside `v`, and
        // the others are read from `v[read_lo..read_hi]`.
        unsafe { _mm512_loadu_si512(base.add(at).cast()) }
    };
    let held_front: [__m512i; H] = std::array::from_fn(|i| load(i * LANES));
    let held_back: [__m512i; H] = std::array::from_fn(|i| load(n - (i + 1) * LANES));
    let mut ends = Ends {
        base,
        left: 0,
        right: n,
        pivot: _mm512_set1_epi64(pivot as i64),
    };
    // Keys not yet read: v[read_lo..read_hi].
    let (mut read_lo, mut read_hi) = (H * LANES, n - H * LANES);
    // Reading from the side with fewer free positions keeps both sides at `8 * H` or more
    // (together they hold 16 * H before each read of 8 * H keys).
    // The side is chosen without a branch: which one it is depends on the data, and a
    // mispredicted branch here cost more than the whole partition of a vector.
    while read_hi - read_lo >= H * LANES {
        let front = read_lo - ends.left <= ends.right - read_hi;
        let from = if front { read_lo } else { read_hi - H * LANES };
        read_lo += usize::from(front) * H * LANES;
        read_hi -= usize::from(!front) * H * LANES;
        let xs: [__m512i; H] = std::array::from_fn(|i| load(from + i * LANES));
        for x in xs {
            // SAFETY: AVX-512 F is present; the rule above leaves eight free positions or more
            // on each side for each vector.
            unsafe { ends.put(x) };
        }
    }
    while read_lo < read_hi {
        let from = if read_lo - ends.left <= ends.right - read_hi {
            read_lo += LANES;
            read_lo - LANES
        } else {
            read_hi -= LANES;
            read_hi
        };
        // SAFETY: as above (one vector at a time, 16 · H free positions before it).
        unsafe { ends.put(load(from)) };
    }
    for x in held_front.into_iter().chain(held_back) {
        // SAFETY: every key is read; the free positions between the ends are exactly the
        // held keys' count, and each put fills its own.
        unsafe { ends.put(x) };
    }
    debug_assert_eq!(ends.left, ends.right);
    ends.left
}

/// Sorts up to `NETWORK_MAX` keys: loaded into 1, 2, 4, 8 or 16 registers, padded with
/// `u64::MAX`, which sorts last.
#[target_feature(enable = "avx512f,popcnt")]
fn network_sort(v: &mut [u64]) {
    match v.len().div_ceil(LANES) {
        0 => {}
        1 => network::<1>(v),
        2 => network::<2>(v),
        3..=4 => network::<4>(v),
        5..=8 => network::<8>(v),
        _ => network::<16>(v),
    }
}

/// A bitonic sorting network over the `8 * R` keys of `R` registers, key `8r + l` in lane `l`
/// of register `r`. For each block size k = 2, 4, ..., 8R: key t of a block is compared with
/// key k-1-t, then the half-cleaners of distance k/4, ..., 1 compare key i with key i ^ d;
/// the smaller key goes to the lower position.
#[target_feature(enable = "avx512f,popcnt")]
fn network<const R: usize>(v: &mut [u64]) {
    let n = v.len();
    debug_assert!(n <= R * LANES);
    let mut r = [_mm512_set1_epi64(-1); R];
    for (i, reg) in r.iter_mut().enumerate() {
        let count = n.saturating_sub(i * LANES).min(LANES);
        if count > 0 {
            // SAFETY: lanes below `count` lie inside `v`; the others are masked (not read).
            *reg = unsafe {
                _mm512_mask_loadu_epi64(*reg, low_mask(count), v.as_ptr().add(i * LANES).cast())
            };
        }
    }
    let total = R * LANES;
    let mut k = 2;
    while k <= total {
        flip(&mut r, k);
        let mut d = k / 4;
        while d >= 1 {
            half_clean(&mut r, d);
            d /= 2;
        }
        k *= 2;
    }
    for (i, reg) in r.iter().enumerate() {
        let count = n.saturating_sub(i * LANES).min(LANES);
        if count > 0 {
            // SAFETY: as for the loads.
            unsafe {
                _mm512_mask_storeu_epi64(
                    v.as_mut_ptr().add(i * LANES).cast(),
                    low_mask(count),
                    *reg,
                )
            };
        }
    }
}

/// Lane `l` of each register gets the minimum (if `hi` has its bit clear) or the maximum of
/// itself and lane `partner[l]`.
#[inline]
#[target_feature(enable = "avx512f,popcnt")]
fn in_register(x: __m512i, partner: __m512i, hi: __mmask8) -> __m512i {
    let p = _mm512_permutexvar_epi64(partner, x);
    _mm512_mask_blend_epi64(hi, _mm512_min_epu64(x, p), _mm512_max_epu64(x, p))
}

/// The lane indices `l ^ m`.
#[inline]
#[target_feature(enable = "avx512f,popcnt")]
fn xor_lanes(m: i64) -> __m512i {
    _mm512_set_epi64(7 ^ m, 6 ^ m, 5 ^ m, 4 ^ m, 3 ^ m, 2 ^ m, 1 ^ m, m)
}

/// The lanes whose index has bit `b` set.
fn lanes_with_bit(b: usize) -> __mmask8 {
    (0..LANES).filter(|l| l & b != 0).fold(0, |m, l| m | 1 << l)
}

/// Compares key t of each block of `k` keys with key k-1-t.
#[inline]
#[target_feature(enable = "avx512f,popcnt")]
fn flip<const R: usize>(r: &mut [__m512i; R], k: usize) {
    if k <= LANES {
        let (partner, hi) = (xor_lanes(k as i64 - 1), lanes_with_bit(k / 2));
        for x in r.iter_mut() {
            *x = in_register(*x, partner, hi);
        }
        return;
    }
    // Blocks of k/8 registers: register t pairs with k/8-1-t, lanes reversed.
    let regs = k / LANES;
    let reverse = xor_lanes(7);
    for block in (0..R).step_by(regs) {
        for t in 0..regs / 2 {
            let (a, b) = (block + t, block + regs - 1 - t);
            let rb = _mm512_permutexvar_epi64(reverse, r[b]);
            let (lo, hi) = (_mm512_min_epu64(r[a], rb), _mm512_max_epu64(r[a], rb));
            r[a] = lo;
            r[b] = _mm512_permutexvar_epi64(reverse, hi);
        }
    }
}

/// Compares key i with key i ^ d (for i without bit d).
#[inline]
#[target_feature(enable = "avx512f,popcnt")]
fn half_clean<const R: usize>(r: &mut [__m512i; R], d: usize) {
    if d < LANES {
        let (partner, hi) = (xor_lanes(d as i64), lanes_with_bit(d));
        for x in r.iter_mut() {
            *x = in_register(*x, partner, hi);
        }
        return;
    }
    let dr = d / LANES;
    for a in (0..R).filter(|a| a & dr == 0) {
        let b = a | dr;
        let (lo, hi) = (_mm512_min_epu64(r[a], r[b]), _mm512_max_epu64(r[a], r[b]));
        r[a] = lo;
        r[b] = hi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64: a fixed, dependency-free stream of test keys.
    struct Keys(u64);
    impl Keys {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        /// Keys below `spread` (any key for 0).
        fn below(&mut self, spread: u64) -> u64 {
            if spread == 0 {
                self.next()
            } else {
                self.next() % spread
            }
        }
    }

    fn check(mut v: Vec<u64>, parallel: bool) {
        let mut want = v.clone();
        want.sort_unstable();
        if sort(&mut v, parallel) {
            assert!(v == want, "n = {}", want.len());
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri does not model AVX-512; the sort declines to run")]
    fn sorts_every_short_length_and_value_spread() {
        let mut keys = Keys(7);
        for n in 0..600 {
            for spread in [1, 2, 5, n as u64 + 1, 0] {
                check((0..n).map(|_| keys.below(spread)).collect(), false);
            }
            check((0..n as u64).collect(), false);
            check((0..n as u64).rev().collect(), false);
            check(vec![u64::MAX; n], false);
            check((0..n as u64).map(|i| u64::MAX - i % 3).collect(), false);
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri does not model AVX-512; the sort declines to run")]
    fn sorts_long_inputs_serial_and_on_threads() {
        let mut keys = Keys(11);
        for n in [1 << 12, (1 << 17) + 13, 1 << 20] {
            let random: Vec<u64> = (0..n).map(|_| keys.next()).collect();
            let few: Vec<u64> = (0..n).map(|_| keys.below(4)).collect();
            let organ: Vec<u64> = (0..n as u64).map(|i| i.min(n as u64 - i)).collect();
            let sorted_with_noise: Vec<u64> = (0..n as u64)
                .map(|i| if i % 1000 == 0 { keys.next() } else { i })
                .collect();
            for v in [random, few, organ, sorted_with_noise] {
                check(v.clone(), false);
                check(v, true);
            }
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri does not model AVX-512; the sort declines to run")]
    fn the_depth_limit_still_sorts() {
        let mut keys = Keys(3);
        let mut v: Vec<u64> = (0..5000).map(|_| keys.next()).collect();
        let mut want = v.clone();
        want.sort_unstable();
        if available() {
            // SAFETY: AVX-512 F and POPCNT are present.
            unsafe { quicksort(&mut v, 1, false) };
            assert_eq!(v, want);
        }
    }
}
