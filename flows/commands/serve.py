"""`instructmix serve` (scheduled runs) and `instructmix server status|stop` (the local API)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve(
    ctx: typer.Context,
    schedules: Annotated[
        Path | None, typer.Option(help="schedules file (default: flows/schedules.yaml)")
    ] = None,
    llm_limit: Annotated[
        int | None,
        typer.Option(min=1, help="LLM calls at once over all tasks (default: from the file)"),
    ] = None,
) -> None:
    """Register the deployments of the schedules file and run them when due (Ctrl-C stops).

    Runs go to the local Prefect server (its UI shows them) or to PREFECT_API_URL.
    """
    from flows.schedules import SCHEDULES_FILE, SchedulesError, build_deployments, load_schedules

    path = schedules or SCHEDULES_FILE
    config = load_schedules(path)
    deployments, skipped = build_deployments(config, str(path))
    for line in skipped:
        typer.secho(f"skipped {line}", err=True, fg=typer.colors.YELLOW)
    if not deployments:
        raise SchedulesError(f"{path}: no deployment to serve (all skipped)")
    from prefect import serve as prefect_serve

    from flows.concurrency import ensure_llm_limit
    from flows.server import command_session

    with command_session(ctx) as url:
        typer.echo(f"serving {len(deployments)} deployments; UI at {url.removesuffix('/api')}")
        ensure_llm_limit(llm_limit or config.llm_limit)
        prefect_serve(*deployments)


server_app = typer.Typer(help="The local Prefect server the commands share.", no_args_is_help=True)


@server_app.command("status")
def server_status() -> None:
    """Print the local server's API URL, or that none runs (under PREFECT_HOME)."""
    from prefect.settings import PREFECT_HOME

    from flows.server import healthy, recorded_url

    url = recorded_url(Path(PREFECT_HOME.value()))
    if url is None:
        typer.echo("no local Prefect server running")
    else:
        typer.echo(f"{url} ({'healthy' if healthy(url) else 'starting'})")


@server_app.command("stop")
def server_stop() -> None:
    """Stop the local Prefect server started by an earlier command."""
    from prefect.settings import PREFECT_HOME

    from flows.server import stop_server

    stopped = stop_server(Path(PREFECT_HOME.value()))
    typer.echo("stopped the local Prefect server" if stopped else "no local Prefect server running")
