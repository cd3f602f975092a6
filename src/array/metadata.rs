//! Operations that only change metadata: O(ndim), share the buffer, never copy.

use super::NdArray;
use crate::dtype::DType;
use crate::error::{Error, Result, shape_str};
use crate::layout::{Layout, Order, SliceInfo, broadcast_shapes, parse_slice_str};

impl NdArray {
    /// Axes reversed (NumPy's `a.T`).
    pub fn t(&self) -> NdArray {
        self.derive_infallible(self.layout.transposed())
    }

    /// Axes permuted: new axis `i` is old axis `axes[i]` (negative axes count from the end).
    pub fn transpose(&self, axes: &[isize]) -> Result<NdArray> {
        Ok(self.derive_infallible(self.layout.permuted(axes)?))
    }

    pub fn swapaxes(&self, a: isize, b: isize) -> Result<NdArray> {
        Ok(self.derive_infallible(self.layout.swapped(a, b)?))
    }

    /// Moves axis `source` to position `destination` (NumPy's `moveaxis` for one axis).
    pub fn moveaxis(&self, source: isize, destination: isize) -> Result<NdArray> {
        let nd = self.ndim();
        let s = crate::layout::normalize_axis(source, nd)?;
        let d = crate::layout::normalize_axis(destination, nd)?;
        let mut order: Vec<isize> = (0..nd as isize).filter(|&a| a != s as isize).collect();
        order.insert(d, s as isize);
        self.transpose(&order)
    }

    /// Reverses the order of elements along `axis` (negative stride, moved offset).
    pub fn flip(&self, axis: isize) -> Result<NdArray> {
        self.derive(self.layout.flipped(axis)?, self.dtype)
    }

    /// NumPy's `diagonal(offset, axis1, axis2)`, read-only as in NumPy.
    pub fn diagonal(&self, offset: isize, axis1: isize, axis2: isize) -> Result<NdArray> {
        let mut d = self.derive(self.layout.diagonal(offset, axis1, axis2)?, self.dtype)?;
        d.writeable = false;
        Ok(d)
    }

    /// Removes the given length-1 axes, or all of them with `None`.
    pub fn squeeze(&self, axes: Option<&[isize]>) -> Result<NdArray> {
        self.derive(self.layout.squeezed(axes)?, self.dtype)
    }

    /// Inserts a length-1 axis at `axis` (NumPy's `expand_dims`, which is a reshape: the new
    /// axis gets the stride NumPy's reshape gives it).
    pub fn expand_dims(&self, axis: isize) -> Result<NdArray> {
        let nd = self.ndim() + 1;
        let a = crate::layout::normalize_axis(axis, nd)?;
        let mut shape = self.shape().to_vec();
        shape.insert(a, 1);
        self.reshape_view(&shape)
    }

