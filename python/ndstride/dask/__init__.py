"""ndstride on a dask cluster: distance matrices and neighbour searches over dask arrays,
each block computed by ndstride's kernels in a task of the existing engine
(``dask.distributed``, or dask's local schedulers).

Needs the ``dask`` extra (``pip install 'ndstride[dask]'``: ``dask[array]`` and
``distributed``). The functions take dask arrays (NumPy arrays are wrapped, in row chunks
that :func:`row_chunks` picks) and return lazy dask arrays, except :func:`cdist_to_npy`,
which writes one ``.npy`` file from the workers:

>>> import numpy as np, ndstride.dask as nd
>>> X = np.array([[0.0, 0.0], [3.0, 4.0]])
>>> nd.cdist(X, X, "euclidean").compute()
array([[0., 5.],
       [5., 0.]])

Every call checks its arguments as the in-memory API does, with its messages, before any
task is submitted; every block calls the in-memory function on its rows, so the blocks'
values are the in-memory ones, and the neighbour searches' merges keep its order (ties to
the lower index, NaN last). A task computes with as many threads as :func:`task_threads`
says (one per worker thread, as dask's nanny gives BLAS).
"""

try:
    import dask.array  # noqa: F401
except ImportError as e:  # pragma: no cover - the message is the point
    raise ImportError("ndstride.dask needs dask[array] and distributed: "
                      "pip install 'ndstride[dask]'") from e

from ._chunks import knn_row_chunks, row_chunks
from ._neighbors import argmin_min, knn, radius_count
from ._pairwise import cdist, cdist_to_npy
from ._tasks import task_threads

__all__ = ["argmin_min", "cdist", "cdist_to_npy", "knn", "knn_row_chunks", "radius_count",
           "row_chunks", "task_threads"]
