"""Cutting a table into row shards and merging per-shard stage results back, in order.

Only row-wise filters (each row's fate depends on that row alone) may run per shard; a dedup
filter must see every row, so it runs on the whole table (or shards inside itself).
"""

from __future__ import annotations

import sys
from functools import reduce
from typing import Any

import pyarrow as pa

from instances import Report, StageResult

DEFAULT_SHARD_ROWS = 50_000
# Filters known to be row-wise; a filter module may also declare `ROW_WISE = True`.
# (decontaminate is row-wise too, but its extras hold settings and benchmark sizes that must
# not be added up, and it is vectorised already: it runs on the whole table.)
ROW_WISE_KINDS = frozenset({"length", "quality", "language"})


def is_row_wise(config: Any) -> bool:
    """True when the filter `config` configures keeps or drops each row on its own."""
    module = sys.modules.get(type(config).__module__)
    return config.kind in ROW_WISE_KINDS or bool(getattr(module, "ROW_WISE", False))


def shard(table: pa.Table, rows: int) -> list[pa.Table]:
    """`table` cut into consecutive slices of at most `rows` rows (one slice when small)."""
    if rows < 1:
        raise ValueError(f"shard size must be at least 1 row, got {rows}")
    if table.num_rows <= rows:
        return [table]
    return [table.slice(start, rows) for start in range(0, table.num_rows, rows)]


def merge_results(results: list[StageResult]) -> StageResult:
    """One stage result from per-shard results: kept and rejected in shard order, reports added.

    The merged report's `seconds` is the sum over shards (work done, not wall time); counts in
    its extras are summed (see `merge_extras`).
    """
    if not results:
        raise ValueError("no shard results to merge")
    if len(results) == 1:
        return results[0]
    kept = pa.concat_tables([r.kept for r in results]).combine_chunks()
    rejected = pa.concat_tables([r.rejected for r in results]).combine_chunks()
    report: Report = reduce(lambda a, b: a + b, (r.report for r in results))
    extras = reduce(merge_extras, (r.report.extras for r in results))
    return StageResult(kept, rejected, report.model_copy(update={"extras": extras}))


def merge_extras(a: Any, b: Any) -> Any:
    """Per-shard report extras added up: integers (counts) summed, mappings merged key by key,
    any other value (an example, a share) kept from the first shard that has it.

    >>> merge_extras({"rows": {"en": 2}, "example": "x"}, {"rows": {"en": 1, "de": 1}})
    {'rows': {'en': 3, 'de': 1}, 'example': 'x'}
    """
    if isinstance(a, dict) and isinstance(b, dict):
        merged = dict(a)
        for key, value in b.items():
            merged[key] = merge_extras(a[key], value) if key in a else value
        return merged
    if type(a) is int and type(b) is int:
        return a + b
    return a if a not in (None, "", [], {}) else b
