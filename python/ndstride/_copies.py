"""Copy accounting: prove that ndstride computed on your arrays where they lie."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

from . import _ndstride


@dataclasses.dataclass
class CopyStats:
    """What the ndstride calls inside a :func:`copy_stats` block allocated and copied.

    ``bytes_copied`` counts array data read from one buffer and written to another: an input
    converted to another dtype (int to float64), realigned, or put in native byte order.
    Inputs that ndstride reads in place (any strides, offsets, read-only, memory-mapped) add 0.
    ``allocations`` and ``bytes_allocated`` count the buffers ndstride allocated (results
    included). The counts are per Python thread.
    """

    allocations: int = 0
    bytes_allocated: int = 0
    bytes_copied: int = 0


@contextlib.contextmanager
def copy_stats() -> Iterator[CopyStats]:
    """Counts what the ndstride calls in the block copied; the object is filled on exit.

    >>> import numpy as np, ndstride
    >>> x = np.random.rand(100, 8)
    >>> with ndstride.copy_stats() as stats:
    ...     d = ndstride.cdist(x[::2], x[:, ::-1].T.T, "cityblock")
    >>> stats.bytes_copied
    0
    """
    stats = CopyStats()
    before = _ndstride.copy_totals()
    try:
        yield stats
    finally:
        after = _ndstride.copy_totals()
        stats.allocations, stats.bytes_allocated, stats.bytes_copied = (
            a - b for a, b in zip(after, before)
        )
