"""Score-first, diversity-aware greedy selection (DEITA-style), exact and without all-pairs.

Rows are visited best first; a row is kept unless its cosine similarity to a row already kept
exceeds the bound, until `limit` rows are kept. Of two near rows only the first visited (the
higher-scored) is kept: the later one is compared against it, never the reverse.

`greedy_select` gives exactly the selection of the row-by-row loop `greedy_reference`, but
compares blocks of candidates against the kept rows only, with matrix products in bounded
chunks: its cost is rows visited x rows kept, and its memory the kept rows plus one block.
Vectors are unit rows, dense (numpy) or sparse (scipy CSR, e.g. TF-IDF: exact cosines).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

BLOCK = 512
CHUNK = 2048  # 512 x 2048 similarities per product: 4 MiB (benchmarks/diversity_select.py)


def _dense(matrix: Any) -> np.ndarray:
    return matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)


class KeptRows:
    """The kept vectors, in chunks of at most CHUNK rows (a buffer for dense, blocks for sparse)."""

    def __init__(self, vectors: Any, limit: int) -> None:
        self.sparse = sp.issparse(vectors)
        self.count = 0
        self.buffer = None if self.sparse else np.empty((limit, vectors.shape[1]), np.float32)
        self.chunks: list[Any] = []
        self.pending: list[Any] = []

    def add(self, rows: Any) -> None:
        """Append `rows` (a block of kept candidates)."""
        if not self.sparse:
            self.buffer[self.count : self.count + rows.shape[0]] = rows
        else:
            self.pending.append(rows)
            if sum(p.shape[0] for p in self.pending) >= CHUNK:
                self.chunks.append(sp.vstack(self.pending, format="csr"))
                self.pending = []
        self.count += rows.shape[0]

    def near(self, candidates: Any, bound: float) -> np.ndarray:
        """Per candidate: is it more similar than `bound` to any kept row?"""
        near = np.zeros(candidates.shape[0], dtype=bool)
        if self.sparse:
            parts = self.chunks + ([sp.vstack(self.pending, format="csr")] if self.pending else [])
        else:
            parts = [
                self.buffer[s : min(s + CHUNK, self.count)] for s in range(0, self.count, CHUNK)
            ]
        for part in parts:
            sims = candidates @ part.T
            if sp.issparse(sims):
                near |= np.asarray((sims > bound).sum(axis=1)).ravel() > 0
            else:
                near |= (sims > bound).any(axis=1)
        return near


def _resolve_block(candidates: Any, bound: float) -> np.ndarray:
    """Offsets of the block's rows kept when visited in order (each against earlier kept ones).

    Only rows near an earlier row of the block need the sequential pass; the rest are kept.
    """
    conflict = np.tril(_dense(candidates @ candidates.T) > bound, k=-1)
    keep = np.ones(candidates.shape[0], dtype=bool)
    for i in np.flatnonzero(conflict.any(axis=1)).tolist():
        if (conflict[i] & keep).any():
            keep[i] = False
    return np.flatnonzero(keep)


def greedy_select(
    vectors: Any, order: np.ndarray, bound: float, limit: int | None = None
) -> np.ndarray:
    """Positions of `order` kept by the greedy rule, in visiting order (at most `limit`).

    `vectors` are unit rows (dense float32 or sparse CSR); `order` visits positions best first.

    >>> v = np.array([[1, 0], [0.999, 0.0447], [0, 1]], dtype=np.float32)
    >>> greedy_select(v, np.array([1, 0, 2]), 0.9).tolist()
    [1, 2]
    """
    limit = len(order) if limit is None else min(limit, len(order))
    vectors = vectors.tocsr() if sp.issparse(vectors) else np.asarray(vectors, np.float32)
    kept = KeptRows(vectors, limit)
    chosen: list[int] = []
    for start in range(0, len(order), BLOCK):
        if len(chosen) >= limit:
            break
        block = order[start : start + BLOCK]
        candidates = vectors[block]
        alive = np.flatnonzero(~kept.near(candidates, bound)) if kept.count else None
        if alive is not None:
            block, candidates = block[alive], candidates[alive]
        taken = _resolve_block(candidates, bound)[: limit - len(chosen)]
        kept.add(candidates[taken])
        chosen.extend(block[taken].tolist())
    return np.asarray(chosen, dtype=np.int64)


def greedy_reference(
    vectors: np.ndarray, order: np.ndarray, bound: float, limit: int | None = None
) -> np.ndarray:
    """The plain loop `greedy_select` must equal: each row against every kept row, one by one."""
    limit = len(order) if limit is None else min(limit, len(order))
    vectors = _dense(vectors).astype(np.float32, copy=False)
    kept_vectors = np.empty((limit, vectors.shape[1]), dtype=np.float32)
    kept: list[int] = []
    for position in order.tolist():
        if len(kept) >= limit:
            break
        vector = vectors[position]
        if kept and (kept_vectors[: len(kept)] @ vector > bound).any():
            continue
        kept_vectors[len(kept)] = vector
        kept.append(position)
    return np.asarray(kept, dtype=np.int64)
