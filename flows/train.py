"""Prefect flow `train(name)`: pre-flight, then TRL SFT on the built mixture NAME.

The tasks are thin: one runs the pre-flight check (and publishes its report as a Markdown
artifact), one trains. Neither retries: training is not a network call.

    >>> train("demo")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from slugify import slugify

from flows.settings import model_cache as default_cache
from mixtures.folder import DEFAULT_ROOT
from train.plan import TrainPlan, train_plan


@task(name="train-preflight", cache_policy=NO_CACHE)
def preflight_task(plan: TrainPlan, model_cache: Path):
    """Load the mixture and tokenizer, run the pre-flight check and publish its report."""
    prepared = plan.prepare(model_cache)
    text = prepared.report.render()
    get_run_logger().info("pre-flight of %s:\n%s", plan.name, text)
    create_markdown_artifact(
        key=slugify(f"train-preflight-{plan.name}"),
        markdown=f"# Pre-flight: {plan.name}\n\n```\n{text}\n```\n",
        description=f"pre-flight check before training on {plan.name}",
    )
    return prepared


@task(name="train-sft", cache_policy=NO_CACHE)
def sft_task(plan: TrainPlan, model_cache: Path, prepared):
    """Run SFT (refuses on a blocking pre-flight issue) and publish the loss summary."""
    result = plan.train(model_cache, prepared)
    summary = f"{result.summary()}; model in {result.output_dir}"
    get_run_logger().info(summary)
    create_markdown_artifact(
        key=slugify(f"train-result-{plan.name}"),
        markdown=f"# Training: {plan.name}\n\n{summary}\n\nSample: {result.sample!r}\n",
        description=f"SFT on {plan.name}",
    )
    return result


@flow(name="train")
def train(
    name: str,
    output_dir: Path = DEFAULT_ROOT,
    model_cache: Path | None = None,
    model_dir: Path | None = None,
):
    """Pre-flight and SFT on the built mixture of recipe NAME (under `output_dir`); returns
    the `TrainResult`. `model_cache` holds converted base models (default: see
    `flows.settings.model_cache`); the model goes to `model_dir` (see `train_plan`).
    """
    plan = train_plan(name, Path(output_dir), model_dir)
    cache = default_cache(model_cache)
    prepared = preflight_task(plan, cache)
    return sft_task(plan, cache, prepared)
