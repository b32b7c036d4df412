"""`instructmix train NAME [--preflight]`: fine-tune on a built mixture (TRL SFT)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flows.options import DEFAULT_OUTPUT_DIR, ModelCache, OutputDir, RecipeName


def train(
    ctx: typer.Context,
    name: RecipeName,
    preflight: Annotated[
        bool, typer.Option("--preflight", help="only run the pre-flight check and print it")
    ] = False,
    output_dir: OutputDir = DEFAULT_OUTPUT_DIR,
    model_cache: ModelCache = None,
    model_dir: Annotated[
        Path | None,
        typer.Option(
            help="where the model goes (default: train.output_dir or artifacts/models/NAME)"
        ),
    ] = None,
) -> None:
    """Pre-flight check, then SFT on the built mixture NAME (its recipe's train: section)."""
    if preflight:
        run_preflight(name, output_dir, model_cache)
        return
    from flows.server import command_session
    from flows.train import train as train_flow

    with command_session(ctx):
        result = train_flow(
            name, output_dir=output_dir, model_cache=model_cache, model_dir=model_dir
        )
    typer.echo(
        f"trained {name}: {result.summary()}; "
        f"model, metrics.json and README.md in {result.output_dir}"
    )


def run_preflight(name: str, output_dir: Path, model_cache: Path | None) -> None:
    """Print the pre-flight report of training on mixture NAME; exit 1 when it blocks."""
    from flows.settings import model_cache as default_cache
    from train.plan import train_plan

    plan = train_plan(name, output_dir)
    prepared = plan.prepare(default_cache(model_cache))
    typer.echo(f"pre-flight of {plan.name} ({plan.mixture_dir}):")
    typer.echo(prepared.report.render())
    if prepared.report.blocking:
        raise typer.Exit(1)
