"""Building a mixture: generate each source, pool, filter, sample, split, write.

Each step is a plain function over Arrow tables that returns its report; `build_into`
composes them and writes the mixture's files into a folder (the caller makes that folder
temporary and renames it into place). Prefect tasks in `flows/build.py` wrap the same steps.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from filters.registry import FilterConfig, filter_inputs, run_filter
from generators.registry import generator_inputs, generator_licenses, run_generator
from instances import (
    REJECTED_SCHEMA,
    InstructmixError,
    Report,
    SourceError,
    StageResult,
    empty_table,
    validate,
    write_parquet_atomic,
)
from instances.checksums import write_seal
from instances.context import StageContext
from instances.io import write_text_atomic
from instances.rejected import split_rows
from mixtures import manifest as lock
from mixtures.recipe import Recipe, SourceSpec
from mixtures.sampling import sample_recipe, split_table, tag_recipe_source
from mixtures.select import SelectionError, no_match_message, select_rows

IDENTICAL = "identical_instance"
SHARD_ROWS = 100_000


class EmptyMixture(InstructmixError):
    """A build that would ship no training rows; the message names the stage that emptied it."""


def _reasons(report: Report) -> str:
    top = ", ".join(f"{reason} {count:,}" for reason, count in report.top_reasons())
    return f" ({top})" if top else ""


def check_not_empty(name: str, funnel: list[Report], splits: dict[str, pa.Table]) -> None:
    """Raise `EmptyMixture` when the train split has no rows, naming where the rows went:
    the first stage that kept none of the rows it got, or the split that took them all."""
    if splits.get("train") is not None and splits["train"].num_rows:
        return
    for report in funnel:
        if report.rows_out == 0 and report.rows_in > 0 and not report.stage.startswith("gen"):
            raise EmptyMixture(
                f"mixture {name!r} is empty: stage {report.stage!r} dropped all "
                f"{report.rows_in:,} rows{_reasons(report)}; loosen it or check its input"
            )
    generated = [r for r in funnel if r.stage.startswith("generate:")]
    if generated and all(r.rows_out == 0 for r in generated):
        details = "; ".join(
            f"source {r.stage.split(':', 1)[1]!r} kept 0 of {r.rows_in:,} rows{_reasons(r)}"
            for r in generated
        )
        raise EmptyMixture(f"mixture {name!r} is empty: {details}")
    total = sum(table.num_rows for table in splits.values())
    raise EmptyMixture(
        f"mixture {name!r}: the train split is empty ({total:,} rows, all in validation); "
        "lower split.validation or take more rows"
    )


@dataclass
class BuildResult:
    """What a build produced: the splits, every rejected row, the funnel and the lock."""

    splits: dict[str, pa.Table]
    rejected: pa.Table
    funnel: list[Report]
    manifest: dict
    licenses: list[str] = field(default_factory=list)


def check_inputs(recipe: Recipe, ctx: StageContext) -> None:
    """Fail before any work when a source's input file is missing (names source and path)."""
    for spec in recipe.sources:
        for path in generator_inputs(spec.generator, ctx):
            if not Path(path).exists():
                raise SourceError(f"source {spec.name!r}: input file {path} not found")


def recipe_inputs(recipe: Recipe, ctx: StageContext) -> list[Path]:
    """Every local file the recipe's generators and filters read (the lock's `inputs`)."""
    inputs = [p for spec in recipe.sources for p in generator_inputs(spec.generator, ctx)]
    return inputs + [p for config in recipe.filters for p in filter_inputs(config, ctx)]


def generate_source(spec: SourceSpec, ctx: StageContext) -> StageResult:
    """Run one recipe source's generator, tag its rows with the source's recipe name and apply
    its include/exclude selectors (rows dropped there have reject_stage `select:<name>`)."""
    result = run_generator(spec.generator, ctx)
    kept = validate(tag_recipe_source(result.kept, spec.name), check_ids=False)
    report = result.report.model_copy(update={"stage": f"generate:{spec.name}"})
    if spec.include is None and spec.exclude is None:
        return StageResult(kept, result.rejected, report)
    selected = select_rows(kept, spec)
    if spec.include is not None and kept.num_rows and not selected.kept.num_rows:
        raise SelectionError(no_match_message(kept, spec))
    reasons = Counter(report.dropped_by_reason)
    reasons.update(selected.report.dropped_by_reason)
    report = report.model_copy(
        update={
            "rows_out": selected.report.rows_out,
            "dropped_by_reason": dict(sorted(reasons.items())),
            "seconds": report.seconds + selected.report.seconds,
            "extras": {**report.extras, "selection": selected.report.extras},
        }
    )
    rejected = pa.concat_tables(
        [result.rejected.cast(REJECTED_SCHEMA), selected.rejected.cast(REJECTED_SCHEMA)]
    )
    return StageResult(selected.kept, rejected, report)


def drop_identical(table: pa.Table) -> StageResult:
    """Keep the first of rows with the same id (same messages); the rest point to it."""
    started = time.perf_counter()
    seen: set[str] = set()
    reasons: list[str | None] = []
    duplicate_of: list[str | None] = []
    for row_id in table.column("id").to_pylist():
        if row_id in seen:
            reasons.append(IDENTICAL)
            duplicate_of.append(row_id)
        else:
            seen.add(row_id)
            reasons.append(None)
            duplicate_of.append(None)
    return split_rows(
        table, "identical", reasons, duplicate_of, seconds=time.perf_counter() - started
    )


