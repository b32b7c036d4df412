"""Stages that must see every row, as map + reduce + apply over shards (for `mixtures.sharded`).

Each function takes the runner, the stage folder, the input shards and the filter config, and
returns the per-shard outcomes and the stage's report, with the verdicts (kept rows, reasons,
duplicate_of) and report extras of the in-memory filter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import reduce
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel

from filters import near_dedup
from filters.dedup_shards import duplicates, exact_verdicts, identical_verdicts
from filters.exact_dedup import EXACT_DUPLICATE
from filters.near_dedup_shards import candidate_pairs, cluster_labels, texts_at, verify
from filters.registry import run_filter
from instances import Report
from instances.context import StageContext
from instances.shards import write_shard
from mixtures.shard_tasks import (
    KeyOutcome,
    ShardOutcome,
    ShardTask,
    exact_keys_shard,
    near_bands_shard,
    verdict_shard,
    verdict_table,
    write_result,
)

Shards = list[tuple[Path, int]]  # (shard file, rows), as `mixtures.sharded` passes them
StageOutput = Any  # `mixtures.sharded.StageOutput` (not imported: sharded imports this module)


class ShardedRun(Protocol):
    """What the global stages need of `mixtures.sharded.ShardedRun`."""

    ctx: StageContext

    def map(
        self,
        folder: Path,
        label: str,
        fn: Callable,
        tasks: Sequence[ShardTask],
        rows: list[int],
        outcome_type: type[BaseModel] = ...,
    ) -> list[Any]: ...

    def tasks(self, shards: Shards, folder: Path, stage: str, **extra: Any) -> list[ShardTask]: ...

    def finish(self, folder: Path, outcomes: list[ShardOutcome], report: Report) -> Any: ...

    def reuse(self, folder: Path) -> Any: ...


IDENTICAL = "identical_instance"


def merge_extras(a: Any, b: Any) -> Any:
    """Per-shard extras added up: ints summed, mappings merged by key, else the first given.

    >>> merge_extras({"n": 1, "x": None}, {"n": 2, "x": "b"})
    {'n': 3, 'x': 'b'}
    """
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = merge_extras(a[key], value) if key in a else value
        return out
    if type(a) is int and type(b) is int:
        return a + b
    return a if a not in (None, "", [], {}) else b


def merge_reports(reports: list[Report], kind: str) -> Report:
    """One report from a row-wise stage's shard reports, extras as the whole-table run gives.

    Decontamination's per-benchmark item counts and its n-gram length are settings, not
    counts: they are taken once; its matched rows are summed and the first example kept.
    """
    total = reduce(lambda a, b: a + b, reports)
    if kind != "decontaminate":
        extras = reduce(merge_extras, (r.extras for r in reports))
        return total.model_copy(update={"extras": extras})
    first = reports[0].extras
    benchmarks = {}
    for name, info in first["benchmarks"].items():
        shards = [r.extras["benchmarks"][name] for r in reports]
        examples = [s["example"] for s in shards if s["example"] is not None]
        benchmarks[name] = {
            **info,
            "rows": sum(s["rows"] for s in shards),
            "example": examples[0] if examples else None,
        }
    return total.model_copy(update={"extras": {**first, "benchmarks": benchmarks}})


def apply_verdicts(
    runner: ShardedRun,
    folder: Path,
    shards: Shards,
    stage: str,
    dropped: pl.DataFrame,
    reason: str,
) -> list[ShardOutcome]:
    """Write each shard's verdicts (rows of `dropped`: position, duplicate_of) and split it."""
    tasks = runner.tasks(shards, folder, stage)
    positions = dropped.get_column("position").to_numpy()
    for number, task in enumerate(tasks):
        low = np.searchsorted(positions, task.offset)
        high = np.searchsorted(positions, task.offset + shards[number][1])
        part = dropped.slice(int(low), int(high - low))
        if part.is_empty():
            continue  # nothing dropped here: the shard passes through unchanged
        table = verdict_table(
            (part.get_column("position").to_numpy() - task.offset).tolist(),
            [reason] * part.height,
            part.get_column("duplicate_of").to_list(),
        )
        name = f"verdicts-{number:05d}.parquet"
        write_shard(table, folder, name)
        tasks[number] = ShardTask(**{**task.__dict__, "verdicts": str(folder / name)})
    rows = [r for _, r in shards]
    return runner.map(folder, stage, verdict_shard, tasks, rows)


def _report(stage: str, outcomes: list[ShardOutcome], seconds: float, extras: dict) -> Report:
    total = reduce(lambda a, b: a + b, [o.report for o in outcomes])
    return total.model_copy(update={"seconds": seconds, "extras": extras})


