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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from data_cards.card import write_card
from filters.score import llm_slots
from flows.artifacts import publish_artifacts
from flows.caching import SOURCE_CACHE, results_dir
from flows.concurrency import hold_llm_slots
from flows.settings import resolve_mirror
from instances.context import StageContext
from instances.lifecycle import threads_stop_on_sigterm
from mixtures import build as stages
from mixtures.executors import make_executor
from mixtures.folder import DEFAULT_ROOT, MixtureFolder
from mixtures.recipe import Recipe
from mixtures.sampling import shortfalls
from mixtures.scale import recipe_for_run
from mixtures.sharded import DEFAULT_SHARD_ROWS, build_result, run_recipe, work_folder

RETRIES = 2
RETRY_DELAY_SECONDS = 10


@dataclass
class BuildRun:
    """What a flow run made: the mixture folder, the build, the further steps' outcomes."""

    folder: MixtureFolder
    build: stages.BuildResult
    steps: dict[str, str] = field(default_factory=dict)


generate_source_task = task(
    stages.generate_source,
    name="generate-source",
    task_run_name="generate-{spec.name}",
    cache_policy=SOURCE_CACHE,
    persist_result=True,
)
"""One recipe source's generator as a task (cached by spec, input files and code)."""
write_task = task(stages.write_mixture, name="write", cache_policy=NO_CACHE)
"""The one writer as a task: the mixture folder, its card and seal."""


def source_task(result_cache: Path | None, ctx: StageContext) -> Any:
    """The generate-source task: cached in `result_cache` (None: not cached), retried when
    it reads from the Hub."""
    options: dict[str, Any] = {"cache_policy": NO_CACHE, "persist_result": False}
    if result_cache is not None:
        options = {"result_storage": results_dir(result_cache)}
    if ctx.mirror is None:  # sources are read from the Hub: network calls retry
        options.update(retries=RETRIES, retry_delay_seconds=RETRY_DELAY_SECONDS)
    return generate_source_task.with_options(**options)


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
    log = get_run_logger().info
    with make_executor(executor, ray_address=ray_address) as runner:
        log(f"sharded stages on {runner.name} in {work_dir}")
        run = run_recipe(
            recipe,
            ctx,
            work_dir,
            runner,
            shard_rows=shard_rows,
            generate=source_task(result_cache, ctx),
            log=log,
            hold=lambda config: hold_llm_slots(llm_slots(config)),  # an LLM judge's share
        )
        result = build_result(recipe, ctx, run)
    for report in result.funnel:  # one line per stage
        log(report.summary())
    for line in shortfalls(result.funnel):
        get_run_logger().warning(line)
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
        if train:
            loaded.require_train()
        folder = MixtureFolder(Path(output_dir).resolve() / loaded.name)
        cache = Path(result_cache).resolve() if result_cache else None
        # the stages in a work folder beside the mixture (kept for a rerun when interrupted)
        with work_folder(loaded, ctx, folder.path.parent) as work_dir:
            result = sharded_stages_task(
                loaded, ctx, work_dir, executor, ray_address, cache, shard_rows
            )
            write_task(folder.path, result, loaded, recipe_yaml, write_card)
        artifacts_task(loaded.name, result, folder)
        steps = further_steps(recipe, folder, publish_repo, train, model_cache)
        return BuildRun(folder, result, steps)
