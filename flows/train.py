"""Prefect flow `train(name)`: pre-flight, then TRL SFT on the built mixture NAME.

The tasks are thin: one runs the pre-flight check (and publishes its report as a Markdown
artifact), one trains. Neither retries: training is not a network call.

    >>> train("demo")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.settings import cache_root
from instances import InstructmixError
from mixtures.recipe import load_recipe
from train.spec import TrainSpec

DEFAULT_ARTIFACTS = Path("artifacts")


def default_cache_dir() -> Path:
    """Converted base models: $INSTRUCTMIX_CACHE/models, else ~/.cache/instructmix/models."""
    return cache_root() / "models"


@dataclass(frozen=True)
class TrainPlan:
    """Where a named recipe's mixture is read from and its model written to, and how."""

    name: str
    spec: TrainSpec
    seed: int
    mixture_dir: Path
    output_dir: Path


def train_plan(
    name: str, artifacts: Path = DEFAULT_ARTIFACTS, output_dir: Path | None = None
) -> TrainPlan:
    """Resolve recipe NAME (a name or a YAML path) into a `TrainPlan`; errors say how to fix."""
    recipe = load_recipe(name)
    if recipe.train is None:
        raise InstructmixError(
            f"recipe {recipe.name!r} has no train: section; add one (see docs/training.md), "
            "e.g. `train: {base_model: tiny, max_steps: 40}`"
        )
    artifacts = Path(artifacts)
    mixture_dir = artifacts / "mixtures" / recipe.name
    if not (mixture_dir / "data").is_dir():
        raise InstructmixError(
            f"{mixture_dir}: mixture {recipe.name!r} is not built; run `instructmix build {name}`"
        )
    if output_dir is None:
        configured = recipe.train.output_dir
        output_dir = Path(configured) if configured else artifacts / "models" / recipe.name
    return TrainPlan(recipe.name, recipe.train, recipe.seed, mixture_dir, Path(output_dir))


@task(name="train-preflight", cache_policy=NO_CACHE)
def preflight_task(plan: TrainPlan, cache_dir: Path):
    """Load the mixture and tokenizer, run the pre-flight check and publish its report."""
    from train.run import prepare

    prepared = prepare(plan.mixture_dir, plan.spec, cache_dir, show_progress=True)
    text = prepared.report.render()
    get_run_logger().info("pre-flight of %s:\n%s", plan.name, text)
    create_markdown_artifact(
        key=f"train-preflight-{plan.name}".replace("_", "-"),
        markdown=f"# Pre-flight: {plan.name}\n\n```\n{text}\n```\n",
        description=f"pre-flight check before training on {plan.name}",
    )
    return prepared


@task(name="train-sft", cache_policy=NO_CACHE)
def sft_task(plan: TrainPlan, cache_dir: Path, prepared):
    """Run SFT (refuses on a blocking pre-flight issue) and publish the loss summary."""
    from train.run import train_mixture

    result = train_mixture(
        plan.mixture_dir,
        plan.spec,
        name=plan.name,
        output_dir=plan.output_dir,
        cache_dir=cache_dir,
        seed=plan.seed,
        prepared=prepared,
    )
    summary = (
        f"{result.steps} steps in {result.seconds:.1f} s; loss {result.first_loss:.3f} -> "
        f"{result.last_loss:.3f}; model in {result.output_dir}"
    )
    get_run_logger().info(summary)
    create_markdown_artifact(
        key=f"train-result-{plan.name}".replace("_", "-"),
        markdown=f"# Training: {plan.name}\n\n{summary}\n\nSample: {result.sample!r}\n",
        description=f"SFT on {plan.name}",
    )
    return result


@flow(name="train")
def train(
    name: str,
    artifacts: Path = DEFAULT_ARTIFACTS,
    cache_dir: Path | None = None,
    output_dir: Path | None = None,
):
    """Pre-flight and SFT on the built mixture of recipe NAME; returns the `TrainResult`.

    `cache_dir` holds converted base models (default: `default_cache_dir()`).
    """
    plan = train_plan(name, Path(artifacts), output_dir)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    prepared = preflight_task(plan, cache)
    return sft_task(plan, cache, prepared)
