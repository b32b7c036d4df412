"""`instructmix build NAME`: the build flow, with --check, --limit, --publish-repo, --train.

The command parses options; `run_build` and `check_build` hold the logic.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from flows.options import (
    DEFAULT_OUTPUT_DIR,
    DaskAddress,
    DaskWorkers,
    Mirror,
    ModelCache,
    OutputDir,
    RecipeName,
    ResultCache,
)
from flows.settings import resolve_mirror
from flows.summary import print_summary
from instances.context import StageContext
from mixtures.build import check_inputs, recipe_inputs
from mixtures.folder import MixtureFolder
from mixtures.manifest import ManifestMismatch, check_message, input_hashes, precheck
from mixtures.recipe import Recipe, load_recipe
from mixtures.scale import scale_recipe
from mixtures.verify import verify_mixture


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
    shard_rows: Annotated[int, typer.Option(min=1, help="rows per shard of row-wise filters")] = (
        50_000
    ),
    dask_address: DaskAddress = None,
    dask_workers: DaskWorkers = None,
    executor: Annotated[
        str,
        typer.Option(
            help="'memory': every stage over the whole table (Prefect tasks, cached sources); "
            "'local': the stages over Parquet shards on a process pool, in bounded memory; "
            "'ray': the same on a Ray cluster (--ray-address)"
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
    if executor not in ("memory", "local", "ray"):
        raise typer.BadParameter(f"--executor must be memory, local or ray, not {executor!r}")
    if ray_address:
        executor = "ray"  # a Ray address (flag or $RAY_ADDRESS) means: run there
    recipe = load_recipe(name)  # validated before any work
    if limit is not None:
        recipe = scale_recipe(recipe, limit)
    run_ctx = StageContext(mirror=resolve_mirror(mirror), seed=recipe.seed)
    check_inputs(recipe, run_ctx)
    options = {
        "recipe": name,
        "mirror": mirror,
        "result_cache": str(result_cache) if cache else None,
        "shard_rows": shard_rows,
        "limit": limit,
        "executor": executor,
        "ray_address": ray_address,
    }
    runner = (dask_address, dask_workers)
    if check:
        check_build(ctx, recipe, run_ctx, output_dir, options, runner, started)
        return
    options.update(publish_repo=publish_repo, train=train, output_dir=str(output_dir))
    options["model_cache"] = str(model_cache) if model_cache else None
    result = run_flow(ctx, options, runner)
    splits = ", ".join(f"{k} {v.num_rows:,}" for k, v in result.build.splits.items())
    from flows.runners import describe

    title = f"{recipe.name}: {splits} ({describe(*runner)})"
    print_summary(result.build.funnel, title, time.perf_counter() - started)
    for step, outcome in result.steps.items():
        typer.echo(f"{step}: {outcome}")
    typer.echo(f"built {output_dir / recipe.name}")


def run_flow(ctx: typer.Context, options: dict, runner: tuple[str | None, int | None]):
    """Run the build flow with `options` against the local Prefect server (or PREFECT_API_URL)."""
    from flows.runners import task_runner

    selected = task_runner(*runner)
    from flows.build import build_flow  # Prefect is slow to import: only once input is good
    from flows.guard import children_die_with_us
    from flows.quiet import quiet_prefect
    from flows.server import prefect_api

    quiet_prefect(ctx)
    children_die_with_us()
    with prefect_api():
        return build_flow.with_options(task_runner=selected)(**options)


def check_build(
    ctx: typer.Context,
    recipe: Recipe,
    run_ctx: StageContext,
    output_dir: Path,
    options: dict,
    runner: tuple[str | None, int | None],
    started: float,
) -> None:
    """Rebuild into a scratch folder and compare its manifest with the built one's lock.

    A changed recipe or input file fails before the (long) rebuild.
    """
    locked_path = MixtureFolder(output_dir / recipe.name).manifest_path
    if not locked_path.is_file():
        raise ManifestMismatch(f"{locked_path}: no manifest to check against; build first")
    locked = MixtureFolder(locked_path.parent).manifest()
    inputs = input_hashes(recipe_inputs(recipe, run_ctx), run_ctx.mirror)
    early = precheck(locked, recipe, inputs)
    if early:
        raise ManifestMismatch(f"{recipe.name!r} does not match {locked_path}: {early}")
    verify_mixture(locked_path.parent)  # the shipped bytes: fast, names the first that differs
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".check-", dir=output_dir) as scratch:
        # no result cache: a check regenerates every source
        result = run_flow(ctx, {**options, "output_dir": scratch, "result_cache": None}, runner)
        rebuilt = result.folder.manifest()
    message = check_message(recipe.name, locked, rebuilt)
    if message:
        raise ManifestMismatch(message)
    print_summary(result.build.funnel, f"{recipe.name}: check", time.perf_counter() - started)
    typer.echo(f"check passed: rebuild of {recipe.name!r} matches {locked_path}")
