//! [`DeviceArray`]: NumPy's model with the buffer in GPU memory.

use std::sync::Arc;

use cudarc::driver::CudaSlice;

use super::context::{Device, cuda_error};
use crate::array::NdArray;
use crate::buffer::Buffer;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::layout::{Layout, Order, SliceInfo, parse_slice_str};

/// An N-dimensional array whose buffer is on a GPU: the same metadata as [`NdArray`] (shape,
/// byte strides, byte offset, dtype), so transposes, slices and broadcasts change only that
/// metadata and never touch device memory. Views share the buffer (reference-counted).
#[derive(Clone)]
pub struct DeviceArray {
    buffer: Arc<CudaSlice<u8>>,
    layout: Layout,
    dtype: DType,
    device: Device,
}

impl NdArray {
    /// Copies the array to `device`. A C- or F-contiguous array is sent as it is (its strides
    /// kept); any other layout is made C-contiguous on the host first, as `cupy.asarray` does.
    pub fn to_device(&self, device: &Device) -> Result<DeviceArray> {
        let packed;
        let a = if self.is_c_contiguous() || self.is_f_contiguous() {
            self
        } else {
            packed = self.to_contiguous(Order::C);
            &packed
        };
        let bytes = a.contiguous_bytes();
        // A zero-length allocation is not allowed; an empty array keeps one spare byte.
        let buffer = if bytes.is_empty() {
            device.stream().alloc_zeros::<u8>(1)
        } else {
            device.stream().clone_htod(bytes)
        }
        .map_err(cuda_error("copying an array to the device"))?;
        let mut layout = a.layout().clone();
        layout.offset = 0;
        DeviceArray::new(Arc::new(buffer), layout, a.dtype(), device.clone())
    }
}

impl DeviceArray {
    fn new(
        buffer: Arc<CudaSlice<u8>>,
        layout: Layout,
        dtype: DType,
        device: Device,
    ) -> Result<Self> {
        layout.check_in_buffer(dtype.itemsize(), buffer.len())?;
        Ok(DeviceArray {
            buffer,
            layout,
            dtype,
            device,
        })
    }

    /// A new C-contiguous array of `shape` on `device`, zero-filled.
    pub fn zeros(device: &Device, shape: &[usize], dtype: DType) -> Result<DeviceArray> {
        let layout = Layout::contiguous(shape, dtype.itemsize(), Order::C)?;
        let bytes = crate::layout::checked_nbytes(shape, dtype.itemsize())?;
        let buffer = device
            .stream()
            .alloc_zeros::<u8>(bytes.max(1))
            .map_err(cuda_error("allocating device memory"))?;
        DeviceArray::new(Arc::new(buffer), layout, dtype, device.clone())
    }

    /// Wraps a device buffer holding a C-contiguous array (the kernels' outputs).
    pub(crate) fn from_device_buffer(
        buffer: CudaSlice<u8>,
        shape: &[usize],
        dtype: DType,
        device: &Device,
    ) -> Result<DeviceArray> {
        let layout = Layout::contiguous(shape, dtype.itemsize(), Order::C)?;
        DeviceArray::new(Arc::new(buffer), layout, dtype, device.clone())
    }

    /// Copies the array back: the bytes its elements span, with the same shape, strides and
    /// dtype (the offset moves to the start of the copied span).
    pub fn to_host(&self) -> Result<NdArray> {
        let isz = self.dtype.itemsize();
        let Some((lo, hi)) = self.layout.extent(isz) else {
            return NdArray::zeros(&self.layout.shape, self.dtype);
        };
        // In bounds: checked when this layout was made.
        let (lo, hi) = (lo as usize, hi as usize);
        let mut buffer = Buffer::zeroed(hi - lo)?;
        let dst = buffer
            .as_bytes_mut()
            .ok_or_else(|| Error::invalid("a fresh host buffer is not writeable"))?;
        self.device
            .stream()
            .memcpy_dtoh(&self.buffer.slice(lo..hi), dst)
            .map_err(cuda_error("copying an array from the device"))?;
        let layout = Layout {
            shape: self.layout.shape.clone(),
            strides: self.layout.strides.clone(),
            offset: self.layout.offset - lo,
        };
        NdArray::from_buffer(buffer, layout, self.dtype)
    }

    fn derive(&self, layout: Layout) -> Result<DeviceArray> {
        DeviceArray::new(
            Arc::clone(&self.buffer),
            layout,
            self.dtype,
            self.device.clone(),
        )
    }

    crate::layout::layout_accessors!(offset);
    pub fn dtype(&self) -> DType {
        self.dtype
    }
    pub fn device(&self) -> &Device {
        &self.device
    }
    /// Bytes of the device buffer (shared by every view of it).
    pub fn buffer_len(&self) -> usize {
        self.buffer.len()
    }
    /// Whether two device arrays are views of one device buffer.
    pub fn shares_buffer(&self, other: &DeviceArray) -> bool {
        Arc::ptr_eq(&self.buffer, &other.buffer)
    }
    pub fn is_c_contiguous(&self) -> bool {
        self.layout.is_c_contiguous(self.dtype.itemsize())
    }

    /// The transpose (axes reversed), a view.
    pub fn t(&self) -> DeviceArray {
        self.derive(self.layout.transposed())
            .expect("a permutation of an in-bounds layout stays in bounds")
    }
    /// Axes permuted, a view.
    pub fn transpose(&self, axes: &[isize]) -> Result<DeviceArray> {
        self.derive(self.layout.permuted(axes)?)
    }
    /// NumPy's basic indexing, a view.
    pub fn slice(&self, info: SliceInfo) -> Result<DeviceArray> {
        self.derive(self.layout.sliced(&info)?)
    }
    /// Basic indexing from NumPy text, e.g. `"1::2, ::-1"`, a view.
    pub fn slice_str(&self, text: &str) -> Result<DeviceArray> {
        self.slice(parse_slice_str(text)?)
    }
    /// Reversed along `axis`, a view.
    pub fn flip(&self, axis: isize) -> Result<DeviceArray> {
        self.derive(self.layout.flipped(axis)?)
    }
    /// Broadcast to `shape` (zero strides), a view.
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<DeviceArray> {
        self.derive(self.layout.broadcast_to(shape)?)
    }

    /// The raw buffer, for kernels.
    pub(crate) fn buffer(&self) -> &CudaSlice<u8> {
        &self.buffer
    }
}

impl std::fmt::Debug for DeviceArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DeviceArray(shape={:?}, strides={:?}, offset={}, dtype={}, {:?})",
            self.layout.shape, self.layout.strides, self.layout.offset, self.dtype, self.device
        )
    }
}
