"""The end-to-end Prefect flow: sources -> filters -> mixture -> card -> publish? -> train?

Each step is a thin task (or a subflow) around the stage functions of `mixtures/build.py`:
sources are generated concurrently and cached by spec, input-file sha256 and code; row-wise
filters run per shard (mapped tasks), other filters on the whole table; each run publishes the
funnel and composition tables and the card as Prefect artifacts. Where tasks run is chosen
with `pipeline.with_options(task_runner=runners.task_runner(...))`; the output is the same.

    >>> pipeline("demo")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from prefect import flow, get_run_logger, task, unmapped
from prefect.cache_policies import NO_CACHE

from flows.artifacts import publish_artifacts
from flows.build import (
    drop_identical_task,
    filter_task,
    log_report,
    sample_task,
    write_mixture_task,
)
from flows.caching import SOURCE_CACHE, results_dir
from flows.settings import resolve_mirror
from flows.sharding import DEFAULT_SHARD_ROWS, is_row_wise, merge_results, shard
from instances import InstructmixError, StageResult
from instances.context import StageContext
from mixtures import build as stages
from mixtures.recipe import Recipe, SourceSpec, load_recipe, recipe_path

# Generators that call an LLM: their tasks retry (as do all tasks that read from the Hub).
# None of today's does at build time: Self-Instruct runs in its own flow (which retries its
# LLM task), and its `self_instruct_pool` generator only reads the pool that flow wrote.
LLM_GENERATORS = frozenset({"self_instruct"})
RETRIES = 2
RETRY_DELAY_SECONDS = 10


@dataclass
class PipelineResult:
    """What a pipeline run made: the mixture folder, the build, artifact keys, optional steps."""

    folder: Path
    build: stages.BuildResult
    artifacts: dict[str, str]
    steps: dict[str, str] = field(default_factory=dict)


@task(
    name="generate-source",
    task_run_name="generate-{spec.name}",
    cache_policy=SOURCE_CACHE,
    persist_result=True,
)
def generate_source_task(spec: SourceSpec, ctx: StageContext) -> StageResult:
    """Run one recipe source's generator (cached by spec, input files and code)."""
    result = stages.generate_source(spec, ctx)
    log_report(result.report)
    return result


@task(name="filter-shard", task_run_name="{config.kind}-shard-{index}", cache_policy=NO_CACHE)
def filter_shard_task(table: pa.Table, config: Any, ctx: StageContext, index: int) -> StageResult:
    """Run one row-wise filter on one shard of rows."""
    return stages.apply_filter(table, config, ctx)


@task(name="publish-artifacts", cache_policy=NO_CACHE)
def artifacts_task(name: str, result: stages.BuildResult, folder: Path) -> dict[str, str]:
    """Publish the funnel and composition tables and the card to the Prefect UI."""
    return publish_artifacts(name, result.funnel, result.splits, folder / "README.md")


def _needs_retries(spec: SourceSpec, ctx: StageContext) -> bool:
    return ctx.mirror is None or spec.generator.kind in LLM_GENERATORS


def generate_all(recipe: Recipe, ctx: StageContext, cache_dir: Path, cache: bool) -> list:
    """Submit every source's generation at once; return their results in recipe order."""
    options: dict[str, Any] = {"result_storage": results_dir(cache_dir)}
    if not cache:
        options = {"cache_policy": NO_CACHE, "persist_result": False}
    futures = []
    for spec in recipe.sources:
        retry = (
            {"retries": RETRIES, "retry_delay_seconds": RETRY_DELAY_SECONDS}
            if _needs_retries(spec, ctx)
            else {}
        )
        futures.append(generate_source_task.with_options(**options, **retry).submit(spec, ctx))
    return [future.result() for future in futures]


def run_filter(table: pa.Table, config: Any, ctx: StageContext, shard_rows: int) -> StageResult:
    """One filter: mapped over shards of `shard_rows` when row-wise, else on the whole table."""
    if not is_row_wise(config) or table.num_rows <= shard_rows:
        return filter_task(table, config, ctx)
    shards = shard(table, shard_rows)
    quiet = ctx.model_copy(update={"show_progress": False})  # no progress bar per shard
    futures = filter_shard_task.map(shards, unmapped(config), unmapped(quiet), range(len(shards)))
    result = merge_results([future.result() for future in futures])
    log_report(result.report)
    return result


