//! The distance kernels' CUDA C source, `kernels/cdist.cu`, registered with the device layer
//! (which compiles any [`KernelSource`] with NVRTC and knows nothing of distances), and the
//! kernel names it instantiates.

use super::plan::GpuOp;
use crate::device::{self, KernelSource};
use crate::error::Result;

/// `kernels/cdist.cu`: the cdist, kNN, packing and row-preparation kernels.
pub(crate) static CDIST_CU: KernelSource = KernelSource {
    file: "cdist.cu",
    text: include_str!("../../../kernels/cdist.cu"),
    instantiation,
};

/// `DEFINE_CDIST(t, o, op)`, `DEFINE_KNN(t, op)`, `DEFINE_PACK(s, t)` or `DEFINE_PREP(s, t)`
/// for a kernel name of `kernels/cdist.cu` (`cdist_f32_f64_cityblock`, `knn_f32_dot`,
/// `pack_f64_f32`, `prep_f64_f32`); `None` for any other name.
fn instantiation(kernel: &str) -> Option<String> {
    let parts: Vec<&str> = kernel.split('_').collect();
    let ty = |s: &str| matches!(s, "f32" | "f64");
    let op = |s: &str| GpuOp::ALL.iter().any(|o| o.name() == s);
    Some(match parts.as_slice() {
        ["cdist", t, o, p] if ty(t) && ty(o) && op(p) => format!("DEFINE_CDIST({t}, {o}, {p})\n"),
        ["knn", t, p] if ty(t) && op(p) => format!("DEFINE_KNN({t}, {p})\n"),
        ["pack", s, t] if ty(s) && ty(t) => format!("DEFINE_PACK({s}, {t})\n"),
        ["prep", s, t] if ty(s) && ty(t) => format!("DEFINE_PREP({s}, {t})\n"),
        _ => return None,
    })
}

/// Compiles every distance kernel for `compute_capability` (e.g. `(9, 0)`), without a GPU:
/// CI calls this so that a kernel that does not compile fails the build. Returns the PTX
/// size.
pub fn compile_kernels(compute_capability: (i32, i32)) -> Result<usize> {
    device::compile_source(&CDIST_CU, compute_capability)
}

/// Compiles one distance kernel (e.g. `cdist_f32_f32_cityblock`, `pack_f64_f32`) as the
/// run-time path does, without a GPU. Returns the PTX size.
pub fn compile_kernel(compute_capability: (i32, i32), kernel: &str) -> Result<usize> {
    device::compile_source_kernel(&CDIST_CU, compute_capability, kernel)
}

#[cfg(test)]
mod tests {
    use super::instantiation;

    #[test]
    fn kernel_names_map_to_one_instantiation() {
        let one = |k| instantiation(k).unwrap();
        assert_eq!(
            one("cdist_f32_f64_cityblock"),
            "DEFINE_CDIST(f32, f64, cityblock)\n"
        );
        assert_eq!(one("knn_f32_cityblock"), "DEFINE_KNN(f32, cityblock)\n");
        assert_eq!(
            one("cdist_f64_f64_jensenshannon"),
            "DEFINE_CDIST(f64, f64, jensenshannon)\n"
        );
        assert_eq!(one("pack_f64_f32"), "DEFINE_PACK(f64, f32)\n");
        assert_eq!(one("prep_f32_f64"), "DEFINE_PREP(f32, f64)\n");
        for bad in [
            "cdist_f16_f32_dot",
            "cdist_f32_f32_x",
            "pack_f32",
            "prep_f32_f16",
            "cdist_f32_f32_dot_x",
            "knn_f32_f32_dot",
        ] {
            assert!(instantiation(bad).is_none(), "{bad}");
        }
    }
}
