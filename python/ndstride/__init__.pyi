from collections.abc import Iterator
from contextlib import AbstractContextManager
from os import PathLike
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__version__: str
METRIC_NAMES: tuple[str, ...]

_Strategy = Literal["simd", "matmul", "broadcast"]
_Backend = Literal["cpu", "cuda", "auto"]
_OutDType = type[np.float64] | type[np.float32] | np.dtype[Any] | str | None

class NotSupportedError(NotImplementedError): ...

class CopyStats:
    allocations: int
    bytes_allocated: int
    bytes_copied: int

def copy_stats() -> AbstractContextManager[CopyStats]: ...
def cdist(
    XA: npt.ArrayLike,
    XB: npt.ArrayLike,
    metric: str = "euclidean",
    *,
    out: np.ndarray | None = None,
    dtype: _OutDType = None,
    strategy: _Strategy = "simd",
    backend: _Backend = "cpu",
    threads: int | None = None,
    **kwargs: Any,
) -> np.ndarray: ...
def pdist(
    X: npt.ArrayLike,
    metric: str = "euclidean",
    *,
    out: np.ndarray | None = None,
    dtype: _OutDType = None,
    strategy: _Strategy = "simd",
    backend: _Backend = "cpu",
    threads: int | None = None,
    **kwargs: Any,
) -> np.ndarray: ...
def squareform(
    X: npt.ArrayLike, force: Literal["no", "tomatrix", "tovector"] = "no", checks: bool = True
) -> np.ndarray: ...
def knn(
    XA: npt.ArrayLike,
    XB: npt.ArrayLike | None = None,
    k: int = 1,
    metric: str = "euclidean",
    *,
    strategy: _Strategy = "simd",
    backend: _Backend = "cpu",
    threads: int | None = None,
    **kwargs: Any,
) -> tuple[np.ndarray, np.ndarray]: ...
def radius_neighbors(
    XA: npt.ArrayLike,
    XB: npt.ArrayLike | None = None,
    radius: float = 1.0,
    metric: str = "euclidean",
    *,
    return_distance: bool = True,
    strategy: _Strategy = "simd",
    backend: _Backend = "cpu",
    threads: int | None = None,
    **kwargs: Any,
) -> Any: ...
def radius_count(
    XA: npt.ArrayLike,
    XB: npt.ArrayLike | None = None,
    radius: float = 1.0,
    metric: str = "euclidean",
    *,
    strategy: _Strategy = "simd",
    backend: _Backend = "cpu",
    threads: int | None = None,
    **kwargs: Any,
) -> np.ndarray: ...
def argmin_min(
    X: npt.ArrayLike,
    Y: npt.ArrayLike,
    metric: str = "euclidean",
    *,
    strategy: _Strategy = "simd",
    backend: _Backend = "cpu",
    threads: int | None = None,
    **kwargs: Any,
) -> tuple[np.ndarray, np.ndarray]: ...
def cdist_to_npy(
    XA: npt.ArrayLike,
    XB: npt.ArrayLike,
    path: str | PathLike[str],
    metric: str = "euclidean",
    memory: int | str = "512MiB",
    progress: bool = False,
    *,
    dtype: _OutDType = None,
    strategy: _Strategy = "simd",
    backend: _Backend = "cpu",
    threads: int | None = None,
    **kwargs: Any,
) -> None: ...
