//! Packing: copying a block of a strided operand into the contiguous, zero-padded panel order
//! the micro-kernel reads. This is where any strides (transposed, negative, sliced) are
//! absorbed, so the operands are never copied as a whole first.

/// A read-only strided matrix: element `(i, j)` is at `ptr + i·rs + j·cs` (element units).
#[derive(Clone, Copy)]
pub(crate) struct MatRef<T> {
    pub ptr: *const T,
    pub rs: isize,
    pub cs: isize,
}

// SAFETY: a `MatRef` is only created over data that stays alive and unwritten while the GEMM
// that uses it runs; sharing read pointers between threads is then sound.
unsafe impl<T: Sync> Send for MatRef<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for MatRef<T> {}

impl<T> MatRef<T> {
    /// The transpose: swapped strides, same data.
    pub fn t(self) -> MatRef<T> {
        MatRef {
            ptr: self.ptr,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// Pointer to element `(i, j)`.
    ///
    /// # Safety
    /// `(i, j)` is inside the matrix this `MatRef` describes.
    #[inline(always)]
    pub unsafe fn at(self, i: usize, j: usize) -> *const T {
        // SAFETY: the caller keeps (i, j) inside the matrix, whose elements are all in bounds.
        unsafe { self.ptr.offset(i as isize * self.rs + j as isize * self.cs) }
    }
}

/// One `mr × kc` panel of A starting at row `i` (`out[p · mr + r]`), of which `live` rows
/// are real; the rest are zero.
///
/// # Safety
/// Rows `i .. i+live`, columns `p0 .. p0+kc` lie inside `a`; `out` holds `kc · mr` elements.
pub(crate) unsafe fn pack_a_panel<T: Copy + Default>(
    a: MatRef<T>,
    i: usize,
    live: usize,
    p0: usize,
    kc: usize,
    mr: usize,
    out: &mut [T],
) {
    if a.cs == 1 && a.rs != 1 && live == mr && mr == 8 {
        // Rows are contiguous (a plain row-major A): an 8 × 8 transpose per 8 steps of k.
        // SAFETY: rows i .. i+8, columns p0 .. p0+kc are inside the block.
        unsafe { transpose_rows_dispatched(a, i, p0, kc, out) };
    } else {
        // An A panel is a B panel of Aᵀ (mr rows of A = mr columns of Aᵀ).
        // SAFETY: rows p0 .. p0+kc, columns i .. i+live of Aᵀ are the caller's block of A.
        unsafe { pack_b_panel(a.t(), p0, kc, i, live, mr, out) };
    }
}

/// [`transpose_rows`] with `MR = 8`, compiled for the running CPU's vector width (the
/// baseline build moves one element at a time through the stack).
///
/// # Safety
/// As for [`transpose_rows`].
unsafe fn transpose_rows_dispatched<T: Copy>(
    a: MatRef<T>,
    i: usize,
    p0: usize,
    kc: usize,
    out: &mut [T],
) {
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")]
    unsafe fn avx512<T: Copy>(a: MatRef<T>, i: usize, p0: usize, kc: usize, out: &mut [T]) {
        // SAFETY: forwarded.
        unsafe { transpose_rows::<T, 8>(a, i, p0, kc, out) }
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn avx2<T: Copy>(a: MatRef<T>, i: usize, p0: usize, kc: usize, out: &mut [T]) {
        // SAFETY: forwarded.
        unsafe { transpose_rows::<T, 8>(a, i, p0, kc, out) }
    }
    use crate::cpu::{SimdLevel, simd_level};
    match simd_level() {
        // SAFETY: the features were detected on this CPU; the rest is forwarded.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx512 => unsafe { avx512(a, i, p0, kc, out) },
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        SimdLevel::Avx2 => unsafe { avx2(a, i, p0, kc, out) },
        // SAFETY: forwarded.
        _ => unsafe { transpose_rows::<T, 8>(a, i, p0, kc, out) },
    }
}

/// `out[p · MR + r] = a[i + r, p0 + p]` for unit-stride rows, 8 columns at a time so that each
/// row is read as one 8-element load and the transpose happens in registers.
///
/// # Safety
/// `a.cs == 1`; rows `i .. i+MR`, columns `p0 .. p0+kc` lie inside `a`; `out.len() >= kc · MR`.
#[inline(always)]
unsafe fn transpose_rows<T: Copy, const MR: usize>(
    a: MatRef<T>,
    i: usize,
    p0: usize,
    kc: usize,
    out: &mut [T],
) {
    // SAFETY: the caller's bounds; each row pointer stays inside its row.
    let rows: [*const T; MR] = std::array::from_fn(|r| unsafe { a.at(i + r, p0) });
    let out = &mut out[..kc * MR];
    let mut p = 0;
    while p + 8 <= kc {
        // SAFETY: columns p .. p+8 of each row are inside the block (p + 8 <= kc).
        let block: [[T; 8]; MR] =
            std::array::from_fn(|r| unsafe { rows[r].add(p).cast::<[T; 8]>().read_unaligned() });
        let dst = &mut out[p * MR..(p + 8) * MR];
        for q in 0..8 {
            for r in 0..MR {
                dst[q * MR + r] = block[r][q];
            }
        }
        p += 8;
    }
    for p in p..kc {
        for r in 0..MR {
            // SAFETY: column p < kc of row r is inside the block.
            out[p * MR + r] = unsafe { *rows[r].add(p) };
        }
    }
}

/// One `kc × nr` panel of B starting at column `j`, of which `live` columns are real.
///
/// # Safety
/// Rows `p0 .. p0+kc`, columns `j .. j+live` lie inside `b`; `out` holds `kc · nr` elements.
pub(crate) unsafe fn pack_b_panel<T: Copy + Default>(
    b: MatRef<T>,
    p0: usize,
    kc: usize,
    j: usize,
    live: usize,
    nr: usize,
    out: &mut [T],
) {
    if live < nr {
        out.fill(T::default());
    }
    if b.cs == 1 && live == nr {
        // Rows are contiguous: one fixed-size copy per step of k (a `memcpy` call per row
        // costs more than the copy at these sizes).
        // SAFETY: columns j .. j+nr of rows p0 .. p0+kc are inside the block.
        unsafe {
            match nr {
                8 => copy_rows::<T, 8>(b, p0, kc, j, out),
                16 => copy_rows::<T, 16>(b, p0, kc, j, out),
                24 => copy_rows::<T, 24>(b, p0, kc, j, out),
                48 => copy_rows::<T, 48>(b, p0, kc, j, out),
                _ => copy_rows_dyn(b, p0, kc, j, live, nr, out),
            }
        }
    } else if b.cs == 1 {
        // SAFETY: columns j .. j+live of rows p0 .. p0+kc are inside the block.
        unsafe { copy_rows_dyn(b, p0, kc, j, live, nr, out) };
    } else {
        // Columns are contiguous (B = Yᵀ, the distance case) or everything is strided: walk
        // each column along k and scatter into the panel.
        for jj in 0..live {
            // SAFETY: column j+jj, rows p0 .. p0+kc are inside the block.
            let col = unsafe { b.at(p0, j + jj) };
            for p in 0..kc {
                // SAFETY: as above; p < kc.
                out[p * nr + jj] = unsafe { *col.offset(p as isize * b.rs) };
            }
        }
    }
}

/// `out[p · NR ..][..NR] = b[p0 + p, j .. j + NR]` for unit-stride rows.
///
/// # Safety
/// `b.cs == 1`; rows `p0 .. p0+kc`, columns `j .. j+NR` lie inside `b`; `out.len() >= kc · NR`.
#[inline(always)]
unsafe fn copy_rows<T: Copy, const NR: usize>(
    b: MatRef<T>,
    p0: usize,
    kc: usize,
    j: usize,
    out: &mut [T],
) {
    for (p, out) in out.chunks_exact_mut(NR).take(kc).enumerate() {
        // SAFETY: row p0+p, columns j .. j+NR are inside the block.
        let src = unsafe { b.at(p0 + p, j).cast::<[T; NR]>().read_unaligned() };
        out.copy_from_slice(&src);
    }
}

/// As [`copy_rows`] for `live <= nr` columns known only at run time.
///
/// # Safety
/// `b.cs == 1`; rows `p0 .. p0+kc`, columns `j .. j+live` lie inside `b`; `out.len() >= kc · nr`.
unsafe fn copy_rows_dyn<T: Copy>(
    b: MatRef<T>,
    p0: usize,
    kc: usize,
    j: usize,
    live: usize,
    nr: usize,
    out: &mut [T],
) {
    for (p, out) in out.chunks_exact_mut(nr).take(kc).enumerate() {
        // SAFETY: columns j .. j+live of row p0+p are inside the block.
        let src = unsafe { std::slice::from_raw_parts(b.at(p0 + p, j), live) };
        out[..live].copy_from_slice(src);
    }
}
