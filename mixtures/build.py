"""Building a mixture: generate each source, pool, filter, sample, split, write.

Each step is a plain function over Arrow tables that returns its report. `build` runs the
sequence (generate -> identical -> filters -> sample -> assemble -> write) in memory, in this
process (the Python API, `mixtures.build_mixture`); the Prefect flow in `flows/build.py` runs
the same stage functions over shards (`mixtures.sharded`), then the same writer: same bytes.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
)
from instances.checksums import write_seal
from instances.context import StageContext
from instances.io import atomic_directory, write_parquet_atomic
from instances.rejected import split_rows
from mixtures import manifest as lock
from mixtures.diversity import quality_lock
from mixtures.eval_splits import drop_eval_rows
from mixtures.folder import MixtureFolder
from mixtures.recipe import Recipe, SourceSpec
from mixtures.sampling import (
    recipe_sources,
    sample_recipe,
    split_table,
    tag_recipe_source,
    uses_tokens,
)
from mixtures.select import SelectionError, no_match_message, select_rows
from mixtures.tokens import DEFAULT_CACHE, TokenCounter, per_source, token_counter

IDENTICAL = "identical_instance"
TOKENS_FILE = "tokens.parquet"


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
    tokens: pa.Table | None = None  # per row of every split: id, split and token counts


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
    """Run one recipe source's generator, tag its rows with the source's recipe name, drop
    rows read from evaluation splits unless allowed (reject_stage `eval_splits:<name>`) and
    apply its include/exclude selectors (rows dropped there have reject_stage `select:<name>`)."""
    result = run_generator(spec.generator, ctx)
    kept = validate(tag_recipe_source(result.kept, spec.name), check_ids=False)
    report = result.report.model_copy(update={"stage": f"generate:{spec.name}"})
    if not spec.allow_eval_splits:
        result, kept, report = _without_eval_rows(spec.name, result, kept, report)
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


def _without_eval_rows(
    name: str, result: StageResult, kept: pa.Table, report: Report
) -> tuple[StageResult, pa.Table, Report]:
    guarded = drop_eval_rows(kept, f"eval_splits:{name}")
    if not guarded.rejected.num_rows:
        return result, kept, report
    if not guarded.kept.num_rows:
        splits = ", ".join(guarded.report.extras["eval_splits"])
        raise SourceError(
            f"source {name!r}: every row comes from an evaluation split ({splits}); set "
            "allow_eval_splits: true on the recipe to train on evaluation data, or pick "
            "other tasks"
        )
    reasons = Counter(report.dropped_by_reason)
    reasons.update(guarded.report.dropped_by_reason)
    report = report.model_copy(
        update={
            "rows_out": guarded.report.rows_out,
            "dropped_by_reason": dict(sorted(reasons.items())),
            "extras": {**report.extras, **guarded.report.extras},
        }
    )
    rejected = pa.concat_tables(
        [result.rejected.cast(REJECTED_SCHEMA), guarded.rejected.cast(REJECTED_SCHEMA)]
    )
    return StageResult(guarded.kept, rejected, report), guarded.kept, report


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
    """Run one filter or transform (the dispatcher checks rows_in == rows_out + drops)."""
    return run_filter(table, config, ctx)


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
    counter = token_counter(recipe, token_cache(ctx))
    tokens, token_lock = split_tokens(splits, counter)
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
        **token_lock,
    }
    if quality := quality_lock(funnel):  # scorer and embedding settings
        manifest["quality"] = quality
    return BuildResult(splits, rejected, funnel, manifest, licenses, tokens)


def token_cache(ctx: StageContext) -> Path:
    """Where token counts and converted tokenizers are cached: the context's cache folder,
    else `.cache` (the flows' default)."""
    return Path(ctx.cache_dir) if ctx.cache_dir is not None else DEFAULT_CACHE


def split_tokens(splits: dict[str, pa.Table], counter: TokenCounter) -> tuple[pa.Table, dict]:
    """Token counts of every row of every split (the `tokens.parquet` table: split, id and the
    counts) and the lock's entries: `tokenizer` (name, fingerprint) and `sources` (per recipe
    source: rows and prompt/response/total/trainable tokens)."""
    parts, labels = [], []
    for name, table in splits.items():
        counts = counter.count(table)
        parts.append(counts.add_column(0, "split", pa.array([name] * table.num_rows, pa.string())))
        labels += recipe_sources(table)
    tokens = pa.concat_tables(parts) if parts else None
    lock_entries = {
        "tokenizer": {"name": counter.name, "fingerprint": counter.fingerprint()},
        "sources": per_source(labels, tokens) if tokens is not None else {},
    }
    return tokens, lock_entries


def run_stages(recipe: Recipe, ctx: StageContext) -> BuildResult:
    """Generate, pool, filter, sample and split `recipe` in memory: everything but writing."""
    generated = [generate_source(spec, ctx) for spec in recipe.sources]
    identical = drop_identical(pa.concat_tables([g.kept for g in generated]))
    kept, filtered = identical.kept, []
    for config in recipe.filters:
        filtered.append(apply_filter(kept, config, ctx))
        kept = filtered[-1].kept
    tokens = count_pool_tokens(kept, recipe, ctx) if uses_tokens(recipe) else None
    sampled, sample_reports = sample_recipe(kept, recipe, tokens)
    stage_results = [*generated, identical, *filtered]
    return assemble(recipe, ctx, stage_results, sampled, sample_reports)


def count_pool_tokens(kept: pa.Table, recipe: Recipe, ctx: StageContext) -> dict[str, int]:
    """Trainable tokens of every pooled row, by id (counted once, cached on disk), so that the
    sampler can mix by tokens without counting again."""
    counts = token_counter(recipe, token_cache(ctx)).count(kept)
    return dict(zip(counts["id"].to_pylist(), counts["trainable_tokens"].to_pylist(), strict=True))


def write_build(out_dir: Path, result: BuildResult, output_format: str) -> None:
    """Write a finished build into `out_dir`: the splits' shards, rejected rows, funnel, then
    the manifest last (with the outputs' sha256)."""
    folder = MixtureFolder(Path(out_dir))
    written = []
    for split, table in result.splits.items():
        if output_format == "prompt_completion":
            table = to_prompt_completion(table)
        written += folder.write_split(split, table)
    written.append(folder.write_rejected(result.rejected))
    if result.tokens is not None:
        write_parquet_atomic(result.tokens, folder.path / TOKENS_FILE)
        written.append(TOKENS_FILE)
    folder.write_funnel([report.model_dump(mode="json") for report in result.funnel])
    result.manifest["outputs"] = lock.output_hashes(folder.path, written)
    folder.write_manifest(result.manifest)


CardWriter = Callable[[Path, str, list[str]], Any]
"""Renders the card into a folder: (folder, recipe YAML, declared licenses), e.g.
`data_cards.card.write_card` (mixtures do not import data_cards: the flow passes it)."""


def write_mixture(
    final_dir: Path,
    result: BuildResult,
    recipe: Recipe,
    recipe_yaml: str | None = None,
    card: CardWriter | None = None,
) -> MixtureFolder:
    """Write the build into a temporary folder (the card too, when `card` is given), then
    rename it to `final_dir`: an interrupted write leaves nothing half-written."""
    with atomic_directory(final_dir) as tmp:
        write_build(tmp, result, recipe.output_format)
        if card is not None:
            text = recipe_yaml or yaml_of(recipe)
            card(tmp, text, result.licenses)
        write_seal(tmp)  # last: the sha256 of every shipped file, the lock and card included
    return MixtureFolder(Path(final_dir))


def yaml_of(recipe: Recipe) -> str:
    """The recipe as YAML (what the card shows when no recipe file text is at hand)."""
    import yaml

    data = recipe.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def build(
    recipe: Recipe,
    ctx: StageContext,
    final_dir: Path,
    *,
    recipe_yaml: str | None = None,
    card: CardWriter | None = None,
) -> BuildResult:
    """The build in memory: run every stage of `recipe`, then write the mixture (data/,
    rejected.parquet, funnel.json, manifest.json, the card) to `final_dir`."""
    result = run_stages(recipe, ctx)
    write_mixture(Path(final_dir), result, recipe, recipe_yaml, card)
    return result


def build_into(recipe: Recipe, ctx: StageContext, out_dir: Path) -> BuildResult:
    """Build `recipe` into `out_dir`: data/, rejected.parquet, funnel.json, manifest.json."""
    result = run_stages(recipe, ctx)
    write_build(out_dir, result, recipe.output_format)
    write_seal(out_dir)
    return result
