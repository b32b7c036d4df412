"""Connected components of row pairs (scipy's csgraph), for dedup clusters."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def components(num_nodes: int, pairs: np.ndarray | Iterable[tuple[int, int]]) -> np.ndarray:
    """Label each of `num_nodes` nodes with its component's smallest node index.

    >>> components(5, [(0, 3), (3, 4)]).tolist()
    [0, 1, 2, 0, 0]
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = np.asarray(pairs if isinstance(pairs, np.ndarray) else list(pairs), dtype=np.int64)
    edges = edges.reshape(-1, 2)
    graph = coo_matrix(
        (np.ones(len(edges), np.int8), (edges[:, 0], edges[:, 1])), shape=(num_nodes, num_nodes)
    )
    _, labels = connected_components(graph, directed=False)
    # scipy numbers components in the order of their smallest node: that node is the first
    # position where each label occurs
    _, smallest = np.unique(labels, return_index=True)
    return smallest[labels].astype(np.int64)
