//! Writing a `.npy` file piece by piece, so that an array larger than memory (a distance
//! matrix computed block by block) can be saved while only one piece is resident.
//!
//! The pieces go to a temporary file beside the destination, in the order they are given
//! (C order); the file is renamed to its final name only by [`NpyWriter::finish`], once every
//! byte the header announces has been written and flushed to disk. Dropping a writer that was
//! not finished (an error, a panic, a cancelled run) deletes the temporary file, and a process
//! killed outright leaves only the hidden temporary: nothing ever passes for complete.
//!
//! Writes go through `write(2)` (page cache), not a memory map: pages written through a map
//! of the whole output count toward the writer's resident memory until the kernel evicts
//! them, while the page cache behind `write` does not.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::npy_header::NpyHeader;
use crate::array::NdArray;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result, shape_str};
use crate::layout::{Order, checked_nbytes};
use crate::s;

/// A `.npy` file being written in C order, piece by piece.
///
/// ```
/// use ndstride::{DType, NdArray, io::{NpyWriter, load_npy}};
/// let dir = std::env::temp_dir().join(format!("ndstride-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("rows.npy");
/// let mut w = NpyWriter::create(&path, DType::F64, &[2, 3])?;
/// w.write(&[1.0f64, 2.0, 3.0])?; // row 0
/// assert!(!path.exists()); // not under its name until finished
/// w.write(&[4.0f64, 5.0, 6.0])?; // row 1
/// w.finish()?;
/// assert_eq!(load_npy(&path)?.to_vec::<f64>()?, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), ndstride::Error>(())
/// ```
pub struct NpyWriter {
    path: PathBuf,
    tmp: PathBuf,
    /// `None` once finished (or after a failed write: the file is then abandoned).
    out: Option<BufWriter<File>>,
    dtype: DType,
    shape: Vec<usize>,
    /// Data bytes the header announces, and bytes written so far.
    expected: u64,
    written: u64,
}

impl NpyWriter {
    /// Starts a C-order `.npy` file of `shape` and `dtype` at `path` (written to a hidden
    /// temporary beside it until [`finish`](Self::finish)).
    pub fn create(path: impl AsRef<Path>, dtype: DType, shape: &[usize]) -> Result<NpyWriter> {
        NpyWriter::create_with_order(path.as_ref(), dtype, shape, Order::C)
    }

    pub(crate) fn create_with_order(
        path: &Path,
        dtype: DType,
        shape: &[usize],
        order: Order,
    ) -> Result<NpyWriter> {
        let expected = checked_nbytes(shape, dtype.itemsize())?;
        let tmp = temp_path(path);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Error::io(path, e))?;
        let mut writer = NpyWriter {
            path: path.to_path_buf(),
            tmp,
            out: Some(BufWriter::with_capacity(1 << 20, file)),
            dtype,
            shape: shape.to_vec(),
            expected: expected as u64,
            written: 0,
        };
        let header = NpyHeader::encode(dtype, order == Order::F, shape);
        writer.put(&header)?;
        Ok(writer)
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Elements written so far.
    pub fn elements_written(&self) -> usize {
        (self.written / self.dtype.itemsize().max(1) as u64) as usize
    }

    /// Appends `values`, the next elements in C order. Their type must be the file's dtype,
    /// and they must not run past the shape.
    pub fn write<T: Element>(&mut self, values: &[T]) -> Result<()> {
        if T::DTYPE != self.dtype {
            return Err(Error::DTypeMismatch {
                expected: self.dtype,
                requested: std::any::type_name::<T>(),
            });
        }
        self.write_data(bytemuck::cast_slice(values))
    }

    /// Appends every element of `a` (of the file's dtype, any layout) in C order, one slice
    /// of the first axis at a time when `a` is not C-contiguous.
    pub fn write_array(&mut self, a: &NdArray) -> Result<()> {
        if a.dtype() != self.dtype {
            return Err(Error::invalid(format!(
                "cannot append {} data to a {} .npy file",
                a.dtype(),
                self.dtype
            )));
        }
        if a.is_c_contiguous() {
            return self.write_data(a.contiguous_bytes());
        }
        for i in 0..a.shape()[0] {
            let row = a.slice(s![i])?.copy_order(Order::C)?;
            self.write_data(row.contiguous_bytes())?;
        }
        Ok(())
    }

    /// Appends raw element bytes (already in the file's dtype and order).
    pub(crate) fn write_data(&mut self, bytes: &[u8]) -> Result<()> {
        let after = self.written + bytes.len() as u64;
        if after > self.expected {
            return Err(Error::invalid(format!(
                "{}: {} more bytes would exceed the {} bytes of shape {} {}",
                self.path.display(),
                bytes.len(),
                self.expected,
                shape_str(&self.shape),
                self.dtype
            )));
        }
        self.put(bytes)?;
        self.written = after;
        Ok(())
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        let out = self.out.as_mut().ok_or_else(|| {
            Error::invalid(format!(
                "{}: the writer failed earlier and was abandoned",
                self.path.display()
            ))
        })?;
        if let Err(e) = out.write_all(bytes) {
            // A short write (out of disk, file size limit) leaves the file's end unknown:
            // abandon it, so that a caller who ignores this error cannot finish it.
            self.abandon();
            return Err(Error::io(&self.path, e));
        }
        Ok(())
    }

    /// Checks that every announced byte was written, flushes the data to disk, and gives
    /// the file its final name (replacing any file there).
    pub fn finish(mut self) -> Result<()> {
        if self.written != self.expected {
            return Err(Error::invalid(format!(
                "{}: {} of the {} data bytes of shape {} {} were written; not finishing an \
                 incomplete file",
                self.path.display(),
                self.written,
                self.expected,
                shape_str(&self.shape),
                self.dtype
            )));
        }
        let Some(out) = self.out.take() else {
            return Err(Error::invalid(format!(
                "{}: the writer failed earlier and was abandoned",
                self.path.display()
            )));
        };
        let result = out
            .into_inner()
            .map_err(|e| Error::io(&self.path, e.into_error()))
            .and_then(|file| file.sync_all().map_err(|e| Error::io(&self.path, e)))
            .and_then(|()| {
                std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(&self.path, e))
            });
        if result.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        result
    }

    fn abandon(&mut self) {
        if let Some(out) = self.out.take() {
            // The buffered tail is discarded with the file; a failing flush is irrelevant.
            let (file, _) = out.into_parts();
            drop(file);
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl Drop for NpyWriter {
    fn drop(&mut self) {
        self.abandon();
    }
}

/// A hidden name beside `path`, unique to this process and writer.
fn temp_path(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out.npy".into());
    let serial = NEXT.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.tmp-{}-{serial}", std::process::id()))
}
