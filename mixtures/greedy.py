"""Score-first, diversity-aware greedy selection (DEITA-style), exact and without all-pairs.

Rows are visited best first; a row is kept unless its cosine similarity to a row already kept
exceeds the bound, until `limit` rows are kept. Of two near rows only the first visited (the
higher-scored) is kept: the later one is compared against it, never the reverse.

`greedy_select` gives exactly the selection of the row-by-row loop `greedy_reference`, but
compares blocks of candidates against the kept rows only, with matrix products in bounded
chunks: its cost is rows visited x rows kept, and its memory the kept rows plus one block.
"""

from __future__ import annotations

import numpy as np

BLOCK = 512
CHUNK = 8192


def _blocked_by_kept(candidates: np.ndarray, kept: np.ndarray, bound: float) -> np.ndarray:
    """Per candidate: is it more similar than `bound` to any kept row? (chunked products)"""
    near = np.zeros(len(candidates), dtype=bool)
    for start in range(0, len(kept), CHUNK):
        sims = candidates @ kept[start : start + CHUNK].T
        near |= (sims > bound).any(axis=1)
    return near


def _resolve_block(candidates: np.ndarray, bound: float) -> np.ndarray:
    """Offsets of the block's rows kept when visited in order (each against earlier kept ones).

    Only rows near an earlier row of the block need the sequential pass; the rest are kept.
    """
    conflict = np.tril(candidates @ candidates.T > bound, k=-1)
    keep = np.ones(len(candidates), dtype=bool)
    for i in np.flatnonzero(conflict.any(axis=1)).tolist():
        if (conflict[i] & keep).any():
            keep[i] = False
    return np.flatnonzero(keep)


def greedy_select(
    vectors: np.ndarray, order: np.ndarray, bound: float, limit: int | None = None
) -> np.ndarray:
    """Positions of `order` kept by the greedy rule, in visiting order (at most `limit`).

    `vectors` are unit rows (float32); `order` visits positions best first.

    >>> v = np.array([[1, 0], [0.999, 0.0447], [0, 1]], dtype=np.float32)
    >>> greedy_select(v, np.array([1, 0, 2]), 0.9).tolist()
    [1, 2]
    """
    limit = len(order) if limit is None else min(limit, len(order))
    dims = vectors.shape[1] if vectors.ndim == 2 else 0
    kept_vectors = np.empty((limit, dims), dtype=np.float32)
    kept: list[int] = []
    for start in range(0, len(order), BLOCK):
        if len(kept) >= limit:
            break
        block = order[start : start + BLOCK]
        candidates = vectors[block].astype(np.float32, copy=False)
        alive = ~_blocked_by_kept(candidates, kept_vectors[: len(kept)], bound)
        block, candidates = block[alive], candidates[alive]
        chosen = _resolve_block(candidates, bound)[: limit - len(kept)]
        kept_vectors[len(kept) : len(kept) + len(chosen)] = candidates[chosen]
        kept.extend(block[chosen].tolist())
    return np.asarray(kept, dtype=np.int64)


def greedy_reference(
    vectors: np.ndarray, order: np.ndarray, bound: float, limit: int | None = None
) -> np.ndarray:
    """The plain loop `greedy_select` must equal: each row against every kept row, one by one."""
    limit = len(order) if limit is None else min(limit, len(order))
    kept_vectors = np.empty((limit, vectors.shape[1]), dtype=np.float32)
    kept: list[int] = []
    for position in order.tolist():
        if len(kept) >= limit:
            break
        vector = vectors[position].astype(np.float32, copy=False)
        if kept and (kept_vectors[: len(kept)] @ vector > bound).any():
            continue
        kept_vectors[len(kept)] = vector
        kept.append(position)
    return np.asarray(kept, dtype=np.int64)
