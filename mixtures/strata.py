"""Diversity sampling (LIMA style): even draws across strata with a per-stratum cap.

A stratum is a value of `category`, `task`, `template` or `source`. The allocation fills the
strata evenly ("water filling"): every stratum gets the same number of rows until it runs out
or hits the cap, and what one stratum cannot give goes to the others. Inside a stratum rows
with a higher quality score in `meta` come first; the rest are drawn in seeded random order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from instances import meta
from mixtures.recipe import StratifySpec


def even_allocation(
    sizes: dict[str, int], target: int | None, cap: int | None, rng: np.random.Generator
) -> dict[str, int]:
    """Rows to take per stratum: as even as the sizes allow, each at most `cap`, `target` in all.

    Without a target every stratum gives min(size, cap). When the strata cannot reach the
    target together, each gives all it can. Ties for the last rows go to strata in seeded order.

    >>> even_allocation({"a": 10, "b": 2, "c": 10}, 12, None, np.random.default_rng(0))
    {'a': 5, 'b': 2, 'c': 5}
    """
    limits = {name: min(size, cap) if cap is not None else size for name, size in sizes.items()}
    if target is None or target >= sum(limits.values()):
        return limits
    low, high = 0, max(limits.values(), default=0)
    while low < high:  # the largest level whose filled total stays within the target
        level = (low + high + 1) // 2
        if sum(min(limit, level) for limit in limits.values()) <= target:
            low = level
        else:
            high = level - 1
    allocation = {name: min(limit, low) for name, limit in limits.items()}
    remainder = target - sum(allocation.values())
    open_strata = sorted(name for name, limit in limits.items() if limit > low)
    for index in rng.permutation(len(open_strata))[:remainder]:
        allocation[open_strata[index]] += 1
    return allocation


def rank_in_stratum(
    positions: np.ndarray, scores: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """`positions` best first: by quality score (higher first), ties in seeded random order."""
    shuffled = positions[rng.permutation(len(positions))]
    order = np.argsort(-scores[shuffled], kind="stable")
    return shuffled[order]


def stratified_draw(
    table: pa.Table,
    positions: np.ndarray,
    spec: StratifySpec,
    target: int | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Draw up to `target` of `positions` evenly across the strata of `spec.by` (sorted result).

    Returns the drawn positions and the histogram record the report keeps:
    `{"by", "cap", "quality_key", "scored", "before": {stratum: rows}, "after": {...}}`.
    """
    taken = pa.array(positions, pa.int64())
    encoded = pc.dictionary_encode(table.column(spec.by).take(taken)).combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    names = encoded.dictionary.to_pylist()
    scores = meta.numbers(table.column("meta").take(taken), spec.quality_key)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    sizes = np.diff(bounds)
    allocation = even_allocation(
        {name: int(size) for name, size in zip(names, sizes, strict=True)}, target, spec.cap, rng
    )
    picked: list[np.ndarray] = []
    for code in sorted(range(len(names)), key=names.__getitem__):
        members = order[bounds[code] : bounds[code + 1]]
        wanted = allocation[names[code]]
        if wanted == len(members):
            picked.append(members)
        elif wanted:
            picked.append(rank_in_stratum(members, scores, rng)[:wanted])
    offsets = np.sort(np.concatenate(picked)) if picked else np.array([], dtype=np.int64)
    after = np.bincount(codes[offsets], minlength=len(names))
    record = {
        "by": spec.by,
        "cap": spec.cap,
        "quality_key": spec.quality_key,
        "scored": int(np.isfinite(scores).sum()),
        "before": {
            names[c]: int(sizes[c]) for c in sorted(range(len(names)), key=names.__getitem__)
        },
        "after": {
            names[c]: int(after[c])
            for c in sorted(range(len(names)), key=names.__getitem__)
            if after[c]
        },
    }
    return positions[offsets], record
