"""`instructmix pipeline NAME` (the end-to-end flow) and `instructmix serve` (scheduled runs)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from flows.quiet import quiet_user_errors
from flows.settings import resolve_mirror
from flows.summary import print_summary

MIRROR_HELP = "local mirror of the public data (default: $INSTRUCTMIX_MIRROR; none: the Hub)"
DASK_ADDRESS_HELP = "run tasks on the Dask scheduler at this address (tcp://host:8786)"
DASK_WORKERS_HELP = "run tasks on a local Dask cluster of N worker processes"


STARTUP_TIMEOUT_SECONDS = 120


@contextmanager
def patient_startup() -> Iterator[None]:
    """Give a temporary Prefect server 120 s to start (not 20) unless the user set a value:
    on a busy machine its first start (creating the database) takes longer than 20 s."""
    from prefect.settings import (
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    with temporary_settings(
        set_defaults={PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: STARTUP_TIMEOUT_SECONDS}
    ):
        yield


def register(app: typer.Typer) -> None:
    """Add the pipeline and serve commands to `app`."""

    @app.command()
    def pipeline(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="recipe name (mixtures/recipes/NAME.yaml) or a path"),
        mirror: str | None = typer.Option(None, help=MIRROR_HELP),
        artifacts: Path = typer.Option(Path("artifacts"), help="mixtures go to ARTIFACTS/mixtures"),
        cache_dir: Path = typer.Option(Path(".cache"), help="task result cache folder"),
        cache: bool = typer.Option(True, help="reuse sources whose spec, inputs and code match"),
        shard_rows: int = typer.Option(50_000, min=1, help="rows per shard of row-wise filters"),
        dask_address: str | None = typer.Option(None, help=DASK_ADDRESS_HELP),
        dask_workers: int | None = typer.Option(None, min=1, help=DASK_WORKERS_HELP),
        publish_repo: str | None = typer.Option(None, help="push the mixture to this Hub repo"),
        train: bool = typer.Option(False, "--train", help="train on the mixture afterwards"),
        limit: int | None = typer.Option(
            None, min=1, help="cap every source at LIMIT rows (a quick build, NAME-limitLIMIT)"
        ),
    ) -> None:
        """Sources, filters, mixture, card (+ publish, + train): one Prefect flow run."""
        from flows.runners import describe, task_runner
        from instances.context import StageContext
        from mixtures.build import check_inputs
        from mixtures.recipe import load_recipe

        started = time.perf_counter()
        recipe = load_recipe(name)  # validated before Prefect starts
        check_inputs(recipe, StageContext(mirror=resolve_mirror(mirror), seed=recipe.seed))
        runner = task_runner(dask_address, dask_workers)
        from flows.pipeline import pipeline as pipeline_flow

        quiet_user_errors(ctx)
        with patient_startup():
            result = pipeline_flow.with_options(task_runner=runner)(
                name,
                mirror=mirror,
                artifacts=str(artifacts),
                cache_dir=str(cache_dir),
                cache=cache,
                shard_rows=shard_rows,
                publish_repo=publish_repo,
                train=train,
                limit=limit,
            )
        splits = ", ".join(f"{k} {v.num_rows:,}" for k, v in result.build.splits.items())
        title = f"{result.folder.name}: {splits} ({describe(dask_address, dask_workers)})"
        print_summary(result.build.funnel, title, time.perf_counter() - started)
        for step, outcome in result.steps.items():
            typer.echo(f"{step}: {outcome}")
        typer.echo(f"built {result.folder}; artifacts: {', '.join(result.artifacts.values())}")

    @app.command()
    def serve(
        ctx: typer.Context,
        schedules: Path | None = typer.Option(
            None, help="schedules file (default: flows/schedules.yaml)"
        ),
        llm_limit: int | None = typer.Option(
            None, min=1, help="LLM calls at once over all tasks (default: from the file)"
        ),
        dask_address: str | None = typer.Option(None, help=DASK_ADDRESS_HELP),
        dask_workers: int | None = typer.Option(None, min=1, help=DASK_WORKERS_HELP),
    ) -> None:
        """Register the deployments of the schedules file and run them when due (Ctrl-C stops).

        Point PREFECT_API_URL at a server (`prefect server start --host 127.0.0.1`) to watch
        the runs in its UI.
        """
        from flows.runners import task_runner
        from flows.schedules import (
            SCHEDULES_FILE,
            SchedulesError,
            build_deployments,
            load_schedules,
        )

        path = schedules or SCHEDULES_FILE
        config = load_schedules(path)
        runner = task_runner(dask_address, dask_workers) if dask_address or dask_workers else None
        deployments, skipped = build_deployments(config, str(path), task_runner=runner)
        for line in skipped:
            typer.secho(f"skipped {line}", err=True, fg=typer.colors.YELLOW)
        if not deployments:
            raise SchedulesError(f"{path}: no deployment to serve (all skipped)")
        from prefect import serve as prefect_serve
        from prefect.settings import PREFECT_API_URL

        from flows.concurrency import ensure_llm_limit

        quiet_user_errors(ctx)
        if not PREFECT_API_URL.value():
            typer.secho(
                "note: PREFECT_API_URL is not set, so runs go to a temporary server that ends "
                "with this process; see docs/orchestration.md to watch them in the UI",
                err=True,
                fg=typer.colors.YELLOW,
            )
        with patient_startup():
            ensure_llm_limit(llm_limit or config.llm_limit)
            prefect_serve(*deployments)
