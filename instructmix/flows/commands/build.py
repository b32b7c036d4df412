"""`instructmix build NAME [--check]`: build a named recipe into artifacts/mixtures/NAME."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import typer

from instructmix.flows.quiet import quiet_user_errors
from instructmix.flows.settings import resolve_mirror
from instructmix.flows.summary import print_summary
from instructmix.instances.context import StageContext
from instructmix.mixtures.build import check_inputs
from instructmix.mixtures.manifest import ManifestMismatch, first_difference
from instructmix.mixtures.recipe import load_recipe, recipe_path

MIRROR_HELP = "local mirror of the public data (default: $INSTRUCTMIX_MIRROR; none: the Hub)"


def register(app: typer.Typer) -> None:
    """Add the build command to `app`."""

    @app.command()
    def build(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="recipe name (mixtures/recipes/NAME.yaml) or a path"),
        mirror: str | None = typer.Option(None, help=MIRROR_HELP),
        out: Path = typer.Option(Path("artifacts/mixtures"), help="folder of built mixtures"),
        check: bool = typer.Option(
            False, "--check", help="rebuild and verify against the built manifest.json"
        ),
    ) -> None:
        """Build recipe NAME into OUT/NAME: Parquet splits, card, funnel, rejected rows, lock."""
        started = time.perf_counter()
        recipe = load_recipe(name)  # validated before any work
        recipe_yaml = recipe_path(name).read_text(encoding="utf-8")
        run_ctx = StageContext(mirror=resolve_mirror(mirror), seed=recipe.seed, show_progress=True)
        check_inputs(recipe, run_ctx)
        # Prefect is slow to import: only once the recipe and its inputs are known to be good.
        from instructmix.flows.build import build_mixture

        quiet_user_errors(ctx)

        if check:
            locked_path = out / recipe.name / "manifest.json"
            if not locked_path.is_file():
                raise ManifestMismatch(f"{locked_path}: no manifest to check against; build first")
            with tempfile.TemporaryDirectory(prefix=".check-", dir=out) as scratch:
                result = build_mixture(recipe, recipe_yaml, run_ctx, Path(scratch))
                rebuilt = json.loads((Path(scratch) / recipe.name / "manifest.json").read_text())
            locked = json.loads(locked_path.read_text())
            difference = first_difference(locked, rebuilt)
            if difference:
                raise ManifestMismatch(
                    f"rebuild of {recipe.name!r} differs from the lock: {difference}"
                )
            print_summary(result.funnel, f"{recipe.name}: check", time.perf_counter() - started)
            typer.echo(f"check passed: rebuild of {recipe.name!r} matches {locked_path}")
            return
        result = build_mixture(recipe, recipe_yaml, run_ctx, out)
        splits = ", ".join(f"{k} {v.num_rows:,}" for k, v in result.splits.items())
        print_summary(result.funnel, f"{recipe.name}: {splits}", time.perf_counter() - started)
        typer.echo(f"built {out / recipe.name}")
