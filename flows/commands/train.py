"""`instructmix train NAME [--preflight]`: fine-tune on a built mixture (TRL SFT)."""

from __future__ import annotations

from pathlib import Path

import typer

from flows.quiet import quiet_user_errors


def register(app: typer.Typer) -> None:
    """Add the train command to `app`."""

    @app.command()
    def train(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="recipe name or path to a recipe YAML"),
        preflight: bool = typer.Option(
            False, "--preflight", help="only run the pre-flight check and print it"
        ),
        artifacts: Path = typer.Option(Path("artifacts"), help="folder holding mixtures/NAME"),
        cache_dir: Path | None = typer.Option(
            None,
            help="converted base models (default: $INSTRUCTMIX_CACHE/models or "
            "~/.cache/instructmix/models)",
        ),
        output: Path | None = typer.Option(
            None, help="model folder (default: train.output_dir or artifacts/models/NAME)"
        ),
    ) -> None:
        """Pre-flight check, then SFT on the built mixture NAME (its recipe's train: section)."""
        from flows.train import default_cache_dir, train_plan
        from flows.train import train as train_flow

        quiet_user_errors(ctx)
        plan = train_plan(name, artifacts, output)
        if preflight:
            from train.run import prepare

            cache = cache_dir or default_cache_dir()
            prepared = prepare(plan.mixture_dir, plan.spec, cache, show_progress=True)
            typer.echo(f"pre-flight of {plan.name} ({plan.mixture_dir}):")
            typer.echo(prepared.report.render())
            if prepared.report.blocking:
                raise typer.Exit(1)
            return
        result = train_flow(name, artifacts=artifacts, cache_dir=cache_dir, output_dir=output)
        typer.echo(
            f"trained {plan.name}: {result.steps} steps in {result.seconds:.1f} s, "
            f"loss {result.first_loss:.3f} -> {result.last_loss:.3f}"
            + (f", validation loss {result.eval_loss:.3f}" if result.eval_loss is not None else "")
            + f"; model, metrics.json and README.md in {result.output_dir}"
        )