    /// Reads the array as `shape`, repeating length-1 axes with stride 0. The result is
    /// read-only, as in NumPy.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<NdArray> {
        let mut b = self.derive(self.layout.broadcast_to(shape)?, self.dtype)?;
        b.writeable = false;
        Ok(b)
    }

    /// Broadcasts several arrays against each other (NumPy's `broadcast_arrays`).
    pub fn broadcast_arrays(arrays: &[&NdArray]) -> Result<Vec<NdArray>> {
        let shapes: Vec<&[usize]> = arrays.iter().map(|a| a.shape()).collect();
        let target = broadcast_shapes(&shapes)?;
        arrays.iter().map(|a| a.broadcast_to(&target)).collect()
    }

    /// A view with any shape and byte strides starting at this array's offset. Unlike NumPy's
    /// `as_strided`, every byte the view can reach is checked to lie inside the buffer. A view
    /// that reaches some element twice is read-only.
    pub fn as_strided(&self, shape: &[usize], strides: &[isize]) -> Result<NdArray> {
        self.as_strided_at(shape, strides, 0)
    }

    /// [`as_strided`](Self::as_strided) with the start moved by `byte_offset` (may be negative).
    pub fn as_strided_at(
        &self,
        shape: &[usize],
        strides: &[isize],
        byte_offset: isize,
    ) -> Result<NdArray> {
        if shape.len() != strides.len() {
            return Err(Error::invalid(format!(
                "as_strided: shape {} and strides {} have different lengths",
                shape_str(shape),
                crate::error::strides_str(strides)
            )));
        }
        let offset = crate::layout::shift_offset(self.layout.offset, byte_offset)?;
        self.derive(
            Layout {
                shape: shape.into(),
                strides: strides.into(),
                offset,
            },
            self.dtype,
        )
    }

    /// NumPy's `sliding_window_view(a, window_shape, axis)`: a read-only view of every window,
    /// with the window axes appended. `axes: None` slides over every axis (one window length
    /// per axis); an axis may be listed twice, as in NumPy. Windows longer than their axis are
    /// an error. The textbook `as_strided` case, with its bounds checked.
    ///
    /// ```
    /// use ndstride::{DType, NdArray};
    /// let a = NdArray::arange(5, DType::I64)?;
    /// let w = a.sliding_window_view(&[3], None)?;
    /// assert_eq!(w.shape(), &[3, 3]);
    /// assert_eq!(w.to_vec::<i64>()?, [0, 1, 2, 1, 2, 3, 2, 3, 4]);
    /// assert!(w.shares_buffer_with(&a));
    /// # Ok::<(), ndstride::Error>(())
    /// ```
    pub fn sliding_window_view(
        &self,
        window_shape: &[usize],
        axes: Option<&[isize]>,
    ) -> Result<NdArray> {
        let all: Vec<isize>;
        let axes = match axes {
            Some(list) => {
                if list.len() != window_shape.len() {
                    return Err(Error::invalid(format!(
                        "Must provide matching length window_shape and axis; got {} window_shape elements and {} axes elements.",
                        window_shape.len(),
                        list.len()
                    )));
                }
                list
            }
            None => {
                if window_shape.len() != self.ndim() {
                    return Err(Error::invalid(format!(
                        "Since axis is `None`, must provide window_shape for all dimensions of `x`; got {} window_shape elements and `x.ndim` is {}.",
                        window_shape.len(),
                        self.ndim()
                    )));
                }
                all = (0..self.ndim() as isize).collect();
                &all
            }
        };
        let mut shape: Vec<usize> = self.shape().to_vec();
        let mut strides: Vec<isize> = self.strides().to_vec();
        for (&ax, &w) in axes.iter().zip(window_shape) {
            let ax = crate::layout::normalize_axis(ax, self.ndim())?;
            if shape[ax] < w {
                return Err(Error::invalid(format!(
                    "window shape cannot be larger than input array shape (window {w} along axis {ax} of length {})",
                    shape[ax]
                )));
            }
            shape[ax] = shape[ax] + 1 - w;
            shape.push(w);
            strides.push(self.strides()[ax]);
        }
        let mut v = self.derive(
            Layout {
                shape: shape.as_slice().into(),
                strides: strides.as_slice().into(),
                offset: self.layout.offset,
            },
            self.dtype,
        )?;
        v.writeable = false;
        Ok(v)
    }

    /// The same bytes read as another dtype (NumPy's `a.view(dtype)`): with a different item
    /// size the last axis must be contiguous and changes length.
    pub fn view_dtype(&self, dtype: DType) -> Result<NdArray> {
        let layout = self
            .layout
            .with_itemsize(self.itemsize(), dtype.itemsize())?;
        self.derive(layout, dtype)
    }

    /// Basic indexing with an [`s!`](crate::s) expression. Always a view.
    pub fn slice(&self, info: SliceInfo) -> Result<NdArray> {
        self.derive(self.layout.sliced(&info)?, self.dtype)
    }

    /// Basic indexing from NumPy text, e.g. `a.slice_str("1::2, ::-1, None")`.
    pub fn slice_str(&self, text: &str) -> Result<NdArray> {
        self.slice(parse_slice_str(text)?)
    }

    /// NumPy's `reshape` (C order): a view when NumPy's no-copy rule allows one, a copy
    /// otherwise. Use [`reshape_view`](Self::reshape_view) to forbid the copy.
    pub fn reshape(&self, shape: &[usize]) -> Result<NdArray> {
        self.reshape_order(shape, Order::C)
    }

    /// `reshape` reading and writing elements in the given order.
    pub fn reshape_order(&self, shape: &[usize], order: Order) -> Result<NdArray> {
        match self.layout.reshaped(shape, self.itemsize(), order)? {
            Some(layout) => self.derive(layout, self.dtype),
            None => {
                // As in NumPy, the result is a view of a packed copy (its `base` is the copy).
                let packed = self.copy_order(order)?;
                let layout = Layout::contiguous(shape, self.itemsize(), order)?;
                packed.derive(layout, self.dtype)
            }
        }
    }

    /// `reshape` that never copies: an error where NumPy would have to copy.
    pub fn reshape_view(&self, shape: &[usize]) -> Result<NdArray> {
        match self.layout.reshaped(shape, self.itemsize(), Order::C)? {
            Some(layout) => self.derive(layout, self.dtype),
            None => Err(Error::ReshapeNeedsCopy {
                shape: self.shape().to_vec(),
                strides: self.strides().to_vec(),
                to: shape.to_vec(),
            }),
        }
    }

    /// `reshape` with one `-1` entry inferred from the others, as NumPy allows.
    pub fn reshape_infer(&self, shape: &[isize]) -> Result<NdArray> {
        let unknown: Vec<usize> = shape
            .iter()
            .enumerate()
            .filter(|(_, d)| **d < 0)
            .map(|(i, _)| i)
            .collect();
        if unknown.len() > 1 || shape.iter().any(|&d| d < -1) {
            return Err(Error::invalid(
                "can only specify one unknown dimension (-1) and no other negative sizes",
            ));
        }
        let known: usize = shape
            .iter()
            .filter(|&&d| d >= 0)
            .try_fold(1usize, |a, &d| a.checked_mul(d as usize))
            .ok_or_else(|| Error::overflow("reshape shape"))?;
        let mut out: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
        if let Some(&i) = unknown.first() {
            if known == 0 || !self.size().is_multiple_of(known) {
                return Err(Error::shape(
                    "reshape",
                    format!(
                        "cannot reshape array of size {} into shape {:?}",
                        self.size(),
                        shape
                    ),
                ));
            }
            out[i] = self.size() / known;
        }
        self.reshape(&out)
    }

    /// A 1-d array of the elements in C order: a view when possible (NumPy's `ravel`).
    pub fn ravel(&self) -> Result<NdArray> {
        self.reshape(&[self.size()])
    }

    /// A 1-d copy of the elements in C order (NumPy's `flatten`): always a copy.
    pub fn flatten(&self) -> Result<NdArray> {
        let c = self.copy_order(Order::C)?;
        let n = c.size();
        Ok(NdArray {
            layout: Layout::contiguous(&[n], c.itemsize(), Order::C)?,
            ..c
        })
    }
}
