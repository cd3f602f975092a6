//! # ndstride
//!
//! Strided N-dimensional arrays with exactly NumPy's memory model — one shared data buffer plus
//! metadata (shape, strides in bytes, byte offset, run-time dtype) — so that views, transposes
//! and broadcasts cost O(ndim) and never copy, and a test can *prove* that with
//! [`CopyStats`].
//!
//! Layers, lowest first (a lower layer never imports a higher one):
//! 1. [`dtype`], [`buffer`], [`layout`], [`cpu`] — element types, raw storage, pure stride
//!    arithmetic, run-time instruction-set dispatch;
//! 2. [`array`](mod@array), [`iter`] — `NdArray` and typed views, strided iteration and copies;
//!    `device` (feature `cuda`) — a GPU and arrays whose buffer lives on it;
//! 3. [`ufunc`], [`linalg`] — elementwise operations, broadcasting, reductions; matmul;
//!    [`manip`] and [`sort`] on top of them — joining, splitting, gathering, comparing;
//!    sorting and selection;
//! 4. [`distance`], [`io`] — distance matrices (cdist, pdist, every SciPy metric); `.npy` files
//!    and memory maps.
//!
//! ```
//! use ndstride::{CopyStats, DType, NdArray, Order, s, shares_memory};
//! let a = NdArray::arange(9, DType::I8)?.reshape(&[3, 3])?;
//! assert_eq!(a.strides(), &[3, 1]);
//! let (t, stats) = CopyStats::scope(|| a.t());
//! assert_eq!(t.strides(), &[1, 3]);
//! assert!(stats.is_metadata_only() && shares_memory(&a, &t));
//! let r = a.slice(s![.., ..;-1])?;
//! assert_eq!((r.strides(), r.offset()), (&[3isize, -1][..], 2));
//! let c = t.to_contiguous(Order::C);
//! assert!(!shares_memory(&a, &c));
//! # Ok::<(), ndstride::Error>(())
//! ```

pub mod array;
pub mod buffer;
pub mod copy_stats;
pub mod cpu;
#[cfg(feature = "cuda")]
pub mod device;
pub mod distance;
pub mod dtype;
pub mod error;
pub mod io;
pub mod iter;
pub mod layout;
pub mod linalg;
pub mod manip;
pub mod sort;
pub mod ufunc;

pub use array::{
    ArrayView, ArrayViewMut, Flags, NdArray, may_share_memory, shares_memory, shares_memory_bounded,
};
pub use copy_stats::CopyStats;
pub use dtype::{DType, Element};
pub use error::{Error, Result};
pub use layout::{
    Ellipsis, IntoSliceItem, Layout, NewAxis, Order, Overlap, SliceInfo, SliceItem,
    broadcast_shapes,
};
pub use manip::{allclose, array_equal, concatenate, isclose, stack};
pub use ufunc::{where_, zip_map, zip_map3};

/// The README's examples, compiled and run as doctests so they stay true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