def apply_filter(table: pa.Table, config: FilterConfig, ctx: StageContext) -> StageResult:
    """Run one filter and check the funnel invariant (rows_in == kept + rejected)."""
    result = run_filter(table, config, ctx)
    if not result.report.balanced() or result.report.rows_in != table.num_rows:
        raise RuntimeError(f"filter {config.kind} lost rows: {result.report}")
    if result.kept.num_rows + result.rejected.num_rows != table.num_rows:
        raise RuntimeError(f"filter {config.kind}: kept + rejected != rows in")
    return result


def apply_filters(
    table: pa.Table, filters: list[FilterConfig], ctx: StageContext
) -> tuple[pa.Table, list[StageResult]]:
    """Run the filter pipeline in order; return the kept table and each filter's result."""
    results = []
    for config in filters:
        results.append(apply_filter(table, config, ctx))
        table = results[-1].kept
    return table, results


def to_prompt_completion(table: pa.Table) -> pa.Table:
    """TRL's conversational prompt/completion form: every turn but the last, and the last."""
    messages = table.column("messages").to_pylist()
    message_type = table.schema.field("messages").type
    prompt = pa.array([m[:-1] for m in messages], message_type)
    completion = pa.array([m[-1:] for m in messages], message_type)
    index = table.schema.get_field_index("messages")
    return (
        table.remove_column(index)
        .add_column(index, "prompt", prompt)
        .add_column(index + 1, "completion", completion)
    )


def shard_names(split: str, rows: int) -> list[str]:
    """File names of a split's Parquet shards, Hub style: data/train-00000-of-00002.parquet."""
    count = max(1, -(-rows // SHARD_ROWS))
    return [f"data/{split}-{i:05d}-of-{count:05d}.parquet" for i in range(count)]


def write_outputs(out_dir: Path, result: BuildResult, output_format: str) -> list[str]:
    """Write splits, rejected rows and the funnel into `out_dir`; return the data file names."""
    written = []
    for split, table in result.splits.items():
        if output_format == "prompt_completion":
            table = to_prompt_completion(table)
        for i, name in enumerate(shard_names(split, table.num_rows)):
            write_parquet_atomic(table.slice(i * SHARD_ROWS, SHARD_ROWS), out_dir / name)
            written.append(name)
    write_parquet_atomic(result.rejected, out_dir / "rejected.parquet")
    funnel = [report.model_dump(mode="json") for report in result.funnel]
    write_text_atomic(
        json.dumps(funnel, indent=2, ensure_ascii=False) + "\n", out_dir / "funnel.json"
    )
    return written


def assemble(
    recipe: Recipe,
    ctx: StageContext,
    stage_results: list[StageResult],
    sampled: pa.Table,
    sample_reports: Report | list[Report],
) -> BuildResult:
    """Split the sampled rows and gather rejected rows, funnel and manifest into a `BuildResult`.

    `sample_reports`: the sample stage's report, or it and the upsample stage's.
    """
    if isinstance(sample_reports, Report):
        sample_reports = [sample_reports]
    funnel = [r.report for r in stage_results] + list(sample_reports)
    splits = split_table(sampled, recipe.split.validation, recipe.seed)
    check_not_empty(recipe.name, funnel, splits)
    rejected = pa.concat_tables(
        [empty_table(REJECTED_SCHEMA), *[r.rejected.cast(REJECTED_SCHEMA) for r in stage_results]]
    )
    inputs = recipe_inputs(recipe, ctx)
    licenses = sorted({lic for s in recipe.sources for lic in generator_licenses(s.generator)})
    manifest = {
        "name": recipe.name,
        "recipe_hash": lock.recipe_hash(recipe),
        "recipe": recipe.model_dump(mode="json", exclude={"train"}),  # train: is not the data
        "seed": recipe.seed,
        "packages": lock.package_versions(),
        "code_hash": lock.code_hash(),
        "inputs": lock.input_hashes(inputs, ctx.mirror),
        "counts": {r.stage: {"rows_in": r.rows_in, "rows_out": r.rows_out} for r in funnel},
        "splits": {name: table.num_rows for name, table in splits.items()},
    }
    return BuildResult(splits, rejected, funnel, manifest, licenses)


def run_stages(recipe: Recipe, ctx: StageContext) -> BuildResult:
    """Generate, pool, filter, sample and split `recipe`: everything but writing files."""
    generated = [generate_source(spec, ctx) for spec in recipe.sources]
    identical = drop_identical(pa.concat_tables([g.kept for g in generated]))
    kept, filtered = apply_filters(identical.kept, recipe.filters, ctx)
    sampled, sample_reports = sample_recipe(kept, recipe)
    return assemble(recipe, ctx, [*generated, identical, *filtered], sampled, sample_reports)


def write_build(out_dir: Path, result: BuildResult, output_format: str) -> None:
    """Write a finished build into `out_dir`, the manifest last (with the outputs' sha256)."""
    written = write_outputs(out_dir, result, output_format)
    # funnel.json holds timings (not reproducible): the seal, not the lock, covers it
    result.manifest["outputs"] = lock.output_hashes(out_dir, [*written, "rejected.parquet"])
    manifest_text = json.dumps(result.manifest, indent=2, sort_keys=True) + "\n"
    write_text_atomic(manifest_text, out_dir / "manifest.json")


def build_into(recipe: Recipe, ctx: StageContext, out_dir: Path) -> BuildResult:
    """Build `recipe` into `out_dir`: data/, rejected.parquet, funnel.json, manifest.json."""
    result = run_stages(recipe, ctx)
    write_build(out_dir, result, recipe.output_format)
    write_seal(out_dir)
    return result
