"""The sharded stage driver: a recipe's stages as shard tasks, in bounded memory.

Every stage reads a list of Parquet shards and writes kept and rejected shards into its own
folder under the work folder. Row-wise filters run per shard; identical, exact and near dedup
run as map (per-shard keys) + reduce (in this process, on narrow tables) + apply (per-shard
verdicts). Each finished shard leaves a `done-*.json` record, each finished stage a
`stage.json`: a rerun after a crash (even SIGKILL) reuses every shard whose files still match
their sha256 and redoes the rest, giving the same bytes. The verdicts are those of the
in-memory filters, so a build is byte-identical whatever the shard size or executor.

    >>> with LocalExecutor(2) as executor:  # doctest: +SKIP
    ...     result = build_result(recipe, ctx, run_recipe(recipe, ctx, work, executor))
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict

from instances import INSTANCE_SCHEMA, REJECTED_SCHEMA, Report, StageResult, empty_table
from instances.context import StageContext
from instances.io import write_text_atomic
from instances.shards import ShardFile, rebatch, write_shard
from mixtures import global_stages
from mixtures.executors import Executor, LocalExecutor
from mixtures.progress import StageProgress
from mixtures.shard_tasks import ShardOutcome, ShardTask, filter_shard

DEFAULT_SHARD_ROWS = 50_000
# A stage over at most this many shards' worth of rows runs inline: starting the local
# pool's workers (about 2-3 s) costs more than the work.
INLINE_SHARDS = 2
ROW_WISE_KINDS = frozenset(
    {"length", "quality", "language", "decontaminate", "pii_mask", "threshold"}
)
# Row-wise filters that may rewrite a row (quality masks personal data, giving a new id).
REWRITING_KINDS = frozenset({"pii_mask"})
Shards = list[tuple[Path, int]]
ROW = "__row"  # a narrow table's column of global row positions


class StageRecord(BaseModel):
    """A finished stage: its kept and rejected shards (relative to its folder) and report."""

    model_config = ConfigDict(extra="forbid")

    kept: list[ShardFile]
    rejected: list[ShardFile]
    report: Report


@dataclass
class StageOutput:
    """A finished stage as the next stage sees it."""

    folder: Path
    record: StageRecord

    @property
    def kept(self) -> Shards:
        """The kept shards: (absolute path, rows), in row order."""
        return [(self.folder / s.path, s.rows) for s in self.record.kept]

    def rejected_table(self) -> pa.Table:
        """Every rejected row of this stage (read from its shards)."""
        tables = [pq.read_table(self.folder / s.path) for s in self.record.rejected]
        return pa.concat_tables([empty_table(REJECTED_SCHEMA), *tables])


@dataclass
class ShardedRun:
    """Runs stages of shard tasks in `work_dir` with `executor`, reusing finished shards.

    `on_shard_done(folder, label, index)` is called after each shard task that ran (not reused);
    `hold(config)` is entered around each filter stage that runs (the flow holds an LLM judge's
    share of the `llm` concurrency limit this way).
    """

    work_dir: Path
    executor: Executor
    ctx: StageContext = field(default_factory=StageContext)
    shard_rows: int = DEFAULT_SHARD_ROWS
    on_shard_done: Callable[[Path, str, int], None] | None = None
    hold: Callable[[Any], AbstractContextManager] = field(default=lambda config: nullcontext())

    def folder(self, number: int, name: str) -> Path:
        """The folder of stage `number` called `name`."""
        return Path(self.work_dir) / f"{number:02d}-{name}"

    def map(
        self,
        folder: Path,
        label: str,
        fn: Callable,
        tasks: Sequence[ShardTask],
        rows: list[int],
        outcome_type: type[BaseModel] = ShardOutcome,
    ) -> list[Any]:
        """Run `fn` on every task not finished before; return every task's outcome in order.

        `outcome_type` is the pydantic model `fn` returns (read back from `done-*.json`).
        """
        outcomes: list[Any] = [None] * len(tasks)
        progress = StageProgress(label, len(tasks), enabled=self.ctx.show_progress)
        todo = []
        for index in range(len(tasks)):
            done = folder / f"done-{label}-{index:05d}.json"
            if done.is_file():
                outcome = outcome_type.model_validate_json(done.read_text(encoding="utf-8"))
                if all(file.matches(folder) for file in outcome.files()):
                    outcomes[index] = outcome
                    progress.update(rows[index])
                    continue
            todo.append(index)
        for number, outcome in self.run_tasks(fn, [tasks[i] for i in todo], rows):
            index = todo[number]
            write_text_atomic(
                outcome.model_dump_json() + "\n", folder / f"done-{label}-{index:05d}.json"
            )
            outcomes[index] = outcome
            progress.update(rows[index])
            if self.on_shard_done is not None:
                self.on_shard_done(folder, label, index)
        progress.close()
        return outcomes

    def run_tasks(self, fn: Callable, tasks: list[ShardTask], rows: list[int]) -> Iterator:
        """`executor.map(fn, tasks)`, or inline here when a local pool would cost more to start
        than the work takes (`INLINE_SHARDS` shards' rows or fewer); the outputs are the same."""
        small = sum(rows) <= INLINE_SHARDS * self.shard_rows
        if isinstance(self.executor, LocalExecutor) and small:
            return enumerate(map(fn, tasks))
        return self.executor.map(fn, tasks)

    def tasks(self, shards: Shards, folder: Path, stage: str, **extra: Any) -> list[ShardTask]:
        """One task per input shard, with global row offsets."""
        out, offset = [], 0
        for index, (path, rows) in enumerate(shards):
            out.append(ShardTask(str(path), str(folder), index, offset, stage, **extra))
            offset += rows
        return out

    def finish(self, folder: Path, outcomes: list[ShardOutcome], report: Report) -> StageOutput:
        """Record a finished stage in `folder/stage.json`."""
        record = StageRecord(
            kept=[o.kept for o in outcomes], rejected=[o.rejected for o in outcomes], report=report
        )
        write_text_atomic(record.model_dump_json(indent=1) + "\n", folder / "stage.json")
        return StageOutput(folder, record)

    def reuse(self, folder: Path) -> StageOutput | None:
        """The stage finished in `folder` before, if its record and files are intact."""
        path = folder / "stage.json"
        if not path.is_file():
            return None
        record = StageRecord.model_validate_json(path.read_text(encoding="utf-8"))
        files = [*record.kept, *record.rejected]
        return StageOutput(folder, record) if all(f.matches(folder) for f in files) else None

    def filter_stage(self, number: int, shards: Shards, config: Any) -> StageOutput:
        """Run one recipe filter over `shards` (row-wise per shard, dedup as map + reduce)."""
        folder = self.folder(number, config.kind)
        done = self.reuse(folder)
        if done is not None:
            return done
        folder.mkdir(parents=True, exist_ok=True)
        with self.hold(config):
            outcomes, report = self.run_filter(folder, shards, config)
        return self.finish(folder, outcomes, report)

    def run_filter(self, folder: Path, shards: Shards, config: Any) -> tuple[list, Report]:
        """The outcomes and report of one filter over `shards` (not yet recorded as done)."""
        rows = [r for _, r in shards]
        if config.kind in global_stages.GLOBAL:
            outcomes, report = global_stages.GLOBAL[config.kind](self, folder, shards, config)
        elif config.kind in ROW_WISE_KINDS:
            tasks = self.tasks(shards, folder, config.kind, config=config, ctx=self.quiet_ctx())
            outcomes = self.map(folder, config.kind, filter_shard, tasks, rows)
            report = global_stages.merge_reports([o.report for o in outcomes], config.kind)
            if config.kind in REWRITING_KINDS and global_stages.repeats_across_shards(
                folder, outcomes
            ):
                # Masking made a row equal to a row of another shard: the filter must see both.
                outcomes, report = global_stages.whole_table(self, folder, shards, config)
        else:
            outcomes, report = global_stages.whole_table(self, folder, shards, config)
        return outcomes, report

    def quiet_ctx(self) -> StageContext:
        """The context shard tasks get (no progress bars of their own)."""
        return self.ctx.model_copy(update={"show_progress": False})

    def write_input(self, number: int, name: str, tables: Iterable[pa.Table]) -> StageOutput:
        """Write a stream of instance tables as a stage's kept shards (nothing rejected)."""
        folder = self.folder(number, name)
        done = self.reuse(folder)
        if done is not None:
            return done
        kept, rows = [], 0
        progress = StageProgress(name, None, enabled=self.ctx.show_progress)
        for index, table in enumerate(rebatch(tables, self.shard_rows)):
            kept.append(write_shard(table, folder, f"kept-{index:05d}.parquet"))
            rows += table.num_rows
            progress.update(table.num_rows)
        progress.close()
        if not kept:
            kept.append(write_shard(empty_table(INSTANCE_SCHEMA), folder, "kept-00000.parquet"))
        return self.record_input(folder, kept, Report(stage=name, rows_in=rows, rows_out=rows))

    def record_input(self, folder: Path, kept: list[ShardFile], report: Report) -> StageOutput:
        """Record kept shards written into `folder` as a finished input stage (none rejected)."""
        empty = write_shard(empty_table(REJECTED_SCHEMA), folder, "rejected.parquet")
        record = StageRecord(kept=kept, rejected=[empty], report=report)
        write_text_atomic(record.model_dump_json(indent=1) + "\n", folder / "stage.json")
        return StageOutput(folder, record)

    def filters(self, shards: Shards, configs: list[Any], first: int = 1) -> list[StageOutput]:
        """Identical-id dedup, then each filter in order; the stages' outputs."""
        outputs = [global_stages.identical(self, self.folder(first, "identical"), shards)]
        for number, config in enumerate(configs, start=first + 1):
            outputs.append(self.filter_stage(number, outputs[-1].kept, config))
        return outputs


def run_recipe(
    recipe: Any,
    ctx: StageContext,
    work_dir: Path,
    executor: Executor | None = None,
    *,
    shard_rows: int = DEFAULT_SHARD_ROWS,
    on_shard_done: Callable[[Path, str, int], None] | None = None,
    generate: Callable[[Any, StageContext], StageResult] | None = None,
    log: Callable[[str], None] | None = None,
    hold: Callable[[Any], AbstractContextManager] | None = None,
) -> tuple[list[StageResult], list[StageOutput]]:
    """Generate `recipe`'s sources (one at a time, into shards) and run its filters sharded.

    `generate(spec, ctx)` makes one source's rows (default `mixtures.build.generate_source`;
    the flow passes its cached Prefect task; a `kind: dataset` source streams instead, said
    through `log`); `hold` is `ShardedRun.hold`. Returns the generation results (kept rows
    dropped; rejected and reports kept) and the outputs of the identical stage and every filter.
    """
    from mixtures.build import generate_source
    from mixtures.sharded_sources import source_stage

    generate = generate or generate_source
    runner = ShardedRun(Path(work_dir), executor or LocalExecutor(1), ctx, shard_rows)
    runner.on_shard_done = on_shard_done
    if hold is not None:
        runner.hold = hold
    generated, pooled = [], []
    for number, spec in enumerate(recipe.sources):
        folder = runner.folder(0, f"source-{number:03d}")
        output = runner.reuse(folder) if (folder / "generate.json").is_file() else None
        if output is None:
            output = source_stage(runner, number, spec, generate, log)
        report = Report.model_validate_json((folder / "generate.json").read_text("utf-8"))
        rejected = pq.read_table(folder / "generate-rejected.parquet")
        generated.append(StageResult(empty_table(), rejected, report))
        pooled.extend(output.kept)
    return generated, runner.filters(pooled, list(recipe.filters))


def gather(shards: Shards, column: str, rows: np.ndarray) -> pa.ChunkedArray:
    """`column` of the global `rows` (any order, repeats allowed), read shard by shard."""
    order = np.argsort(rows, kind="stable")
    wanted = rows[order]
    parts, offset = [], 0
    for path, count in shards:
        low, high = np.searchsorted(wanted, [offset, offset + count])
        if high > low:
            values = pq.read_table(path, columns=[column]).column(column)
            parts.append(values.take(pa.array(wanted[low:high] - offset)))
        offset += count
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    if not parts:
        return pq.read_table(shards[0][0], columns=[column]).column(column).slice(0, 0)
    return pa.chunked_array(
        [chunk for part in parts for chunk in part.chunks], type=parts[0].type
    ).take(pa.array(inverse))


def build_result(
    recipe: Any, ctx: StageContext, run: tuple[list[StageResult], list[StageOutput]]
) -> Any:
    """The `BuildResult` of a sharded run, as `mixtures.build.run_stages` gives it.

    Sampling and splitting run on a narrow table (every column but `messages`, which sampling
    never reads, and each row's position); only the sampled rows' messages are read back.
    """
    from mixtures.build import assemble, count_pool_tokens
    from mixtures.sampling import sample_recipe, uses_tokens

    generated, outputs = run
    kept = outputs[-1].kept
    # token amounts and diversity selection read the messages: then sample the whole rows
    reads_text = (
        uses_tokens(recipe)
        or recipe.select is not None
        or any(spec.select is not None for spec in recipe.sources)
    )
    narrow_columns = [n for n in INSTANCE_SCHEMA.names if n != "messages" or reads_text]
    narrow = pa.concat_tables(
        [pq.read_table(path, columns=narrow_columns) for path, _ in kept]
    ).combine_chunks()
    narrow = narrow.append_column(ROW, pa.array(np.arange(narrow.num_rows, dtype=np.int64)))
    # token amounts: counted as the in-memory build counts them (the context's cache folder)
    tokens = count_pool_tokens(narrow, recipe, ctx) if uses_tokens(recipe) else None
    sampled, reports = sample_recipe(narrow, recipe, tokens)
    rows = sampled.column(ROW).to_numpy()
    sampled = sampled.drop_columns([ROW])
    if not reads_text:
        sampled = sampled.add_column(1, "messages", gather(kept, "messages", rows))
    sampled = sampled.select(INSTANCE_SCHEMA.names).cast(INSTANCE_SCHEMA).combine_chunks()
    stages = [StageResult(empty_table(), o.rejected_table(), o.record.report) for o in outputs]
    return assemble(recipe, ctx, [*generated, *stages], sampled, reports)


def work_dir_for(recipe: Any, ctx: StageContext, root: Path) -> Path:
    """The work folder of `recipe`'s sharded build under `root`: named by the recipe, the code
    and the input files' sha256, so a rerun of the same build (after a crash) reuses its
    finished shards and any change starts afresh."""
    import hashlib
    import json

    from mixtures import manifest as lock
    from mixtures.build import recipe_inputs

    inputs = lock.input_hashes(recipe_inputs(recipe, ctx), ctx.mirror)
    key = json.dumps([lock.recipe_hash(recipe), lock.code_hash(), inputs], sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(root) / f".{recipe.name}.work-{digest}"


@contextmanager
def work_folder(recipe: Any, ctx: StageContext, root: Path) -> Iterator[Path]:
    """The work folder of `recipe`'s sharded build under `root` (`work_dir_for`), for the
    stages and the write: removed when they finish or fail (a failed build leaves nothing),
    kept when interrupted (KeyboardInterrupt), so that a rerun reuses its finished shards."""
    path = work_dir_for(recipe, ctx, root)
    try:
        yield path
    except KeyboardInterrupt:
        raise
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    shutil.rmtree(path, ignore_errors=True)
