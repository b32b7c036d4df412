"""Diversity sampling (LIMA style): even draws across strata with a per-stratum cap.

A stratum is a value of `category`, `task`, `template` or `source`. The allocation fills the
strata evenly ("water filling"): every stratum gets the same number of rows until it runs out
or hits the cap, and what one stratum cannot give goes to the others. Inside a stratum rows
with a higher quality score in `meta` come first; the rest are drawn in seeded random order.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
import pyarrow as pa

from instructmix.mixtures.recipe import StratifySpec


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


def quality_scores(metas: list[str], key: str | None) -> np.ndarray:
    """The numeric `meta[key]` of each row, -inf where absent or not a number (or no key)."""
    scores = np.full(len(metas), -np.inf)
    if key is None:
        return scores
    needle = f'"{key}"'
    for index, meta in enumerate(metas):
        if needle not in meta:
            continue
        value = json.loads(meta).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            scores[index] = float(value)
    return scores


def rank_in_stratum(
    positions: np.ndarray, scores: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """`positions` best first: by quality score (higher first), ties in seeded random order."""
    shuffled = positions[rng.permutation(len(positions))]
    order = np.argsort(-scores[shuffled], kind="stable")
    return shuffled[order]


def histogram(values: list[str]) -> dict[str, int]:
    """Rows per stratum, sorted by stratum name."""
    return dict(sorted(Counter(values).items()))


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
    column = table.column(spec.by).to_pylist()
    values = [column[p] for p in positions]
    metas = table.column("meta").to_pylist()
    scores = quality_scores([metas[p] for p in positions], spec.quality_key)
    groups: dict[str, list[int]] = {}
    for offset, value in enumerate(values):
        groups.setdefault(value, []).append(offset)
    allocation = even_allocation(
        {name: len(members) for name, members in groups.items()}, target, spec.cap, rng
    )
    picked: list[np.ndarray] = []
    for name in sorted(groups):
        members = np.asarray(groups[name], dtype=np.int64)
        ranked = rank_in_stratum(members, scores, rng)
        picked.append(ranked[: allocation[name]])
    offsets = np.sort(np.concatenate(picked)) if picked else np.array([], dtype=np.int64)
    drawn = positions[offsets]
    record = {
        "by": spec.by,
        "cap": spec.cap,
        "quality_key": spec.quality_key,
        "scored": int(np.isfinite(scores).sum()),
        "before": histogram(values),
        "after": histogram([values[o] for o in offsets]),
    }
    return drawn, record
