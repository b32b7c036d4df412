"""`instructmix build NAME`: the build flow, with --check, --limit, --publish-repo, --train.

The command parses options and checks the recipe before Prefect starts; the flow
(`flows.build`) builds, and `mixtures.verify.check_rebuild` checks a rebuild against the lock.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from data_cards.run_tables import print_summary
from flows.options import (
    DEFAULT_OUTPUT_DIR,
    Mirror,
    ModelCache,
    OutputDir,
    RecipeName,
    ResultCache,
)
from flows.settings import resolve_mirror
from instances.context import StageContext
from mixtures.build import check_inputs
from mixtures.folder import MANIFEST
from mixtures.scale import recipe_for_run
from mixtures.sharded import DEFAULT_SHARD_ROWS
from mixtures.verify import check_rebuild

if TYPE_CHECKING:
    from flows.build import BuildRun


def build(
    ctx: typer.Context,
    name: RecipeName,
    mirror: Mirror = None,
    output_dir: OutputDir = DEFAULT_OUTPUT_DIR,
    check: Annotated[
        bool, typer.Option("--check", help="rebuild and verify against the built manifest.json")
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="cap every source at LIMIT rows (a quick build, NAME-limitLIMIT)"),
    ] = None,
    result_cache: ResultCache = Path(".cache"),
    cache: Annotated[
        bool, typer.Option(help="reuse sources whose spec, input files and code are unchanged")
    ] = True,
    shard_rows: Annotated[
        int, typer.Option(min=1, help="rows per Parquet shard (the output is the same)")
    ] = DEFAULT_SHARD_ROWS,
    executor: Annotated[
        Literal["local", "ray"],
        typer.Option(
            help="'local': the stages over Parquet shards on a process pool, in bounded "
            "memory; 'ray': the same on a Ray cluster (--ray-address)"
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            envvar="RAY_ADDRESS",
            help="Ray cluster for --executor ray (default $RAY_ADDRESS, else a local cluster); "
            "giving one selects --executor ray",
        ),
    ] = None,
    publish_repo: Annotated[
        str | None, typer.Option(help="then push the mixture to this Hub dataset repo")
    ] = None,
    train: Annotated[bool, typer.Option("--train", help="then train on the mixture")] = False,
    model_cache: ModelCache = None,
) -> None:
    """Build recipe NAME into OUTPUT_DIR/NAME: Parquet splits, card, funnel, rejected rows, lock
    (one Prefect flow run; then publish and train when asked)."""
    started = time.perf_counter()
    if ray_address:
        executor = "ray"  # a Ray address (flag or $RAY_ADDRESS) means: run there
    recipe, recipe_yaml = recipe_for_run(name, limit)  # read and validated once, before any work
    run_ctx = StageContext(mirror=resolve_mirror(mirror), seed=recipe.seed)
    check_inputs(recipe, run_ctx)
    run = partial(
        run_flow,
        ctx,
        recipe=name,
        mirror=mirror,
        shard_rows=shard_rows,
        limit=limit,
        executor=executor,
        ray_address=ray_address,
        recipe_yaml=recipe_yaml,
    )
    if check:  # the rebuild has no result cache: a check regenerates every source
        folder = output_dir / recipe.name
        result = check_rebuild(
            folder, recipe, run_ctx, lambda scratch: run(output_dir=str(scratch), result_cache=None)
        )
        print_summary(result.build.funnel, f"{recipe.name}: check", time.perf_counter() - started)
        typer.echo(f"check passed: rebuild of {recipe.name!r} matches {folder / MANIFEST}")
        return
    if train:
        recipe.require_train()  # before the Prefect server starts
    result = run(
        output_dir=str(output_dir),
        result_cache=str(result_cache) if cache else None,
        publish_repo=publish_repo,
        train=train,
        model_cache=str(model_cache) if model_cache else None,
    )
    splits = ", ".join(f"{k} {v.num_rows:,}" for k, v in result.build.splits.items())
    title = f"{recipe.name}: {splits} (executor {executor})"
    print_summary(result.build.funnel, title, time.perf_counter() - started)
    for step, outcome in result.steps.items():
        typer.echo(f"{step}: {outcome}")
    typer.echo(f"built {output_dir / recipe.name}")


def run_flow(ctx: typer.Context, **options: Any) -> BuildRun:
    """Run the build flow with `options` against the local Prefect server (or PREFECT_API_URL)."""
    from flows.build import build_flow  # Prefect is slow to import: only once input is good
    from flows.server import command_session

    with command_session(ctx):
        return build_flow(**options)
