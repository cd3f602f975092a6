//! Strided iteration: plan the axes of one or more operands (drop length-1 axes, order them by
//! stride so the innermost loop walks memory, merge axes that are contiguous with each other),
//! then run a contiguous or cache-blocked inner loop.
//!
//! The loop driver (`elementwise`) and the strided copy are crate-internal: their contracts
//! are `unsafe` ones the crate's own callers keep. The offset iterators and the axis planner
//! are public, safe, and what a test needs to walk a layout by hand.

mod copy;
pub(crate) mod elementwise;
mod offsets;
mod plan;
pub(crate) mod send_ptr;
mod transpose_tile;

pub(crate) use copy::copy_strided;
pub use offsets::{IndexIter, OffsetIter};
pub use plan::{AxisPlan, plan_axes};
