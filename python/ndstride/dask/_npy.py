"""One ``.npy`` written by many workers: the client creates it under a temporary name whose
header is not yet valid, each task writes its block's rows in place (and syncs them), and
the last task writes the header, syncs the file, renames it and syncs the directory. Until
then nothing under either name passes for a complete array; every step can be re-run
(a worker lost mid-write is recomputed by dask and writes the same bytes)."""

from __future__ import annotations

import io
import os
import socket
from dataclasses import dataclass

import numpy as np

from ._tasks import Call


def header(dtype: np.dtype, shape: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    np.lib.format.write_array_header_1_0(out, {
        "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
        "shape": tuple(int(s) for s in shape)})
    return out.getvalue()


@dataclass(frozen=True)
class NpyTarget:
    """Where the blocks go: ``partial`` (the temporary file), then ``path``."""

    partial: str
    path: str
    header_len: int
    columns: int
    itemsize: int

    @staticmethod
    def create(path: str, dtype: np.dtype, shape: tuple[int, int], token: str
               ) -> tuple["NpyTarget", bytes]:
        """Creates the temporary file beside ``path`` at its full size, its header zeros
        (not the ``.npy`` magic): a missing or read-only directory fails here, before any
        task runs."""
        path = os.path.abspath(path)
        head = header(dtype, shape)
        directory, name = os.path.split(path)
        partial = os.path.join(directory, f".{name}.tmp-dask-{token[:16]}")
        itemsize = np.dtype(dtype).itemsize
        size = len(head) + shape[0] * shape[1] * itemsize
        with open(partial, "wb") as f:
            f.write(bytes(len(head)))
            f.truncate(size)
        return NpyTarget(partial, path, len(head), int(shape[1]), itemsize), head

    def _open(self) -> int:
        try:
            return os.open(self.partial, os.O_WRONLY)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{self.partial}: not found on {socket.gethostname()}; cdist_to_npy writes "
                "one file that the client (which created it) and every worker must see: a "
                "shared filesystem (or the computation was cancelled)") from None

    def write(self, block: np.ndarray, row0: int, col0: int) -> int:
        """Writes ``block`` as rows ``row0...`` and columns ``col0...``; syncs them."""
        block = np.ascontiguousarray(block)
        rows, cols = block.shape
        if rows == 0 or cols == 0:
            return 0
        fd = self._open()
        try:
            start = self.header_len + (row0 * self.columns + col0) * self.itemsize
            if cols == self.columns:
                _write_all(fd, memoryview(block).cast("B"), start)
            else:
                stride = self.columns * self.itemsize
                for r in range(rows):
                    _write_all(fd, memoryview(block[r]).cast("B"), start + r * stride)
            os.fsync(fd)
        finally:
            os.close(fd)
        return block.nbytes

    def discard(self) -> None:
        """Removes the temporary file (a failed or cancelled computation)."""
        try:
            os.remove(self.partial)
        except FileNotFoundError:
            pass


def _write_all(fd: int, data: memoryview, offset: int) -> None:
    while data:
        n = os.pwrite(fd, data, offset)
        data, offset = data[n:], offset + n


def write_block(call: Call, target: NpyTarget, row0: int, col0: int, mirror: bool,
                a: np.ndarray, b: np.ndarray, *derived) -> int:
    """Computes block (row0, col0) and writes it, and for a symmetric matrix's off-diagonal
    block its transpose at (col0, row0) too; the bytes written (the result is tiny, so a
    task holds its block only while writing it)."""
    block = call.run(a, b, derived=derived)
    written = target.write(block, row0, col0)
    if mirror:
        written += target.write(block.T, col0, row0)
    return written


def finish(target: NpyTarget, head: bytes, *written: int) -> str:
    """Once every block is in: the header, a sync, the rename and the directory's sync. A
    re-run after the rename finds the file in place and only syncs again."""
    if os.path.exists(target.partial):
        fd = os.open(target.partial, os.O_WRONLY)
        try:
            _write_all(fd, memoryview(head), 0)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(target.partial, target.path)
    elif not os.path.exists(target.path):
        raise FileNotFoundError(f"{target.partial}: the blocks' file is gone (removed while "
                                "the computation ran?)")
    directory = os.open(os.path.dirname(target.path), os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return target.path
