//! The CUDA C sources in `kernels/`, compiled at run time with NVRTC to PTX for the device's
//! compute capability, one kernel at a time as it is first used, once per process. Run-time
//! compilation rather than shipped PTX: the crate then needs no CUDA toolkit to build, and
//! each GPU gets code for its own architecture (PTX built for an older one would be
//! JIT-compiled without its newer instructions). One kernel at a time because the whole file
//! takes NVRTC about 30 s (32 register-blocked instantiations) and a run uses two or three.

use std::collections::HashMap;
use std::sync::Mutex;

use cudarc::nvrtc::{CompileError, CompileOptions, Ptx, compile_ptx_with_opts};

use crate::error::{Error, Result};

/// Every kernel source, by file name. They are compiled together as one module.
pub const KERNEL_SOURCES: &[(&str, &str)] = &[("cdist.cu", include_str!("../../kernels/cdist.cu"))];

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

/// All sources as one translation unit.
fn source() -> String {
    KERNEL_SOURCES
        .iter()
        .map(|(name, text)| format!("// ---- {name}\n{text}\n"))
        .collect()
}

/// `DEFINE_CDIST(t, o, op)`, `DEFINE_KNN(t, op)`, `DEFINE_PACK(s, t)` or `DEFINE_PREP(s, t)`
/// for a kernel name of `kernels/cdist.cu` (`cdist_f32_f64_cityblock`, `pack_f64_f32`,
/// `prep_f64_f32`).
fn instantiation(kernel: &str) -> Result<String> {
    let parts: Vec<&str> = kernel.split('_').collect();
    let ty = |s: &str| matches!(s, "f32" | "f64");
    const OPS: [&str; 9] = [
        "sqeuclidean",
        "cityblock",
        "chebyshev",
        "dot",
        "minkowski",
        "canberra",
        "braycurtis",
        "hamming",
        "jensenshannon",
    ];
    match parts.as_slice() {
        ["cdist", t, o, op] if ty(t) && ty(o) && OPS.contains(op) => {
            Ok(format!("DEFINE_CDIST({t}, {o}, {op})\n"))
        }
        ["knn", t, op] if ty(t) && OPS.contains(op) => Ok(format!("DEFINE_KNN({t}, {op})\n")),
        ["pack", s, t] if ty(s) && ty(t) => Ok(format!("DEFINE_PACK({s}, {t})\n")),
        ["prep", s, t] if ty(s) && ty(t) => Ok(format!("DEFINE_PREP({s}, {t})\n")),
        _ => Err(Error::Cuda(format!("no kernel named {kernel}"))),
    }
}

/// Compiles the sources for `arch`: every kernel, or only `kernel`.
fn compile(arch: &'static str, kernel: Option<&str>) -> Result<Ptx> {
    nvrtc_present()?;
    let mut src = source();
    let mut options = vec![];
    if let Some(k) = kernel {
        src.push_str(&instantiation(k)?);
        options.push("-DNDSTRIDE_ONE_KERNEL".to_string());
    }
    let opts = CompileOptions {
        options,
        arch: Some(arch),
        // Exact square roots and divisions, as SciPy's; FMA contraction stays on.
        prec_sqrt: Some(true),
        prec_div: Some(true),
        ftz: Some(false),
        name: Some("ndstride_kernels.cu".into()),
        ..Default::default()
    };
    compile_ptx_with_opts(src, opts).map_err(|e| match e {
        CompileError::CompileError { log, .. } => Error::Cuda(format!(
            "the kernels in kernels/ do not compile for {arch}:\n{}",
            log.to_string_lossy()
        )),
        other => Error::Cuda(format!("NVRTC failed for {arch}: {other:?}")),
    })
}

/// Compiles every kernel for `compute_capability` (e.g. `(9, 0)`), without a GPU: CI calls
/// this so that a kernel that does not compile fails the build. Returns the PTX size.
pub fn compile_kernels(compute_capability: (i32, i32)) -> Result<usize> {
    let ptx = compile(arch(compute_capability), None)?;
    Ok(ptx.to_src().len())
}

/// Compiles one kernel (e.g. `cdist_f32_f32_cityblock`, `pack_f64_f32`) as the run-time path
/// does, without a GPU. Returns the PTX size.
pub fn compile_kernel(compute_capability: (i32, i32), kernel: &str) -> Result<usize> {
    Ok(compile(arch(compute_capability), Some(kernel))?
        .to_src()
        .len())
}

/// The PTX of one kernel for a compute capability, compiled once per process.
pub(crate) fn ptx_for(cc: (i32, i32), kernel: &str) -> Result<Ptx> {
    type Cache = HashMap<((i32, i32), String), Ptx>;
    static CACHE: Mutex<Option<Cache>> = Mutex::new(None);
    let key = (cc, kernel.to_string());
    {
        let cache = CACHE
            .lock()
            .map_err(|_| Error::Cuda("the PTX cache lock was poisoned".into()))?;
        if let Some(ptx) = cache.as_ref().and_then(|m| m.get(&key)) {
            return Ok(ptx.clone());
        }
    }
    // Compiled outside the lock: two threads may both compile a kernel the first time.
    let ptx = compile(arch(cc), Some(kernel))?;
    let mut cache = CACHE
        .lock()
        .map_err(|_| Error::Cuda("the PTX cache lock was poisoned".into()))?;
    cache
        .get_or_insert_with(HashMap::new)
        .insert(key, ptx.clone());
    Ok(ptx)
}

#[cfg(test)]
mod tests {
    use super::instantiation;

    #[test]
    fn kernel_names_map_to_one_instantiation() {
        assert_eq!(
            instantiation("cdist_f32_f64_cityblock").unwrap(),
            "DEFINE_CDIST(f32, f64, cityblock)\n"
        );
        assert_eq!(
            instantiation("knn_f32_cityblock").unwrap(),
            "DEFINE_KNN(f32, cityblock)\n"
        );
        assert_eq!(
            instantiation("pack_f64_f32").unwrap(),
            "DEFINE_PACK(f64, f32)\n"
        );
        assert_eq!(
            instantiation("prep_f32_f64").unwrap(),
            "DEFINE_PREP(f32, f64)\n"
        );
        for bad in [
            "cdist_f16_f32_dot",
            "cdist_f32_f32_x",
            "pack_f32",
            "prep_f32_f16",
            "cdist_f32_f32_dot_x",
            "knn_f32_f32_dot",
        ] {
            assert!(instantiation(bad).is_err(), "{bad}");
        }
    }
}
