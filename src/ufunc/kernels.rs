//! Typed inner loops for the elementwise engine: contiguous, aligned runs go to the dispatched
//! SIMD loops; a broadcast scalar operand becomes a captured constant; anything else is a
//! strided loop with unaligned loads (memory maps need not be aligned).

use std::marker::PhantomData;

use super::simd::{NONTEMPORAL_MIN_BYTES, map1, map1_streaming, map2_nontemporal, map2_streaming};
use crate::iter::elementwise::Kernel;

fn aligned<T>(p: *const u8) -> bool {
    (p as usize).is_multiple_of(std::mem::align_of::<T>())
}

/// `out = f(in)`.
pub struct Map1<A, O, F> {
    f: F,
    /// `f` costs more than moving its bytes: contiguous runs use the widest vectors.
    compute_bound: bool,
    _p: PhantomData<fn(A) -> O>,
}

impl<A, O, F> Map1<A, O, F> {
    /// A cheap `f`, limited by memory bandwidth.
    pub fn new(f: F) -> Self {
        Map1 {
            f,
            compute_bound: false,
            _p: PhantomData,
        }
    }

    /// An expensive `f` (exp, log, sqrt, ...).
    pub fn compute_bound(f: F) -> Self {
        Map1 {
            f,
            compute_bound: true,
            _p: PhantomData,
        }
    }
}

impl<A: Copy, O: bytemuck::Pod, F: Fn(A) -> O + Sync> Kernel<1> for Map1<A, O, F> {
    #[inline]
    unsafe fn run(&self, out: *mut u8, os: isize, ins: [*const u8; 1], is: [isize; 1], n: usize) {
        // SAFETY: the engine guarantees n in-bounds, non-overlapping positions; the slices are
        // only formed for contiguous runs at aligned addresses.
        unsafe {
            if unit_step::<O>(os, n)
                && unit_step::<A>(is[0], n)
                && aligned::<O>(out)
                && aligned::<A>(ins[0])
            {
                let a = std::slice::from_raw_parts(ins[0] as *const A, n);
                let o = std::slice::from_raw_parts_mut(out as *mut O, n);
                if self.compute_bound {
                    map1(a, o, &self.f);
                } else {
                    map1_streaming(a, o, &self.f);
                }
            } else if self.compute_bound {
                map1_strided(out, os, ins[0], is[0], n, &self.f);
            } else {
                for i in 0..n as isize {
                    let v = (self.f)((ins[0].offset(i * is[0]) as *const A).read_unaligned());
                    (out.offset(i * os) as *mut O).write_unaligned(v);
                }
            }
        }
    }
    fn input_sizes(&self) -> [usize; 1] {
        [size_of::<A>()]
    }
}

/// Elements per block of [`map1_strided`]: 2 KiB of float64 on each side, in L1.
const STRIDED_BLOCK: usize = 256;

/// `f` over a strided run, in blocks: gathered into a buffer, mapped by the dispatched
/// [`map1`] (vectorised, with the instruction set's FMA), scattered back. Calling an
/// expensive `f` element by element here would compile it for the baseline target, where
/// `mul_add` is a call to the software `fma` (BENCHMARKS.md, "1×1 to 64×64 against ndarray").
///
/// # Safety
/// `n` elements of `A` at `a + i·sa` are readable and `n` of `O` at `out + i·so` writable and
/// disjoint from them.
unsafe fn map1_strided<A: Copy, O: bytemuck::Pod, F: Fn(A) -> O>(
    out: *mut u8,
    so: isize,
    a: *const u8,
    sa: isize,
    n: usize,
    f: &F,
) {
    let mut src = [std::mem::MaybeUninit::<A>::uninit(); STRIDED_BLOCK];
    let mut dst = [std::mem::MaybeUninit::<O>::uninit(); STRIDED_BLOCK];
    let mut done = 0;
    while done < n {
        let len = (n - done).min(STRIDED_BLOCK);
        for (k, slot) in src[..len].iter_mut().enumerate() {
            let i = (done + k) as isize;
            // SAFETY: element `done + k < n` of the run, readable by the contract.
            slot.write(unsafe { (a.offset(i * sa) as *const A).read_unaligned() });
        }
        // The output slots are initialised too, so that `y` is a slice of valid values
        // (zeroing only `len` of them: the whole block would cost more than a short run).
        for slot in &mut dst[..len] {
            slot.write(O::zeroed());
        }
        // SAFETY: the first `len` slots of both were written just above; `MaybeUninit<T>`
        // has `T`'s layout.
        let (x, y) = unsafe {
            (
                std::slice::from_raw_parts(src.as_ptr() as *const A, len),
                std::slice::from_raw_parts_mut(dst.as_mut_ptr() as *mut O, len),
            )
        };
        map1(x, y, f);
        for (k, &v) in y.iter().enumerate() {
            let i = (done + k) as isize;
            // SAFETY: element `done + k < n` of the output run, writable by the contract.
            unsafe { (out.offset(i * so) as *mut O).write_unaligned(v) };
        }
        done += len;
    }
}

/// True when a run of `n` elements at byte step `step` is packed: the step is the element
/// size, or there is at most one element (whose step the engine leaves at 0).
fn unit_step<T>(step: isize, n: usize) -> bool {
    n <= 1 || step == size_of::<T>() as isize
}

/// `out = f(a, b)`.
pub struct Map2<A, B, O, F> {
    f: F,
    _p: PhantomData<fn(A, B) -> O>,
}

impl<A, B, O, F> Map2<A, B, O, F> {
    pub fn new(f: F) -> Self {
        Map2 { f, _p: PhantomData }
    }
}

