//! CUDA C sources registered by the layers above (as [`KernelSource`]s), compiled at run time
//! with NVRTC to PTX for the device's compute capability, one kernel at a time as it is first
//! used, once per process. Run-time
//! compilation rather than shipped PTX: the crate then needs no CUDA toolkit to build, and
//! each GPU gets code for its own architecture (PTX built for an older one would be
//! JIT-compiled without its newer instructions). One kernel at a time because the whole file
//! takes NVRTC about 30 s (32 register-blocked instantiations) and a run uses two or three.

use std::collections::HashMap;
use std::sync::Mutex;

use cudarc::nvrtc::{CompileError, CompileOptions, Ptx, compile_ptx_with_opts};

use crate::error::{Error, Result};

/// A CUDA C source a higher layer registers (the distance kernels register
/// `kernels/cdist.cu`): its text, and which instantiation builds one kernel by name.
pub struct KernelSource {
    /// The file's name, for messages and the PTX cache.
    pub file: &'static str,
    pub text: &'static str,
    /// The line that instantiates kernel `name` when the source is compiled with
    /// `-DNDSTRIDE_ONE_KERNEL` (`None`: the source has no such kernel).
    pub instantiation: fn(name: &str) -> Option<String>,
}

/// `Err` unless `libnvrtc` can be loaded.
fn nvrtc_present() -> Result<()> {
    // SAFETY: only tries to dlopen the NVRTC library under its usual names.
    if unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        Ok(())
    } else {
        Err(Error::Cuda(
            "NVRTC (libnvrtc.so) could not be loaded; it ships with the CUDA toolkit, or \
             `pip install nvidia-cuda-nvrtc` with LD_LIBRARY_PATH pointing at its lib folder"
                .into(),
        ))
    }
}

/// The virtual architecture for a compute capability, e.g. `compute_90`. NVRTC wants a
/// `&'static str`; the usual ones are literals, others are leaked once per process.
fn arch(cc: (i32, i32)) -> &'static str {
    match cc {
        (7, 0) => "compute_70",
        (7, 5) => "compute_75",
        (8, 0) => "compute_80",
        (8, 6) => "compute_86",
        (8, 9) => "compute_89",
        (9, 0) => "compute_90",
        (10, 0) => "compute_100",
        (12, 0) => "compute_120",
        (major, minor) => Box::leak(format!("compute_{major}{minor}").into_boxed_str()),
    }
}

/// Compiles `source` for `arch`: every kernel, or only `kernel`.
fn compile(source: &KernelSource, arch: &'static str, kernel: Option<&str>) -> Result<Ptx> {
    nvrtc_present()?;
    let mut src = source.text.to_string();
    let mut options = vec![];
    if let Some(k) = kernel {
        let line = (source.instantiation)(k)
            .ok_or_else(|| Error::Cuda(format!("no kernel named {k} in {}", source.file)))?;
        src.push_str(&line);
        options.push("-DNDSTRIDE_ONE_KERNEL".to_string());
    }
    let opts = CompileOptions {
        options,
        arch: Some(arch),
        // Exact square roots and divisions, as SciPy's; FMA contraction stays on.
        prec_sqrt: Some(true),
        prec_div: Some(true),
        ftz: Some(false),
        name: Some(source.file.into()),
        ..Default::default()
    };
    compile_ptx_with_opts(src, opts).map_err(|e| match e {
        CompileError::CompileError { log, .. } => Error::Cuda(format!(
            "the kernels of {} do not compile for {arch}:\n{}",
            source.file,
            log.to_string_lossy()
        )),
        other => Error::Cuda(format!("NVRTC failed for {arch}: {other:?}")),
    })
}

/// Compiles every kernel of `source` for `compute_capability` (e.g. `(9, 0)`), without a
/// GPU. Returns the PTX size.
pub fn compile_source(source: &KernelSource, compute_capability: (i32, i32)) -> Result<usize> {
    Ok(compile(source, arch(compute_capability), None)?
        .to_src()
        .len())
}

/// Compiles one kernel of `source` as the run-time path does, without a GPU. Returns the PTX
/// size.
pub fn compile_source_kernel(
    source: &KernelSource,
    compute_capability: (i32, i32),
    kernel: &str,
) -> Result<usize> {
    Ok(compile(source, arch(compute_capability), Some(kernel))?
        .to_src()
        .len())
}

/// The PTX of one kernel for a compute capability, compiled once per process.
pub(crate) fn ptx_for(source: &KernelSource, cc: (i32, i32), kernel: &str) -> Result<Ptx> {
    type Cache = HashMap<((i32, i32), &'static str, String), Ptx>;
    static CACHE: Mutex<Option<Cache>> = Mutex::new(None);
    let key = (cc, source.file, kernel.to_string());
    {
        let cache = CACHE
            .lock()
            .map_err(|_| Error::Cuda("the PTX cache lock was poisoned".into()))?;
        if let Some(ptx) = cache.as_ref().and_then(|m| m.get(&key)) {
            return Ok(ptx.clone());
        }
    }
    // Compiled outside the lock: two threads may both compile a kernel the first time.
    let ptx = compile(source, arch(cc), Some(kernel))?;
    let mut cache = CACHE
        .lock()
        .map_err(|_| Error::Cuda("the PTX cache lock was poisoned".into()))?;
    cache
        .get_or_insert_with(HashMap::new)
        .insert(key, ptx.clone());
    Ok(ptx)
}
