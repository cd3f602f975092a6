//! Strided iteration: plan the axes of one or more operands (drop length-1 axes, order them by
//! stride so the innermost loop walks memory, merge axes that are contiguous with each other),
//! then run a contiguous or cache-blocked inner loop.

mod copy;
pub mod elementwise;
mod offsets;
mod plan;
mod transpose_tile;

pub use copy::copy_strided;
pub use offsets::{IndexIter, OffsetIter};
pub use plan::{AxisPlan, plan_axes};
