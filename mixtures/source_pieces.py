"""A `kind: dataset` source of local Parquet files, generated in parallel by the executor: one
shard task per piece of whole row groups (about a shard's rows), each converting its rows and
writing its kept and rejected rows. Merged in piece order, the rows, rejected rows and report
are those of `mixtures.build.generate_source`.

    >>> tasks = piece_tasks(spec, folder, 50_000)  # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict

from generators.dataset import generate_rows
from instances import REJECTED_SCHEMA, Report, validate
from instances.dataset_files import file_kind, local_files
from instances.dataset_rows import REJECTED_EXAMPLES
from instances.errors import SourceError
from instances.shards import ShardFile, write_shard
from mixtures.eval_splits import drop_eval_rows
from mixtures.sampling import tag_recipe_source


@dataclass(frozen=True)
class PieceTask:
    """Row groups `row_groups` of Parquet `file`, whose first row is row `first_row` of the
    source; outputs go to `out_dir` as piece `index`."""

    spec: Any
    file: str
    row_groups: tuple[int, ...]
    first_row: int
    out_dir: str
    index: int


class PieceOutcome(BaseModel):
    """One piece's kept rows, generator rejects and evaluation-split rejects, and counts."""

    model_config = ConfigDict(extra="forbid")

    kept: ShardFile
    rejected: ShardFile
    eval_rejected: ShardFile
    report: Report
    eval_report: Report
    eval_counts: dict[str, int]

    def files(self) -> list[ShardFile]:
        """The shard files this outcome names."""
        return [self.kept, self.rejected, self.eval_rejected]


def piece_tasks(spec: Any, out_dir: Path, rows: int) -> list[PieceTask] | None:
    """The pieces of `spec`'s files (about `rows` rows each), or None unless the source is
    `kind: dataset` over local uncompressed Parquet files with rows and no selectors."""
    generator = spec.generator
    if generator.kind != "dataset" or generator.hub is not None:
        return None
    if spec.include is not None or spec.exclude is not None:
        return None
    try:
        files = local_files(generator.path or "", generator.split)
    except SourceError:
        return None
    if any(file_kind(file) != (".parquet", None) for file in files):
        return None
    tasks: list[PieceTask] = []
    first = 0
    for file in files:
        metadata = pq.ParquetFile(file).metadata
        groups: list[int] = []
        held = 0
        for group in range(metadata.num_row_groups):
            groups.append(group)
            held += metadata.row_group(group).num_rows
            if held >= rows or group == metadata.num_row_groups - 1:
                tasks.append(PieceTask(spec, str(file), tuple(groups), first, str(out_dir), 0))
                first += held
                groups, held = [], 0
    numbered = [PieceTask(**{**t.__dict__, "index": n}) for n, t in enumerate(tasks)]
    return numbered or None


def generate_piece(task: PieceTask) -> PieceOutcome:
    """Convert one piece (in a pool worker or a Ray task) and write its three shards."""
    name = task.spec.name
    rows = pq.ParquetFile(task.file).read_row_groups(list(task.row_groups)).to_pylist()
    result = generate_rows(task.spec.generator, task.file, rows, task.first_row)
    kept = validate(tag_recipe_source(result.kept, name), check_ids=False)
    eval_rejected = REJECTED_SCHEMA.empty_table()
    eval_report = Report(stage="eval", rows_in=kept.num_rows, rows_out=kept.num_rows)
    counts: dict[str, int] = {}
    if not task.spec.allow_eval_splits:
        guarded = drop_eval_rows(kept, f"eval_splits:{name}")
        kept, eval_rejected = guarded.kept, guarded.rejected.cast(REJECTED_SCHEMA)
        eval_report = guarded.report.model_copy(update={"stage": "eval", "extras": {}})
        counts = guarded.report.extras["eval_splits"]
    out = Path(task.out_dir)
    return PieceOutcome(
        kept=write_shard(kept, out, f"kept-{task.index:05d}.parquet"),
        rejected=write_shard(
            result.rejected.cast(REJECTED_SCHEMA), out, f"gen-rejected-{task.index:05d}.parquet"
        ),
        eval_rejected=write_shard(eval_rejected, out, f"eval-rejected-{task.index:05d}.parquet"),
        report=result.report,
        eval_report=eval_report,
        eval_counts=counts,
    )


def merged(spec: Any, folder: Path, outcomes: list[PieceOutcome]) -> tuple[pa.Table, Report]:
    """The source's rejected rows (generator rejects, then evaluation-split rows, each in
    piece order) and its report, as the whole-source generation gives them."""
    from mixtures.source_stream import with_eval_drops

    total = outcomes[0].report
    for outcome in outcomes[1:]:
        total = total + outcome.report
    examples: dict[str, list] = {}
    for outcome in outcomes:
        for reason, where in outcome.report.extras.get("rejected_rows", {}).items():
            kept = examples.setdefault(reason, [])
            kept.extend(where[: REJECTED_EXAMPLES - len(kept)])
    extras = {"rejected_rows": examples} if examples else {}
    report = total.model_copy(update={"stage": f"generate:{spec.name}", "extras": extras})
    guarded = outcomes[0].eval_report
    for outcome in outcomes[1:]:
        guarded = guarded + outcome.eval_report
    counts: Counter = Counter()
    for outcome in outcomes:
        counts.update(outcome.eval_counts)
    if guarded.rows_in != guarded.rows_out:
        report = with_eval_drops(spec.name, report, guarded, counts)
    tables = [pq.read_table(folder / o.rejected.path) for o in outcomes]
    tables += [pq.read_table(folder / o.eval_rejected.path) for o in outcomes]
    return pa.concat_tables([REJECTED_SCHEMA.empty_table(), *tables]), report
