"""The one Prefect flow that builds a mixture (then publishes it and trains on it, when asked).

The flow holds no build logic: a Prefect task runs the recipe's stages over Parquet shards
(`mixtures.sharded`) on a local process pool or a Ray cluster, then the one writer
(`mixtures.build.write_mixture`) writes the folder. Sources come from a Prefect task cached by
spec, input-file sha256 and code, and retried when they read from the Hub; an LLM judge holds
its share of the `llm` concurrency limit while it scores; each stage logs one line with its
counters.

    >>> build_flow("demo")  # doctest: +SKIP
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from data_cards.card import write_card
from filters.score import llm_slots
from flows.artifacts import publish_artifacts
from flows.caching import SOURCE_CACHE, results_dir
from flows.concurrency import llm_limit, llm_slot
from flows.settings import resolve_mirror
from instances import InstructmixError, Report, StageResult
from instances.context import StageContext
from instances.lifecycle import threads_stop_on_sigterm
from mixtures import build as stages
from mixtures.folder import DEFAULT_ROOT, MixtureFolder
from mixtures.recipe import Recipe, SourceSpec
from mixtures.scale import recipe_for_run
from mixtures.sharded import DEFAULT_SHARD_ROWS

RETRIES = 2
RETRY_DELAY_SECONDS = 10


@dataclass
class BuildRun:
    """What a flow run made: the mixture folder, the build, artifact keys, further steps."""

    folder: MixtureFolder
    build: stages.BuildResult
    artifacts: dict[str, str]
    steps: dict[str, str] = field(default_factory=dict)


def log_report(report: Report) -> None:
    """Log one stage's counters: the one line per stage the run shows."""
    get_run_logger().info(
        "%s: %d in, %d out, dropped %s (%.2fs)",
        report.stage,
        report.rows_in,
        report.rows_out,
        dict(report.top_reasons()) or "nothing",
        report.seconds,
    )


@task(
    name="generate-source",
    task_run_name="generate-{spec.name}",
    cache_policy=SOURCE_CACHE,
    persist_result=True,
)
def generate_source_task(spec: SourceSpec, ctx: StageContext) -> StageResult:
    """Run one recipe source's generator (cached by spec, input files and code)."""
    return stages.generate_source(spec, ctx)


@task(name="stage", task_run_name="{stage}", cache_policy=NO_CACHE)
def stage_task(stage: str, function: Callable[..., Any], args: tuple) -> Any:
    """Run one stage function of the build sequence."""
    return function(*args)


def source_task(result_cache: Path | None, ctx: StageContext) -> Any:
    """The generate-source task: cached in `result_cache` (None: not cached), retried when
    it reads from the Hub."""
    options: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}
    if result_cache is not None:
        options = {"result_storage": results_dir(result_cache)}
    if ctx.mirror is None:  # sources are read from the Hub: network calls retry
        options.update(retries=RETRIES, retry_delay_seconds=RETRY_DELAY_SECONDS)
    return generate_source_task.with_options(**options)


def hold_llm_slots(config: Any) -> AbstractContextManager:
    """While filter `config` runs: an LLM judge holds its share of the `llm` concurrency
    limit's slots (at most the whole limit); any other filter holds nothing."""
    slots = llm_slots(config)
    return llm_slot(occupy=min(slots, llm_limit() or slots)) if slots else nullcontext()


def warn_shortfalls(funnel: list[Report]) -> None:
    """Warn about each source that got fewer rows than the recipe asked for."""
    sample = next((report for report in funnel if report.stage == "sample"), None)
    for name, counts in (sample.extras.get("sources", {}) if sample else {}).items():
        if counts["shortfall"]:
            get_run_logger().warning(
                "source %s: %d rows requested, only %d available after dedup, filters and caps",
                name,
                counts["requested"],
                counts["selected"],
            )


@task(name="publish-artifacts", cache_policy=NO_CACHE)
def artifacts_task(name: str, result: stages.BuildResult, folder: MixtureFolder) -> dict[str, str]:
    """Publish the funnel and composition tables and the card to the Prefect UI."""
    return publish_artifacts(name, result.funnel, result.splits, folder.card_path)


def further_steps(
    name: str, folder: MixtureFolder, publish_repo: str | None, train: bool, model_cache: str | None
) -> dict[str, str]:
    """Publish the mixture and train on it (subflows), as asked; one outcome line each."""
    steps: dict[str, str] = {}
    if publish_repo:
        from flows.publish import publish

        publish(name=folder.name, repo=publish_repo, output_dir=folder.path.parent)
        steps["publish"] = f"published to {publish_repo}"
    if train:
        from flows.train import train as train_flow

        cache = Path(model_cache) if model_cache else None
        result = train_flow(name, output_dir=folder.path.parent, model_cache=cache)
        steps["train"] = f"trained: {result.output_dir}"
    for step, outcome in steps.items():
        get_run_logger().info("%s: %s", step, outcome)
    return steps