def identical(runner: ShardedRun, folder: Path, shards: Shards) -> StageOutput:
    """Drop rows whose id occurred before (stage `identical`), as `drop_identical` does."""
    done = runner.reuse(folder)
    if done is not None:
        return done
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    ids = pl.concat(
        [pl.from_arrow(pq.read_table(path, columns=["id"])) for path, _ in shards], how="vertical"
    ).get_column("id")
    dropped = identical_verdicts(ids)
    del ids
    outcomes = apply_verdicts(runner, folder, shards, "identical", dropped, IDENTICAL)
    return runner.finish(folder, outcomes, _report("identical", outcomes, _since(started), {}))


def exact(runner: ShardedRun, folder: Path, shards: Shards, config: Any) -> tuple[list, Report]:
    """Exact dedup: key digests per shard, survivors over all keys, verdicts per shard."""
    started = time.perf_counter()
    rows = [r for _, r in shards]
    tasks = runner.tasks(shards, folder, "exact_dedup", config=config)
    keys = runner.map(folder, "keys", exact_keys_shard, tasks, rows, KeyOutcome)
    frame = pl.concat(
        [pl.from_arrow(pq.read_table(folder / k.keys.path)) for k in keys], how="vertical"
    )
    dropped, distinct = exact_verdicts(frame)
    del frame
    outcomes = apply_verdicts(runner, folder, shards, "exact_dedup", dropped, EXACT_DUPLICATE)
    return outcomes, _report(
        "exact_dedup", outcomes, _since(started), {"distinct_keys": int(distinct)}
    )


def near(runner: ShardedRun, folder: Path, shards: Shards, config: Any) -> tuple[list, Report]:
    """Near dedup: band keys per shard, candidate pairs band by band, verified, clustered."""
    started = time.perf_counter()
    rows = [r for _, r in shards]
    bands, per_band = config.banding()
    tasks = runner.tasks(shards, folder, "near_dedup", config=config)
    keyed = runner.map(folder, "bands", near_bands_shard, tasks, rows, KeyOutcome)
    files = [str(folder / k.keys.path) for k in keyed]
    signed = time.perf_counter()

    def read_band(column: str) -> pl.DataFrame:
        return pl.scan_parquet(files).select("row", pl.col(column).alias("key")).collect()

    pairs = candidate_pairs(read_band, bands, config.max_bucket_pairs)
    grouped = time.perf_counter()
    offsets = np.cumsum([0, *rows])

    def texts_of(wanted: np.ndarray):
        for number, (path, _) in enumerate(shards):
            low, high = np.searchsorted(wanted, [offsets[number], offsets[number + 1]])
            if high > low:
                local = wanted[low:high] - offsets[number]
                yield wanted[low:high], texts_at(str(path), local, config.fields)

    verified = verify(pairs, texts_of, config)
    nodes, labels = cluster_labels(verified)
    ranking = (
        pl.scan_parquet(files)
        .select("row", "id", "priority", "quality")
        .filter(pl.col("row").is_in(pl.Series(nodes).implode()))
        .sort("row")
        .collect()
    )
    frame = ranking.rename({"row": "position"}).with_columns(group=pl.Series(labels))
    dropped = duplicates(frame)
    extras = {
        "bands": bands,
        "rows_per_band": per_band,
        "candidate_pairs": int(len(pairs)),
        "verified_pairs": int(len(verified)),
        "clusters": int(np.unique(labels).size),
        "signature_seconds": round(signed - started, 3),
        "bucket_seconds": round(grouped - signed, 3),
        "verify_seconds": round(time.perf_counter() - grouped, 3),
    }
    outcomes = apply_verdicts(
        runner, folder, shards, "near_dedup", dropped, near_dedup.NEAR_DUPLICATE
    )
    return outcomes, _report("near_dedup", outcomes, _since(started), extras)


def whole_table(
    runner: ShardedRun, folder: Path, shards: Shards, config: Any
) -> tuple[list, Report]:
    """A filter with no sharded form: run on all rows at once (memory: the whole table)."""
    table = pa.concat_tables([pq.read_table(path) for path, _ in shards])
    result = run_filter(table, config, runner.ctx)
    outcome = write_result(ShardTask("", str(folder), 0, 0, config.kind), result)
    return [outcome], result.report


def repeats_across_shards(folder: Path, outcomes: list[ShardOutcome]) -> bool:
    """Whether an id occurs in the kept rows of two shards (a filter that rewrites rows, such
    as quality's PII masking, can make two rows equal; within a shard it handles that)."""
    if len(outcomes) < 2:
        return False
    ids = pl.concat(
        [pl.from_arrow(pq.read_table(folder / o.kept.path, columns=["id"])) for o in outcomes]
    ).get_column("id")
    return ids.n_unique() != ids.len()


def _since(started: float) -> float:
    return time.perf_counter() - started


GLOBAL = {"exact_dedup": exact, "near_dedup": near}