impl<A: Copy, B: Copy, O: bytemuck::Pod, F: Fn(A, B) -> O + Sync> Kernel<2> for Map2<A, B, O, F> {
    #[inline]
    unsafe fn run(&self, out: *mut u8, os: isize, ins: [*const u8; 2], is: [isize; 2], n: usize) {
        let f = &self.f;
        // SAFETY: as in Map1.
        unsafe {
            let out_ok = unit_step::<O>(os, n) && aligned::<O>(out);
            let a_ok = unit_step::<A>(is[0], n) && aligned::<A>(ins[0]);
            let b_ok = unit_step::<B>(is[1], n) && aligned::<B>(ins[1]);
            if out_ok && a_ok && b_ok {
                let a = std::slice::from_raw_parts(ins[0] as *const A, n);
                let b = std::slice::from_raw_parts(ins[1] as *const B, n);
                let o = std::slice::from_raw_parts_mut(out as *mut O, n);
                if n.saturating_mul(size_of::<O>()) >= NONTEMPORAL_MIN_BYTES {
                    map2_nontemporal(a, b, o, f);
                } else {
                    map2_streaming(a, b, o, f);
                }
            } else if out_ok && a_ok && is[1] == 0 {
                let y = (ins[1] as *const B).read_unaligned();
                let a = std::slice::from_raw_parts(ins[0] as *const A, n);
                map1_streaming(a, std::slice::from_raw_parts_mut(out as *mut O, n), &|x| {
                    f(x, y)
                });
            } else if out_ok && b_ok && is[0] == 0 {
                let x = (ins[0] as *const A).read_unaligned();
                let b = std::slice::from_raw_parts(ins[1] as *const B, n);
                map1_streaming(b, std::slice::from_raw_parts_mut(out as *mut O, n), &|y| {
                    f(x, y)
                });
            } else {
                for i in 0..n as isize {
                    let x = (ins[0].offset(i * is[0]) as *const A).read_unaligned();
                    let y = (ins[1].offset(i * is[1]) as *const B).read_unaligned();
                    (out.offset(i * os) as *mut O).write_unaligned(f(x, y));
                }
            }
        }
    }
    fn input_sizes(&self) -> [usize; 2] {
        [size_of::<A>(), size_of::<B>()]
    }
}

/// `out = f(a, b, c)`, for [`zip_map3`](super::zip_map3).
pub struct Map3<A, B, C, O, F> {
    f: F,
    _p: PhantomData<fn(A, B, C) -> O>,
}

impl<A, B, C, O, F> Map3<A, B, C, O, F> {
    pub fn new(f: F) -> Self {
        Map3 { f, _p: PhantomData }
    }
}

impl<A: Copy, B: Copy, C: Copy, O: Copy, F: Fn(A, B, C) -> O + Sync> Kernel<3>
    for Map3<A, B, C, O, F>
{
    #[inline]
    unsafe fn run(&self, out: *mut u8, os: isize, ins: [*const u8; 3], is: [isize; 3], n: usize) {
        let f = &self.f;
        // SAFETY: as in Map1: n in-bounds positions per operand, the output exclusively ours
        // and disjoint from the inputs; slices only for contiguous runs at aligned addresses.
        unsafe {
            let contiguous = os == size_of::<O>() as isize
                && is
                    == [
                        size_of::<A>() as isize,
                        size_of::<B>() as isize,
                        size_of::<C>() as isize,
                    ]
                && aligned::<O>(out)
                && aligned::<A>(ins[0])
                && aligned::<B>(ins[1])
                && aligned::<C>(ins[2]);
            if contiguous {
                let a = std::slice::from_raw_parts(ins[0] as *const A, n);
                let b = std::slice::from_raw_parts(ins[1] as *const B, n);
                let c = std::slice::from_raw_parts(ins[2] as *const C, n);
                let o = std::slice::from_raw_parts_mut(out as *mut O, n);
                for i in 0..n {
                    o[i] = f(a[i], b[i], c[i]);
                }
            } else {
                for i in 0..n as isize {
                    let x = (ins[0].offset(i * is[0]) as *const A).read_unaligned();
                    let y = (ins[1].offset(i * is[1]) as *const B).read_unaligned();
                    let z = (ins[2].offset(i * is[2]) as *const C).read_unaligned();
                    (out.offset(i * os) as *mut O).write_unaligned(f(x, y, z));
                }
            }
        }
    }
    fn input_sizes(&self) -> [usize; 3] {
        [size_of::<A>(), size_of::<B>(), size_of::<C>()]
    }
}

#[cfg(test)]
mod tests {
    use crate::{DType, NdArray, Order};

    #[test]
    fn expensive_functions_of_strided_operands_match_the_packed_result() {
        // 20 × 15 transposed (300 elements: a full block of 256 and a partial one), a
        // reversed row, and one element (whose run the engine gives the step 0).
        let a = NdArray::arange(300, DType::F64)
            .unwrap()
            .reshape(&[15, 20])
            .unwrap()
            .t();
        let reversed = NdArray::arange(7, DType::F64).unwrap().flip(0).unwrap();
        let one = NdArray::full_f64(&[1, 1], 0.25, DType::F64).unwrap();
        for x in [a, reversed, one] {
            let packed = x.to_contiguous(Order::C);
            for (got, want) in [
                (x.exp().unwrap(), packed.exp().unwrap()),
                (x.sqrt().unwrap(), packed.sqrt().unwrap()),
            ] {
                assert_eq!(
                    got.to_vec::<f64>().unwrap(),
                    want.to_vec::<f64>().unwrap(),
                    "shape {:?}, strides {:?}",
                    x.shape(),
                    x.strides()
                );
            }
        }
    }
}
