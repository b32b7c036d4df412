"""`instructmix build NAME [--check] [--limit N]`: build a recipe into artifacts/mixtures/NAME."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import typer
import yaml

from flows.quiet import quiet_user_errors
from flows.settings import resolve_mirror
from flows.summary import print_summary
from instances.context import StageContext
from mixtures.build import check_inputs, recipe_inputs
from mixtures.manifest import (
    ManifestMismatch,
    check_message,
    input_hashes,
    precheck,
)
from mixtures.recipe import load_recipe, recipe_path
from mixtures.scale import scale_recipe
from mixtures.verify import verify_mixture

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
        limit: int | None = typer.Option(
            None,
            min=1,
            help="cap every source at LIMIT rows (a quick small build, named NAME-limitLIMIT)",
        ),
    ) -> None:
        """Build recipe NAME into OUT/NAME: Parquet splits, card, funnel, rejected rows, lock."""
        started = time.perf_counter()
        recipe = load_recipe(name)  # validated before any work
        recipe_yaml = recipe_path(name).read_text(encoding="utf-8")
        if limit is not None:
            recipe = scale_recipe(recipe, limit)
            recipe_yaml = yaml.safe_dump(
                recipe.model_dump(mode="json", exclude_defaults=True), sort_keys=False
            )
        run_ctx = StageContext(mirror=resolve_mirror(mirror), seed=recipe.seed, show_progress=True)
        check_inputs(recipe, run_ctx)
        locked_path = out / recipe.name / "manifest.json"
        if check:  # a changed recipe or input file fails before the (long) rebuild
            if not locked_path.is_file():
                raise ManifestMismatch(f"{locked_path}: no manifest to check against; build first")
            inputs = input_hashes(recipe_inputs(recipe, run_ctx), run_ctx.mirror)
            early = precheck(json.loads(locked_path.read_text()), recipe, inputs)
            if early:
                raise ManifestMismatch(f"{recipe.name!r} does not match {locked_path}: {early}")
            verify_mixture(locked_path.parent)  # the shipped bytes: fast, names the file
        # Prefect is slow to import: only once the recipe and its inputs are known to be good.
        from flows.build import build_mixture
        from flows.guard import children_die_with_us

        quiet_user_errors(ctx)
        children_die_with_us()

        if check:
            out.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(prefix=".check-", dir=out) as scratch:
                result = build_mixture(recipe, recipe_yaml, run_ctx, Path(scratch))
                rebuilt = json.loads((Path(scratch) / recipe.name / "manifest.json").read_text())
            message = check_message(recipe.name, json.loads(locked_path.read_text()), rebuilt)
            if message:
                raise ManifestMismatch(message)
            print_summary(result.funnel, f"{recipe.name}: check", time.perf_counter() - started)
            typer.echo(f"check passed: rebuild of {recipe.name!r} matches {locked_path}")
            return
        result = build_mixture(recipe, recipe_yaml, run_ctx, out)
        splits = ", ".join(f"{k} {v.num_rows:,}" for k, v in result.splits.items())
        print_summary(result.funnel, f"{recipe.name}: {splits}", time.perf_counter() - started)
        typer.echo(f"built {out / recipe.name}")
