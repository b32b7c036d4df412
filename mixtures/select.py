"""Which rows of a source may enter the mixture: include/exclude selectors and per-task caps.

Selectors match `task`, `category` and `lang` against shell-style patterns (`task0*`). A row
passes `include` when it matches every field the selector names (any pattern of a field),
and fails `exclude` when it matches any field the selector names.

Reject reasons: `not_included` (outside the source's include), `excluded` (matched exclude).
"""

from __future__ import annotations

import time
from fnmatch import fnmatchcase

import numpy as np
import pyarrow as pa

from instances import InstructmixError, StageResult
from instances.rejected import split_rows
from mixtures.recipe import RowSelector, SourceSpec

NOT_INCLUDED = "not_included"
EXCLUDED = "excluded"
SELECTOR_FIELDS = ("task", "category", "lang")


def _matches(value: str, patterns: list[str]) -> bool:
    return any(fnmatchcase(value, pattern) for pattern in patterns)


def selector_mask(table: pa.Table, selector: RowSelector, mode: str) -> list[bool]:
    """Per row: does it match `selector`? `mode` 'all' (every named field) or 'any'."""
    named = [(f, getattr(selector, f)) for f in SELECTOR_FIELDS if getattr(selector, f)]
    columns = {field: table.column(field).to_pylist() for field, _ in named}
    combine = all if mode == "all" else any
    return [
        combine(_matches(columns[field][i], patterns) for field, patterns in named)
        for i in range(table.num_rows)
    ]


def select_rows(table: pa.Table, spec: SourceSpec) -> StageResult:
    """Apply the source's include and exclude selectors; rejected rows say which one."""
    started = time.perf_counter()
    reasons: list[str | None] = [None] * table.num_rows
    if spec.include is not None:
        for i, hit in enumerate(selector_mask(table, spec.include, "all")):
            if not hit:
                reasons[i] = NOT_INCLUDED
    if spec.exclude is not None:
        for i, hit in enumerate(selector_mask(table, spec.exclude, "any")):
            if hit and reasons[i] is None:
                reasons[i] = EXCLUDED
    extras = {
        "include": spec.include.model_dump() if spec.include else None,
        "exclude": spec.exclude.model_dump() if spec.exclude else None,
    }
    return split_rows(
        table,
        f"select:{spec.name}",
        reasons,
        seconds=time.perf_counter() - started,
        extras=extras,
    )


class SelectionError(InstructmixError):
    """A source's `include` matched none of its rows (most likely a misspelt value)."""


def no_match_message(table: pa.Table, spec: SourceSpec, shown: int = 5) -> str:
    """Why `spec.include` kept nothing, with some of the values the source does have."""
    assert spec.include is not None
    named = [f for f in SELECTOR_FIELDS if getattr(spec.include, f)]
    have = "; ".join(
        f"{field}: {', '.join(sorted(set(table.column(field).to_pylist()))[:shown])}"
        for field in named
    )
    wanted = {field: getattr(spec.include, field) for field in named}
    return (
        f"source {spec.name!r}: include {wanted} matched none of its {table.num_rows} rows; "
        f"check the spelling (patterns like 'task1*' work). Some values it has: {have}"
    )


def cap_per_task(
    positions: np.ndarray, tasks: list[str], cap: int | None, rng: np.random.Generator
) -> np.ndarray:
    """At most `cap` of `positions` per task (a seeded random pick inside each task), sorted."""
    if cap is None:
        return positions
    groups: dict[str, list[int]] = {}
    for position in positions.tolist():
        groups.setdefault(tasks[position], []).append(position)
    kept: list[int] = []
    for task in sorted(groups):
        members = groups[task]
        if len(members) > cap:
            members = rng.choice(members, size=cap, replace=False).tolist()
        kept.extend(members)
    return np.sort(np.asarray(kept, dtype=np.int64))
