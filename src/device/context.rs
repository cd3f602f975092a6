//! One GPU: its CUDA context, a stream, and the module of compiled kernels.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cudarc::driver::{CudaContext, CudaFunction, CudaModule, CudaStream, sys};

use super::kernels::{self, KernelSource};
use crate::error::{Error, Result};

/// A GPU, by ordinal. Cloning is cheap (shared context and stream).
#[derive(Clone)]
pub struct Device {
    inner: Arc<Inner>,
}

struct Inner {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    /// Kernels by source file and name, each compiled for this device and loaded on first
    /// use.
    modules: Mutex<HashMap<(&'static str, String), Arc<CudaModule>>>,
}

/// What [`Device::info`] reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    pub ordinal: usize,
    pub name: String,
    /// Compute capability, e.g. (9, 0) for an H100.
    pub compute_capability: (i32, i32),
    pub multiprocessors: usize,
    pub total_memory: usize,
    pub free_memory: usize,
}

/// A CUDA failure as the crate's error, with what was being done.
pub(crate) fn cuda_error(what: &str) -> impl Fn(cudarc::driver::DriverError) -> Error + '_ {
    move |e| Error::Cuda(format!("{what}: {e:?}"))
}

/// `Err` unless `libcuda` can be loaded (cudarc would panic at its first call otherwise).
pub(crate) fn driver_present() -> Result<()> {
    static PRESENT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    // SAFETY: only tries to dlopen the driver library under its usual names.
    if *PRESENT.get_or_init(|| unsafe { sys::is_culib_present() }) {
        Ok(())
    } else {
        Err(Error::Cuda(
            "no CUDA driver found (libcuda.so could not be loaded)".into(),
        ))
    }
}

impl Device {
    /// The number of GPUs the driver sees (`Err` without a driver).
    pub fn count() -> Result<usize> {
        driver_present()?;
        let n = CudaContext::device_count().map_err(cuda_error("counting CUDA devices"))?;
        Ok(n.max(0) as usize)
    }

    /// Whether a driver and at least one GPU are present.
    pub fn is_available() -> bool {
        Device::count().is_ok_and(|n| n > 0)
    }

    /// GPU number `ordinal` (0 is the first).
    pub fn new(ordinal: usize) -> Result<Device> {
        let count = Device::count()?;
        if ordinal >= count {
            return Err(Error::Cuda(format!(
                "CUDA device {ordinal} does not exist ({count} found)"
            )));
        }
        let ctx = CudaContext::new(ordinal).map_err(cuda_error("creating a CUDA context"))?;
        let stream = ctx.default_stream();
        Ok(Device {
            inner: Arc::new(Inner {
                ctx,
                stream,
                modules: Mutex::new(HashMap::new()),
            }),
        })
    }

    pub fn ordinal(&self) -> usize {
        self.inner.ctx.ordinal()
    }

    /// Name, compute capability, multiprocessor count, total and free memory.
    pub fn info(&self) -> Result<DeviceInfo> {
        let ctx = &self.inner.ctx;
        let sms = ctx
            .attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
            .map_err(cuda_error("reading the multiprocessor count"))?;
        let (free, total) = ctx
            .mem_get_info()
            .map_err(cuda_error("reading the memory size"))?;
        Ok(DeviceInfo {
            ordinal: ctx.ordinal(),
            name: ctx.name().map_err(cuda_error("reading the device name"))?,
            compute_capability: ctx
                .compute_capability()
                .map_err(cuda_error("reading the compute capability"))?,
            multiprocessors: sms.max(0) as usize,
            total_memory: total,
            free_memory: free,
        })
    }

    /// Bytes of device memory free now.
    pub fn free_memory(&self) -> Result<usize> {
        Ok(self
            .inner
            .ctx
            .mem_get_info()
            .map_err(cuda_error("reading the memory size"))?
            .0)
    }

    /// Waits for all work queued on this device's stream.
    pub fn synchronize(&self) -> Result<()> {
        self.inner
            .stream
            .synchronize()
            .map_err(cuda_error("synchronizing the stream"))
    }

    pub(crate) fn stream(&self) -> &Arc<CudaStream> {
        &self.inner.stream
    }

    /// Kernel `name` of `source`, compiling and loading it on first use.
    pub(crate) fn function(&self, source: &KernelSource, name: &str) -> Result<CudaFunction> {
        let mut modules = self
            .inner
            .modules
            .lock()
            .map_err(|_| Error::Cuda("the kernel module lock was poisoned".into()))?;
        let key = (source.file, name.to_string());
        let module = match modules.get(&key) {
            Some(m) => m.clone(),
            None => {
                let cc = self
                    .inner
                    .ctx
                    .compute_capability()
                    .map_err(cuda_error("reading the compute capability"))?;
                let ptx = kernels::ptx_for(source, cc, name)?;
                let m = self
                    .inner
                    .ctx
                    .load_module(ptx)
                    .map_err(cuda_error("loading a compiled kernel"))?;
                modules.insert(key, m.clone());
                m
            }
        };
        module
            .load_function(name)
            .map_err(cuda_error("finding a kernel"))
    }
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Device({})", self.ordinal())
    }
}
