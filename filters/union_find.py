"""Connected components of row pairs (union-find with path halving), for dedup clusters."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def components(num_nodes: int, pairs: Iterable[tuple[int, int]]) -> np.ndarray:
    """Label each of `num_nodes` nodes with its component's smallest node index.

    >>> components(5, [(0, 3), (3, 4)]).tolist()
    [0, 1, 2, 0, 0]
    """
    parent = list(range(num_nodes))

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for left, right in pairs:
        root_left, root_right = find(left), find(right)
        if root_left != root_right:
            # The smaller index becomes the root, so labels are deterministic.
            if root_left < root_right:
                parent[root_right] = root_left
            else:
                parent[root_left] = root_right
    return np.array([find(node) for node in range(num_nodes)], dtype=np.int64)
