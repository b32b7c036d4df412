"""The Prefect flow that builds a named mixture: thin tasks around the stage functions."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import pyarrow as pa
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from data_cards.card import write_card
from filters.registry import FilterConfig
from filters.score import llm_slots
from flows.concurrency import llm_limit, llm_slot
from instances import Report, StageResult
from instances.context import StageContext
from instances.io import atomic_directory
from mixtures import build as stages
from mixtures.recipe import Recipe, SourceSpec
from mixtures.sampling import sample_recipe


def log_report(report: Report) -> None:
    """Log one stage's counters to the run's Prefect logger."""
    get_run_logger().info(
        "%s: %d in, %d out, dropped %s (%.2fs)",
        report.stage,
        report.rows_in,
        report.rows_out,
        dict(report.top_reasons()),
        report.seconds,
    )


@task(name="generate-source", cache_policy=NO_CACHE)
def generate_source_task(spec: SourceSpec, ctx: StageContext) -> StageResult:
    """Run one recipe source's generator."""
    result = stages.generate_source(spec, ctx)
    log_report(result.report)
    return result


@task(name="drop-identical", cache_policy=NO_CACHE)
def drop_identical_task(tables: list[pa.Table]) -> StageResult:
    """Pool the sources and drop rows with the same id."""
    result = stages.drop_identical(pa.concat_tables(tables))
    log_report(result.report)
    return result


@task(name="filter", cache_policy=NO_CACHE)
def filter_task(table: pa.Table, config: FilterConfig, ctx: StageContext) -> StageResult:
    """Run one filter of the recipe's pipeline (an LLM judge inside the `llm` limit's slots)."""
    slots = llm_slots(config)
    held = llm_slot(occupy=min(slots, llm_limit() or slots)) if slots else nullcontext()
    with held:
        result = stages.apply_filter(table, config, ctx)
    log_report(result.report)
    return result


@task(name="sample", cache_policy=NO_CACHE)
def sample_task(table: pa.Table, recipe: Recipe) -> tuple[pa.Table, list[Report]]:
    """Draw each source's rows as the recipe says (caps, amounts, strata), then upsample."""
    sampled, reports = sample_recipe(table, recipe)
    for report in reports:
        log_report(report)
    for name, counts in reports[0].extras["sources"].items():
        if counts["shortfall"]:
            get_run_logger().warning(
                "source %s: %d rows requested, only %d available after dedup, filters and caps",
                name,
                counts["requested"],
                counts["selected"],
            )
    return sampled, reports


@task(name="write-mixture", cache_policy=NO_CACHE)
def write_mixture_task(
    result: stages.BuildResult, recipe: Recipe, final_dir: Path, recipe_yaml: str
) -> Path:
    """Write data, funnel, lock and card into a temporary folder, then rename it into place."""
    with atomic_directory(final_dir) as tmp:
        stages.write_build(tmp, result, recipe.output_format)
        write_card(tmp, recipe_yaml, result.licenses)
    get_run_logger().info("wrote %s", final_dir)
    return final_dir


@flow(name="build-mixture", log_prints=True)
def build_mixture(
    recipe: Recipe, recipe_yaml: str, ctx: StageContext, out_root: Path
) -> stages.BuildResult:
    """Build `recipe` into `out_root/<name>/`: Parquet splits, card, funnel, rejected rows, lock."""
    generated = [generate_source_task(spec, ctx) for spec in recipe.sources]
    identical = drop_identical_task([g.kept for g in generated])
    table, filtered = identical.kept, []
    for config in recipe.filters:
        filtered.append(filter_task(table, config, ctx))
        table = filtered[-1].kept
    sampled, sample_reports = sample_task(table, recipe)
    result = stages.assemble(
        recipe, ctx, [*generated, identical, *filtered], sampled, sample_reports
    )
    write_mixture_task(result, recipe, Path(out_root) / recipe.name, recipe_yaml)
    return result
