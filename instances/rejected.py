"""Splitting a table into kept and rejected rows, with stage, reason and duplicate_of."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from instances.report import Report, StageResult
from instances.schema import INSTANCE_SCHEMA, REJECTED_SCHEMA


def mark_rejected(
    table: pa.Table,
    stage: str,
    reasons: Sequence[str],
    duplicate_of: Sequence[str | None] | None = None,
) -> pa.Table:
    """Return `table` (instance columns) as rejected rows with the given stage and reasons."""
    if len(reasons) != table.num_rows:
        raise ValueError(f"{len(reasons)} reasons for {table.num_rows} rows")
    dup = list(duplicate_of) if duplicate_of is not None else [None] * table.num_rows
    base = table.select(INSTANCE_SCHEMA.names).cast(INSTANCE_SCHEMA)
    return (
        base.append_column("reject_stage", pa.array([stage] * table.num_rows, pa.string()))
        .append_column("reject_reason", pa.array(list(reasons), pa.string()))
        .append_column("duplicate_of", pa.array(dup, pa.string()))
        .cast(REJECTED_SCHEMA)
    )


def split_rows(
    table: pa.Table,
    stage: str,
    reasons: Sequence[str | None],
    duplicate_of: Sequence[str | None] | None = None,
    *,
    seconds: float = 0.0,
    extras: dict | None = None,
) -> StageResult:
    """Split `table` by per-row `reasons` (None keeps the row) into a `StageResult`.

    Kept rows keep their order; the report counts drops per reason and balances by construction.
    """
    if len(reasons) != table.num_rows:
        raise ValueError(f"{len(reasons)} reasons for {table.num_rows} rows")
    keep_mask = pa.array([reason is None for reason in reasons], pa.bool_())
    kept = table.filter(keep_mask)
    drop_mask = pc.invert(keep_mask)
    dropped_reasons = [reason for reason in reasons if reason is not None]
    dropped_dups = None
    if duplicate_of is not None:
        dropped_dups = [d for d, r in zip(duplicate_of, reasons, strict=True) if r is not None]
    rejected = mark_rejected(table.filter(drop_mask), stage, dropped_reasons, dropped_dups)
    report = Report(
        stage=stage,
        rows_in=table.num_rows,
        rows_out=kept.num_rows,
        dropped_by_reason=dict(sorted(Counter(dropped_reasons).items())),
        seconds=seconds,
        extras=extras or {},
    )
    return StageResult(kept, rejected, report)