@task(name="sharded-stages", cache_policy=NO_CACHE)
def sharded_stages_task(
    recipe: Recipe,
    ctx: StageContext,
    work_dir: Path,
    executor: str,
    ray_address: str | None,
    result_cache: Path | None = None,
    shard_rows: int = DEFAULT_SHARD_ROWS,
) -> stages.BuildResult:
    """Generate, filter and sample `recipe` shard by shard in `work_dir` (`mixtures.sharded`),
    on a local process pool or a Ray cluster: bounded memory, the same bytes as the in-memory
    `mixtures.build`. Sources come from the cached generate-source task."""
    from mixtures.executors import make_executor
    from mixtures.sharded import build_result, run_recipe

    generate = source_task(result_cache, ctx)
    with make_executor(executor, ray_address=ray_address) as runner:
        get_run_logger().info("sharded stages on %s in %s", runner.name, work_dir)
        log = get_run_logger().info
        stages_run = run_recipe(
            recipe,
            ctx,
            work_dir,
            runner,
            shard_rows=shard_rows,
            generate=generate,
            log=log,
            hold=hold_llm_slots,
        )
        result = build_result(recipe, ctx, stages_run)
    for report in result.funnel:
        log_report(report)
    warn_shortfalls(result.funnel)
    return result


def build_sharded(
    recipe: Recipe,
    ctx: StageContext,
    folder: MixtureFolder,
    recipe_yaml: str,
    executor: str,
    ray_address: str | None,
    result_cache: Path | None = None,
    shard_rows: int = DEFAULT_SHARD_ROWS,
) -> stages.BuildResult:
    """The build over shards: the stages in a work folder beside the mixture (a rerun after a
    crash reuses its finished shards), then the one writer."""
    from mixtures.sharded import work_dir_for

    work_dir = work_dir_for(recipe, ctx, folder.path.parent)
    try:
        result = sharded_stages_task(
            recipe, ctx, work_dir, executor, ray_address, result_cache, shard_rows
        )
        stage_task(
            "write", stages.write_mixture, (folder.path, result, recipe, recipe_yaml, write_card)
        )
    except KeyboardInterrupt:  # interrupted (or killed): the finished shards stay for a rerun
        raise
    except BaseException:  # failed: nothing is left behind
        shutil.rmtree(work_dir, ignore_errors=True)
        raise
    shutil.rmtree(work_dir, ignore_errors=True)
    return result


@flow(name="build-mixture")
def build_flow(
    recipe: str,
    mirror: str | None = None,
    output_dir: str = str(DEFAULT_ROOT),
    result_cache: str | None = ".cache",
    shard_rows: int = DEFAULT_SHARD_ROWS,
    limit: int | None = None,
    publish_repo: str | None = None,
    train: bool = False,
    model_cache: str | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    recipe_yaml: str | None = None,
) -> BuildRun:
    """Build recipe RECIPE (a name or YAML path) into OUTPUT_DIR/NAME, card included; then
    publish it to PUBLISH_REPO and train on it when asked.

    RESULT_CACHE: the Prefect result store of generated sources (None: no caching). LIMIT caps
    every source (a quick small build, named NAME-limitLIMIT). MODEL_CACHE: converted base
    models for training. EXECUTOR: `local` (the default) or `ray`: the stages over Parquet
    shards of SHARD_ROWS rows on a process pool or a Ray cluster at RAY_ADDRESS, in bounded
    memory; the output is byte-identical whatever the executor and shard size.
    RECIPE_YAML: the recipe's text as the command already read it (LIMIT applied), so that
    the run builds what was validated and the file is read once.
    """
    with threads_stop_on_sigterm():  # a SIGTERM stops the rendering task threads too
        loaded, recipe_yaml = recipe_for_run(recipe, limit, recipe_yaml)
        ctx = StageContext(mirror=resolve_mirror(mirror), seed=loaded.seed, show_progress=True)
        stages.check_inputs(loaded, ctx)
        if train and loaded.train is None:
            raise InstructmixError(
                f"recipe {loaded.name!r} has no train: section, so it cannot be trained on; "
                "add one (see docs/training.md) or leave out --train"
            )
        folder = MixtureFolder(Path(output_dir).resolve() / loaded.name)
        cache = Path(result_cache).resolve() if result_cache else None
        result = build_sharded(
            loaded, ctx, folder, recipe_yaml, executor, ray_address, cache, shard_rows
        )
        keys = artifacts_task(loaded.name, result, folder)
        steps = further_steps(recipe, folder, publish_repo, train, model_cache)
        return BuildRun(folder, result, keys, steps)
