"""The Prefect flow that builds a named mixture: thin tasks around the stage functions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from data_cards.card import write_card
from filters.registry import FilterConfig
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
    """Run one filter of the recipe's pipeline."""
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


@task(name="sharded-stages", cache_policy=NO_CACHE)
def sharded_stages_task(
    recipe: Recipe, ctx: StageContext, work_dir: Path, executor: str, ray_address: str | None
) -> stages.BuildResult:
    """Generate and filter `recipe` shard by shard in `work_dir` (see `mixtures.sharded`)."""
    from mixtures.executors import make_executor
    from mixtures.sharded import build_result, run_recipe

    with make_executor(executor, ray_address=ray_address) as runner:
        get_run_logger().info("sharded stages on %s in %s", runner.name, work_dir)
        result = build_result(recipe, ctx, run_recipe(recipe, ctx, work_dir, runner))
    for report in result.funnel:
        log_report(report)
    return result


@flow(name="build-mixture", log_prints=True)
def build_mixture(
    recipe: Recipe,
    recipe_yaml: str,
    ctx: StageContext,
    out_root: Path,
    executor: str | None = None,
    ray_address: str | None = None,
) -> stages.BuildResult:
    """Build `recipe` into `out_root/<name>/`: Parquet splits, card, funnel, rejected rows, lock.

    `executor` ("local" or "ray"): run the stages sharded, in bounded memory, with that
    executor (Ray at `ray_address`, else a local cluster); the output is byte-identical.
    """
    if executor is not None:
        from mixtures.sharded import work_dir_for

        work_dir = work_dir_for(recipe, ctx, Path(out_root))
        result = sharded_stages_task(recipe, ctx, work_dir, executor, ray_address)
        write_mixture_task(result, recipe, Path(out_root) / recipe.name, recipe_yaml)
        shutil.rmtree(work_dir, ignore_errors=True)
        return result
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
