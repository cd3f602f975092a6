"""ndstride: SciPy's ``cdist``/``pdist`` on NumPy arrays where they lie, on every core.

Any NumPy array of bool, int8-64, uint8-64, float32 or float64 is read in place, whatever its
strides (slices, transposes, negative steps, ``broadcast_to``), read-only or memory-mapped;
results are NumPy arrays over ndstride's own buffer. The GIL is released while it computes,
and Ctrl-C stops a long call.

>>> import numpy as np, ndstride
>>> xa = np.array([[0.0, 0.0], [3.0, 4.0]])
>>> ndstride.cdist(xa, xa[:1], "euclidean")
array([[0.],
       [5.]])
"""

from ._copies import CopyStats, copy_stats
from ._distance import (
    METRIC_NAMES,
    NotSupportedError,
    argmin_min,
    cdist,
    cdist_to_npy,
    knn,
    pdist,
    radius_count,
    radius_neighbors,
    squareform,
)

__all__ = [
    "METRIC_NAMES",
    "CopyStats",
    "NotSupportedError",
    "argmin_min",
    "cdist",
    "cdist_to_npy",
    "copy_stats",
    "knn",
    "pdist",
    "radius_count",
    "radius_neighbors",
    "squareform",
]
__version__ = "0.1.0"