def _optional_flow(module: str, attribute: str, what: str) -> Any | None:
    """The flow `module.attribute`, or None (logged) when that part is not installed.

    An import error inside an installed module is raised, not taken for absence.
    """
    try:
        found = getattr(importlib.import_module(module), attribute, None)
    except ModuleNotFoundError as error:
        if not (error.name and module.startswith(error.name)):
            raise
        found = None
    if found is None:
        get_run_logger().warning("%s skipped: %s:%s is not available", what, module, attribute)
    return found


def publish_step(name: str, repo: str, artifacts: Path) -> str:
    """Run the publish flow (a subflow) for mixture `name` to Hub repo `repo`, if present."""
    publish = _optional_flow("flows.publish", "publish", "publish")
    if publish is None:
        return "skipped: no publish flow in this install"
    options = {}
    if "out_root" in inspect.signature(publish.fn).parameters:
        options["out_root"] = artifacts / "mixtures"
    publish(name=name, repo=repo, **options)
    return f"published to {repo}"


def train_step(recipe: str, artifacts: Path, cache_dir: Path) -> str:
    """Run the train flow (a subflow) on the built mixture, if present."""
    train = _optional_flow("flows.train", "train", "train")
    if train is None:
        return "skipped: no train flow in this install"
    result = train(recipe, artifacts=artifacts, cache_dir=cache_dir)
    return f"trained: {getattr(result, 'output_dir', result)}"


def load_for_run(recipe: str, limit: int | None) -> tuple[Recipe, str]:
    """The recipe to build and its YAML text for the card (the scaled recipe under --limit)."""
    loaded = load_recipe(recipe)
    if limit is None:
        return loaded, recipe_path(recipe).read_text(encoding="utf-8")
    from mixtures.scale import scale_recipe, scaled_recipe_yaml

    scaled = scale_recipe(loaded, limit)
    return scaled, scaled_recipe_yaml(scaled)


@flow(name="pipeline", log_prints=True)
def pipeline(
    recipe: str,
    mirror: str | None = None,
    artifacts: str = "artifacts",
    cache_dir: str = ".cache",
    cache: bool = True,
    shard_rows: int = DEFAULT_SHARD_ROWS,
    publish_repo: str | None = None,
    train: bool = False,
    limit: int | None = None,
) -> PipelineResult:
    """Build recipe RECIPE (a name or YAML path) into ARTIFACTS/mixtures/NAME, card included;
    then publish it to PUBLISH_REPO and train on it when asked. LIMIT caps every source (a
    quick small build, named NAME-limitLIMIT, as `build --limit`).
    """
    loaded, recipe_yaml = load_for_run(recipe, limit)
    ctx = StageContext(mirror=resolve_mirror(mirror), seed=loaded.seed, show_progress=True)
    stages.check_inputs(loaded, ctx)
    if train and "train" in type(loaded).model_fields and getattr(loaded, "train", None) is None:
        raise InstructmixError(
            f"recipe {loaded.name!r} has no train: section, so it cannot be trained on; add one "
            "(see docs/training.md) or leave out --train"
        )
    artifacts_root = Path(artifacts).resolve()
    cache_root = Path(cache_dir).resolve()

    generated = generate_all(loaded, ctx, cache_root, cache)
    identical = drop_identical_task([g.kept for g in generated])
    table, filtered = identical.kept, []
    for config in loaded.filters:
        filtered.append(run_filter(table, config, ctx, shard_rows))
        table = filtered[-1].kept
    sampled, sample_reports = sample_task(table, loaded)
    result = stages.assemble(
        loaded, ctx, [*generated, identical, *filtered], sampled, sample_reports
    )
    folder = write_mixture_task(
        result, loaded, artifacts_root / "mixtures" / loaded.name, recipe_yaml
    )
    keys = artifacts_task(loaded.name, result, folder)
    steps: dict[str, str] = {}
    if publish_repo:
        steps["publish"] = publish_step(loaded.name, publish_repo, artifacts_root)
    if train:
        steps["train"] = train_step(recipe, artifacts_root, cache_root)
    for step, outcome in steps.items():
        get_run_logger().info("%s: %s", step, outcome)
    return PipelineResult(folder, result, keys, steps)
