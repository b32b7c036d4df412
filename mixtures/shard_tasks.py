"""The per-shard task functions executors run: read one shard, write its outputs, return records.

Every function takes one `ShardTask` (paths and configs, no table) and returns small pydantic
records, so the same functions run in a local process pool or as Ray tasks, and outputs live
in files (`instances.shards`), never in task results.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict

from filters.dedup_shards import exact_key_table
from filters.near_dedup_shards import shard_band_table
from filters.registry import run_filter
from instances import REJECTED_SCHEMA, Report, StageResult
from instances.checksums import file_sha256
from instances.context import StageContext
from instances.rejected import split_rows
from instances.shards import ShardFile, write_shard


@dataclass(frozen=True)
class ShardTask:
    """One shard's work: the input shard, where outputs go, the stage and its settings.

    `offset` is the global position of the shard's first row; `verdicts` a Parquet file of
    this shard's dropped rows (position in the shard, reason, duplicate_of).
    """

    source: str
    out_dir: str
    index: int
    offset: int
    stage: str
    config: Any = None
    ctx: StageContext | None = None
    verdicts: str | None = None

    def name(self, kind: str) -> str:
        """The file name of this shard's `kind` output (kept, rejected, keys)."""
        return f"{kind}-{self.index:05d}.parquet"


class ShardOutcome(BaseModel):
    """What one shard of a filtering stage produced: its kept and rejected shards and report."""

    model_config = ConfigDict(extra="forbid")

    kept: ShardFile
    rejected: ShardFile
    report: Report

    def files(self) -> list[ShardFile]:
        """The shard files this outcome names (checked before a rerun reuses it)."""
        return [self.kept, self.rejected]


class KeyOutcome(BaseModel):
    """What one shard of a map step produced: one narrow table of keys."""

    model_config = ConfigDict(extra="forbid")

    keys: ShardFile

    def files(self) -> list[ShardFile]:
        """The shard files this outcome names."""
        return [self.keys]


def write_result(task: ShardTask, result: StageResult) -> ShardOutcome:
    """Write a shard's kept and rejected rows next to each other; return their records."""
    out = Path(task.out_dir)
    return ShardOutcome(
        kept=write_shard(result.kept, out, task.name("kept")),
        rejected=write_shard(result.rejected.cast(REJECTED_SCHEMA), out, task.name("rejected")),
        report=result.report,
    )


def unchanged(task: ShardTask, report: Report) -> ShardOutcome:
    """A shard that kept every row: its kept shard is the input file itself (not rewritten)."""
    out = Path(task.out_dir)
    source = Path(task.source)
    kept = ShardFile(
        path=os.path.relpath(source, out),
        sha256=file_sha256(source),
        rows=pq.ParquetFile(source).metadata.num_rows,
    )
    empty = REJECTED_SCHEMA.empty_table()
    return ShardOutcome(
        kept=kept, rejected=write_shard(empty, out, task.name("rejected")), report=report
    )


def filter_shard(task: ShardTask) -> ShardOutcome:
    """Run a row-wise filter on one shard (the filter's own `run`, unchanged)."""
    table = pq.read_table(task.source)
    result = run_filter(table, task.config, task.ctx or StageContext())
    if result.kept.num_rows + result.rejected.num_rows != table.num_rows:
        raise RuntimeError(f"filter {task.stage} lost rows on shard {task.source}")
    if result.kept.num_rows == table.num_rows and result.kept.equals(table):
        return unchanged(task, result.report)  # (a filter may rewrite rows, e.g. mask PII)
    return write_result(task, result)


def verdict_shard(task: ShardTask) -> ShardOutcome:
    """Split one shard by the verdicts a global stage decided for it."""
    if task.verdicts is None:
        rows = pq.ParquetFile(task.source).metadata.num_rows
        return unchanged(task, Report(stage=task.stage, rows_in=rows, rows_out=rows))
    table = pq.ParquetFile(task.source).read(use_threads=False)  # (read_table: +pyarrow.dataset)
    reasons: list[str | None] = [None] * table.num_rows
    duplicate_of: list[str | None] = [None] * table.num_rows
    verdicts = pq.ParquetFile(task.verdicts).read()
    for position, reason, dup in zip(
        verdicts.column("position").to_pylist(),
        verdicts.column("reason").to_pylist(),
        verdicts.column("duplicate_of").to_pylist(),
        strict=True,
    ):
        reasons[position] = reason
        duplicate_of[position] = dup
    return write_result(task, split_rows(table, task.stage, reasons, duplicate_of))


def exact_keys_shard(task: ShardTask) -> KeyOutcome:
    """Map step of exact dedup: one shard's key digests and ranking columns."""
    table = pq.read_table(task.source, columns=["id", "messages", "source", "meta"])
    keys = exact_key_table(table, task.config)
    return KeyOutcome(keys=write_shard(keys, Path(task.out_dir), task.name("keys")))


def near_bands_shard(task: ShardTask) -> KeyOutcome:
    """Map step of near dedup: one shard's LSH band keys and ranking columns."""
    bands = shard_band_table(task.source, task.config, task.offset)
    return KeyOutcome(keys=write_shard(bands, Path(task.out_dir), task.name("bands")))


def verdict_table(positions: list[int], reasons: list[str], duplicate_of: list) -> pa.Table:
    """A shard's verdicts as the table `verdict_shard` reads."""
    return pa.table(
        {
            "position": pa.array(positions, pa.int64()),
            "reason": pa.array(reasons, pa.string()),
            "duplicate_of": pa.array(duplicate_of, pa.string()),
        }
    )
