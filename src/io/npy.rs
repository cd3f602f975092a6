//! Loading, saving and memory-mapping `.npy` files.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::npy_header::NpyHeader;
use super::npy_writer::NpyWriter;
use crate::array::NdArray;
use crate::buffer::Buffer;
use crate::error::{Error, Result, shape_str};
use crate::layout::{Layout, Order};

/// Reads just the header of a `.npy` file, and checks that the file holds all the data the
/// header announces.
pub fn read_npy_header(path: impl AsRef<Path>) -> Result<NpyHeader> {
    open_checked(path.as_ref()).map(|(_, header)| header)
}

/// Opens a `.npy` file and reads its header, checking that the file holds all the data the
/// header announces (before anything is allocated for them).
fn open_checked(path: &Path) -> Result<(File, NpyHeader)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let header = NpyHeader::read_from(&mut BufReader::new(&file))?;
    check_data_len(&header, file_len)?;
    Ok((file, header))
}

fn check_data_len(h: &NpyHeader, file_len: u64) -> Result<()> {
    let have = file_len.saturating_sub(h.data_offset as u64);
    if have < h.data_len() as u64 {
        return Err(Error::npy(format!(
            "truncated data: shape {} of {} needs {} bytes after the header, the file has {have}",
            shape_str(&h.shape),
            h.dtype,
            h.data_len()
        )));
    }
    Ok(())
}

/// Loads a `.npy` file into memory: every supported dtype, format versions 1.0-3.0, C or
/// Fortran order (kept: a Fortran file loads as an F-contiguous array without reordering),
/// big-endian data converted to native. The file length is checked against the header before
/// anything is allocated.
pub fn load_npy(path: impl AsRef<Path>) -> Result<NdArray> {
    let path = path.as_ref();
    let (mut file, h) = open_checked(path)?;
    file.seek(SeekFrom::Start(h.data_offset as u64))
        .map_err(|e| Error::io(path, e))?;
    let mut buffer = Buffer::zeroed(h.data_len())?;
    let bytes = buffer
        .as_bytes_mut()
        .expect("a fresh heap buffer is writeable");
    file.read_exact(bytes).map_err(|e| Error::io(path, e))?;
    if h.big_endian {
        let isz = h.dtype.itemsize();
        for elem in bytes.chunks_exact_mut(isz) {
            elem.reverse();
        }
    }
    let layout = Layout::contiguous(&h.shape, h.dtype.itemsize(), h.order())?;
    NdArray::from_buffer(buffer, layout, h.dtype)
}

/// Maps a `.npy` file read-only without copying its data. The array is not writeable.
/// Big-endian files cannot be mapped (their bytes would need converting): use [`load_npy`].
///
/// The mapping reflects the file: if another process truncates or rewrites it while the array
/// lives, reads see the change (or fault, on truncation), as with any memory map.
pub fn load_npy_mmap(path: impl AsRef<Path>) -> Result<NdArray> {
    let path = path.as_ref();
    let (file, h) = open_checked(path)?;
    if h.big_endian {
        return Err(Error::npy(
            "big-endian data cannot be memory-mapped as native values; use load_npy",
        ));
    }
    // SAFETY: the map is read-only and private to this process; the crate never writes through
    // it. Concurrent modification of the file by others is the documented caveat above.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
    let buffer = Buffer::from_file_map(map, h.data_offset, h.data_len())?;
    let layout = Layout::contiguous(&h.shape, h.dtype.itemsize(), h.order())?;
    NdArray::from_buffer(buffer, layout, h.dtype)
}

/// Saves an array as a `.npy` file (version 1.0, little-endian). C- or F-contiguous arrays are
/// written straight from their buffer; other layouts are written in C order one slice of the
/// first axis at a time, so memory stays bounded.
///
/// The data go to a temporary file beside `path`, which is renamed over `path` only once
/// everything is written and flushed (see [`NpyWriter`]): a failed or interrupted save never
/// leaves a file that passes for complete.
pub fn save_npy(path: impl AsRef<Path>, array: &NdArray) -> Result<()> {
    let fortran = !array.is_c_contiguous() && array.is_f_contiguous();
    let order = if fortran { Order::F } else { Order::C };
    let mut w = NpyWriter::create_with_order(path.as_ref(), array.dtype(), array.shape(), order)?;
    if fortran {
        w.write_data(array.contiguous_bytes())?;
    } else {
        w.write_array(array)?;
    }
    w.finish()
}
