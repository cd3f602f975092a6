"""Building the task graphs: block keys, row offsets, tree reductions and the dask
collections over them (hand-built layers, because a symmetric cdist and the kNN merges are
not blockwise operations)."""

from __future__ import annotations

from typing import Any, Callable

import dask.array as da
import numpy as np
from dask.highlevelgraph import HighLevelGraph

from ._inputs import Operands


def offsets(chunks: tuple[int, ...]) -> list[int]:
    """Each chunk's first row."""
    return [0, *np.cumsum(chunks, dtype=np.int64).tolist()][:-1]


def block(x: da.Array, i: int) -> tuple:
    """The key of ``x``'s row chunk ``i`` (its features are one chunk)."""
    return (x.name, i, 0)


def whole(x: da.Array) -> tuple:
    """The key of a one-chunk array's only block."""
    return (x.name, *(0,) * x.ndim)


class Layer:
    """One layer of tasks over the operands and the derived parameters."""

    def __init__(self, name: str, ops: Operands, derived: dict):
        self.name = name
        self.tasks: dict[tuple, Any] = {}
        self.dependencies = [ops.a, ops.b, *derived.values()]
        self.derived_keys = tuple(whole(d) for d in derived.values())

    def add(self, key: tuple, task: tuple) -> tuple:
        self.tasks[key] = task
        return key

    def tree(self, parts: list[tuple], merge: Callable, leading: tuple, fan_in: int,
             tag: tuple) -> tuple:
        """Reduces ``parts`` with ``merge(*leading, *group)`` over groups of up to
        ``fan_in`` consecutive parts, level by level, keeping their order; the key of the
        last merge (or of the only part)."""
        level = 0
        while len(parts) > 1:
            merged = []
            for g in range(0, len(parts), fan_in):
                group = parts[g:g + fan_in]
                if len(group) == 1:
                    merged.append(group[0])
                else:
                    key = (f"{self.name}-merge", *tag, level, g // fan_in)
                    merged.append(self.add(key, (merge, *leading, *group)))
            parts = merged
            level += 1
        return parts[0]

    def graph(self) -> HighLevelGraph:
        return HighLevelGraph.from_collections(self.name, self.tasks,
                                               dependencies=self.dependencies)


def outputs(layer: Layer, finals: list[tuple], pick: Callable, metas: list[tuple]
            ) -> list[da.Array]:
    """Arrays over the per-row-chunk results ``finals`` of ``layer``: output ``o`` has the
    blocks ``pick(final, o)``, and ``metas[o] = (chunks, dtype)``."""
    base = layer.graph()
    arrays = []
    for o, (chunks, dtype) in enumerate(metas):
        name = f"{layer.name}-{o}"
        tasks = {(name, i, *(0,) * (len(chunks) - 1)): (pick, final, o)
                 for i, final in enumerate(finals)}
        graph = HighLevelGraph({**base.layers, name: tasks},
                               {**base.dependencies, name: {layer.name}})
        arrays.append(da.Array(graph, name, chunks, dtype=dtype))
    return arrays


def check_fan_in(split_every: Any) -> int:
    if not isinstance(split_every, (int, np.integer)) or isinstance(split_every, bool) \
            or split_every < 2:
        raise ValueError(f"split_every (the merge tree's fan-in) must be an integer of at "
                         f"least 2, not {split_every!r}")
    return int(split_every)
