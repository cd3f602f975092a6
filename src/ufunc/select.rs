//! `where_` (NumPy's `where(cond, x, y)`) on the elementwise engine, and `clip`.

use super::binary::{BinaryOp, binary};
use super::promote::result_type;
use crate::array::NdArray;
use crate::dtype::DType;
use crate::error::Result;
use crate::iter::elementwise::{self, Kernel};
use crate::layout::broadcast_dims;

/// `out = if cond != 0 { x } else { y }` for elements of `W`'s size (the values are only
/// moved, so one kernel per size serves every dtype).
struct Select<W>(std::marker::PhantomData<W>);

impl<W: bytemuck::Pod + Send + Sync> Kernel<3> for Select<W> {
    #[inline]
    unsafe fn run(&self, out: *mut u8, os: isize, ins: [*const u8; 3], is: [isize; 3], n: usize) {
        let w = size_of::<W>() as isize;
        let aligned = |p: *const u8| (p as usize).is_multiple_of(align_of::<W>());
        // SAFETY: the engine guarantees `n` in-bounds positions for every operand, the output
        // exclusively ours and disjoint from the inputs; slices only for contiguous runs at
        // aligned addresses.
        unsafe {
            if os == w && is == [1, w, w] && aligned(out) && aligned(ins[1]) && aligned(ins[2]) {
                let c = std::slice::from_raw_parts(ins[0], n);
                let x = std::slice::from_raw_parts(ins[1] as *const W, n);
                let y = std::slice::from_raw_parts(ins[2] as *const W, n);
                let o = std::slice::from_raw_parts_mut(out as *mut W, n);
                for i in 0..n {
                    o[i] = if c[i] != 0 { x[i] } else { y[i] };
                }
            } else {
                for i in 0..n as isize {
                    let from = if *ins[0].offset(i * is[0]) != 0 {
                        ins[1].offset(i * is[1])
                    } else {
                        ins[2].offset(i * is[2])
                    };
                    let v = (from as *const W).read_unaligned();
                    (out.offset(i * os) as *mut W).write_unaligned(v);
                }
            }
        }
    }
    fn input_sizes(&self) -> [usize; 3] {
        [1, size_of::<W>(), size_of::<W>()]
    }
}

/// NumPy's `where(cond, x, y)`: `x` where `cond` is true (nonzero, any dtype), else `y`, all
/// three broadcast together, at the dtype `x` and `y` promote to.
///
/// ```
/// use ndstride::{NdArray, where_};
/// let x = NdArray::from_vec(vec![1.0, -2.0, 3.0, -4.0], &[4])?;
/// let zero = NdArray::zeros(&[], ndstride::DType::F64)?;
/// let relu = where_(&x.greater(&zero)?, &x, &zero)?;
/// assert_eq!(relu.to_vec::<f64>()?, vec![1.0, 0.0, 3.0, 0.0]);
/// # Ok::<(), ndstride::Error>(())
/// ```
pub fn where_(cond: &NdArray, x: &NdArray, y: &NdArray) -> Result<NdArray> {
    let shape = broadcast_dims(&[cond.shape(), x.shape(), y.shape()])?;
    let dtype = result_type(x.dtype(), y.dtype());
    let truth = if cond.dtype() == DType::Bool {
        cond.clone()
    } else {
        binary(
            BinaryOp::NotEqual,
            cond,
            &NdArray::zeros(&[], cond.dtype())?,
        )?
    };
    let prepare = |a: &NdArray| -> Result<NdArray> {
        let a = if a.dtype() == dtype {
            a.clone()
        } else {
            a.astype(dtype)?
        };
        a.broadcast_to(&shape)
    };
    let (c, x, y) = (truth.broadcast_to(&shape)?, prepare(x)?, prepare(y)?);
    let mut out = NdArray::for_overwrite(&shape, dtype)?;
    let layout = out.layout().clone();
    let dst = out.data_mut_ptr()?;
    let ins = [
        (c.data_ptr(), c.strides()),
        (x.data_ptr(), x.strides()),
        (y.data_ptr(), y.strides()),
    ];
    let bytes = 1 + 3 * dtype.itemsize();
    // SAFETY: the three inputs are broadcast to the output's shape and in bounds of their
    // buffers; the output is fresh, packed, solely owned and shares no bytes with them; every
    // element is written, which initialises the `for_overwrite` buffer.
    unsafe {
        match dtype.itemsize() {
            1 => elementwise::run(
                &shape,
                dst,
                &layout.strides,
                ins,
                bytes,
                &Select::<u8>(Default::default()),
            ),
            2 => elementwise::run(
                &shape,
                dst,
                &layout.strides,
                ins,
                bytes,
                &Select::<u16>(Default::default()),
            ),
            4 => elementwise::run(
                &shape,
                dst,
                &layout.strides,
                ins,
                bytes,
                &Select::<u32>(Default::default()),
            ),
            _ => elementwise::run(
                &shape,
                dst,
                &layout.strides,
                ins,
                bytes,
                &Select::<u64>(Default::default()),
            ),
        }
    }
    Ok(out)
}

impl NdArray {
    /// NumPy's `clip(a, a_min, a_max)`: `minimum(maximum(a, a_min), a_max)`, broadcasting the
    /// bounds (NaN in `a` stays NaN).
    pub fn clip(&self, a_min: &NdArray, a_max: &NdArray) -> Result<NdArray> {
        binary(
            BinaryOp::Minimum,
            &binary(BinaryOp::Maximum, self, a_min)?,
            a_max,
        )
    }
}
