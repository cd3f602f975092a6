//! Files: NumPy's `.npy` format (read, write whole or piece by piece, memory-map).

mod npy;
mod npy_header;
mod npy_writer;

pub use npy::{load_npy, load_npy_mmap, read_npy_header, save_npy};
pub use npy_header::{MAX_HEADER_LEN, NpyHeader};
pub use npy_writer::NpyWriter;
