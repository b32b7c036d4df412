"""An in-memory table cut into row shards, and per-shard stage results merged back in order.

The in-memory build (`--executor memory`) maps a row-wise filter (each row's fate depends on
that row alone) over shards of its table; a dedup filter must see every row, so it runs on the
whole table. (decontaminate is row-wise too, but vectorised already and its index would be
built per shard: the in-memory build runs it whole; the sharded build, `mixtures.sharded`,
shards every row-wise filter.)
"""

from __future__ import annotations

import sys
from functools import reduce
from typing import Any

import pyarrow as pa

from instances import Report, StageResult
from mixtures.global_stages import merge_extras

# Filters known to be row-wise; a filter module may also declare `ROW_WISE = True`.
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
    its extras are summed (`mixtures.global_stages.merge_extras`).
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
