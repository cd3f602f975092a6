//! Boolean metrics on bit-packed rows: each row becomes `⌈d/64⌉` words, and a pair needs only
//! `ntt = popcount(u & v)` per word; with the rows' own counts `nu`, `nv` the other counts
//! follow (`ntf = nu − ntt`, `nft = nv − ntt`, `nff = d − ntt − ntf − nft`).

use rayon::prelude::*;

use crate::array::NdArray;
use crate::distance::metric::Metric;
use crate::distance::output::{OutputRows, Post};
use crate::dtype::{DType, Element};
use crate::error::Result;

/// Rows of a bool matrix packed into words, with each row's count of true.
pub(crate) struct BitRows {
    pub words: usize,
    pub data: Vec<u64>,
    pub ones: Vec<u32>,
}

impl BitRows {
    /// `x` (n × d) converted to bool as SciPy converts it (nonzero is true) and packed.
    pub fn new(x: &NdArray) -> Result<BitRows> {
        let (n, d) = (x.shape()[0], x.shape()[1]);
        let b = if x.dtype() == DType::Bool {
            x.clone()
        } else {
            x.astype(DType::Bool)?
        };
        let flat = b.to_vec_bool()?;
        let words = d.div_ceil(64);
        let mut data = vec![0u64; n * words];
        let mut ones = vec![0u32; n];
        for (i, row) in flat
            .chunks_exact(d.max(1))
            .take(if d == 0 { 0 } else { n })
            .enumerate()
        {
            for (k, &bit) in row.iter().enumerate() {
                data[i * words + k / 64] |= (bit as u64) << (k % 64);
            }
            ones[i] = row.iter().filter(|&&b| b).count() as u32;
        }
        Ok(BitRows { words, data, ones })
    }

    fn row(&self, i: usize) -> &[u64] {
        &self.data[i * self.words..][..self.words]
    }
}

/// `Σ popcount(a & b)`, with the `popcnt` instruction where the CPU has it (the baseline
/// x86-64 build counts bits with shifts and masks).
fn and_count(a: &[u64], b: &[u64]) -> u32 {
    #[inline(always)]
    fn body(a: &[u64], b: &[u64]) -> u32 {
        a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum()
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "popcnt")]
        fn fast(a: &[u64], b: &[u64]) -> u32 {
            body(a, b)
        }
        static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        if *HAS.get_or_init(|| std::arch::is_x86_feature_detected!("popcnt")) {
            // SAFETY: the CPU has popcnt (checked above).
            return unsafe { fast(a, b) };
        }
    }
    body(a, b)
}

/// The metric from the four counts of a pair, `d` features.
fn from_counts(metric: &Metric, d: usize, ntt: f64, ntf: f64, nft: f64) -> f64 {
    let nff = d as f64 - ntt - ntf - nft;
    let r = 2.0 * (ntf + nft);
    match metric {
        Metric::Hamming => (ntf + nft) / d as f64,
        Metric::Jaccard => {
            let den = ntt + ntf + nft;
            if den == 0.0 { 0.0 } else { (ntf + nft) / den }
        }
        Metric::Dice => (ntf + nft) / (2.0 * ntt + ntf + nft),
        Metric::RogersTanimoto | Metric::SokalMichener => r / (ntt + nff + r),
        Metric::RussellRao => (d as f64 - ntt) / d as f64,
        Metric::SokalSneath => r / (ntt + r),
        Metric::Yule => {
            let half = ntf * nft;
            if half == 0.0 {
                0.0
            } else {
                2.0 * half / (ntt * nff + half)
            }
        }
        Metric::Kulczynski1 => ntt / (ntf + nft),
        _ => unreachable!("not a boolean metric: {metric}"),
    }
}

/// All pairs into `out` (for a condensed output `b` is `a` and only `j > i` is computed).
pub(crate) fn run_bits<O: Element>(
    metric: &Metric,
    a: &BitRows,
    b: &BitRows,
    d: usize,
    out: OutputRows<'_, O>,
) {
    let (n, m) = (a.ones.len(), b.ones.len());
    let body = |mut rows_out: OutputRows<'_, O>| {
        for i in rows_out.rows() {
            let j0 = if rows_out.is_condensed() { i + 1 } else { 0 };
            let (ra, na) = (a.row(i), a.ones[i] as f64);
            let row: Vec<f64> = (j0.min(m)..m)
                .map(|j| {
                    let ntt = and_count(ra, b.row(j)) as f64;
                    let nb = b.ones[j] as f64;
                    from_counts(metric, d, ntt, na - ntt, nb - ntt)
                })
                .collect();
            rows_out.put_row(i, j0.min(m), &row, &Post::Identity);
        }
    };
    // Eight rows a task, as rayon's `with_min_len(8)` over rows gave.
    let blocks = out.into_blocks(8);
    if n * m * a.words.max(1) < 1 << 14 {
        blocks.into_iter().for_each(body);
    } else {
        blocks.into_par_iter().for_each(body);
    }
}
