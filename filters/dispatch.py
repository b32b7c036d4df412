"""The dispatcher: turns a filter's verdicts (or a transform's changed table) into a stage result.

A filter only judges: `verdicts(table, config, ctx) -> Verdicts`, a reason or None per row, an
optional `duplicate_of` per row, and extras for the report. A transform changes rows (same
count, same order) and may judge the changed rows: `transform(table, config, ctx) ->
Transformed`. Neither splits tables, stamps rejected rows, times itself or counts: this module
does, the same way for every stage, and raises `StageContractError` when a stage breaks the
contract (a verdict per row, `rows_in == rows_out + drops`).

>>> from instances import make_instance, make_table
>>> turns = [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]
>>> table = make_table([make_instance(turns, source="s", origin="human", task="t",
...     category="c", template="raw")])
>>> result = judge(table, "demo", lambda t: Verdicts(["too_plain"], extras={"seen": 1}))
>>> result.kept.num_rows, result.rejected.column("reject_stage").to_pylist()
(0, ['demo'])
>>> result.report.dropped_by_reason, result.report.extras
({'too_plain': 1}, {'seen': 1})
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from instances import InstructmixError, StageResult
from instances.rejected import split_rows


class StageContractError(InstructmixError):
    """A filter or transform broke the stage contract (a bug in that stage, not in the data)."""


@dataclass(frozen=True)
class Verdicts:
    """A filter's answer: per row a reject reason or None (kept), whom a duplicate duplicates,
    and figures for the report's extras."""

    reasons: Sequence[str | None]
    duplicate_of: Sequence[str | None] | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def keep_all(cls, rows: int, extras: dict[str, Any] | None = None) -> Verdicts:
        """Verdicts that keep every one of `rows` rows."""
        return cls([None] * rows, extras=extras or {})


@dataclass(frozen=True)
class Transformed:
    """A transform's answer: the changed table (same rows, same order) and verdicts on it."""

    table: pa.Table
    verdicts: Verdicts


def _check_verdicts(stage: str, rows: int, verdicts: Verdicts) -> None:
    if len(verdicts.reasons) != rows:
        raise StageContractError(
            f"stage {stage!r} gave {len(verdicts.reasons)} verdicts for {rows} rows"
        )
    if verdicts.duplicate_of is not None and len(verdicts.duplicate_of) != rows:
        raise StageContractError(
            f"stage {stage!r} gave {len(verdicts.duplicate_of)} duplicate_of for {rows} rows"
        )


def _check_balance(stage: str, rows_in: int, result: StageResult) -> StageResult:
    report = result.report
    drops = sum(report.dropped_by_reason.values())
    if report.rows_in != rows_in or rows_in != report.rows_out + drops:
        raise StageContractError(
            f"stage {stage!r}: rows_in {rows_in} != rows_out {report.rows_out} + drops {drops}"
        )
    if result.kept.num_rows + result.rejected.num_rows != rows_in:
        raise StageContractError(
            f"stage {stage!r}: {result.kept.num_rows} kept + {result.rejected.num_rows} "
            f"rejected != {rows_in} rows in"
        )
    return result


def _split(table: pa.Table, stage: str, verdicts: Verdicts, started: float) -> StageResult:
    _check_verdicts(stage, table.num_rows, verdicts)
    result = split_rows(
        table,
        stage,
        list(verdicts.reasons),
        None if verdicts.duplicate_of is None else list(verdicts.duplicate_of),
        seconds=time.perf_counter() - started,
        extras=dict(verdicts.extras),
    )
    return result


def judge(table: pa.Table, stage: str, decide: Callable[[pa.Table], Verdicts]) -> StageResult:
    """Run the filter `decide` on `table` as stage `stage`: time it, split kept and rejected
    (stamped with the stage, the reason and duplicate_of) and check the counts balance."""
    started = time.perf_counter()
    verdicts = decide(table)
    return _check_balance(stage, table.num_rows, _split(table, stage, verdicts, started))


def transform(
    table: pa.Table, stage: str, change: Callable[[pa.Table], Transformed]
) -> StageResult:
    """Run the transform `change` on `table` as stage `stage`: check it kept every row (count
    and schema), then split its changed table by its verdicts as `judge` does."""
    started = time.perf_counter()
    changed = change(table)
    if changed.table.num_rows != table.num_rows:
        raise StageContractError(
            f"transform {stage!r} returned {changed.table.num_rows} rows for {table.num_rows}"
        )
    if not changed.table.schema.equals(table.schema):
        raise StageContractError(f"transform {stage!r} changed the table's schema")
    result = _split(changed.table, stage, changed.verdicts, started)
    return _check_balance(stage, table.num_rows, result)
