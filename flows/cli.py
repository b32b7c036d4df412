"""The `instructmix` command line: one Typer app over the command modules in flows/commands/.

Errors the user can fix (`InstructmixError`) and OS errors end with one clear line and exit
code 1 (an interrupt: 128 + the signal); `--debug` shows the traceback, `--verbose` Prefect's
task-run lines. Flows run against the local Prefect server (flows/server.py), whose state lives
in PREFECT_HOME (default: ./.prefect).
"""

from __future__ import annotations

import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Annotated

import typer

from flows.commands import (
    build,
    cards,
    inspect,
    natural_instructions,
    recipes,
    self_instruct,
    serve,
    sources,
    train,
    verify,
)
from flows.settings import recipe_folders
from instances import InstructmixError
from instances.errors import EDGE_ERRORS, error_line, exit_status_for
from instances.lifecycle import Interrupted, hard_exit, signal_guard
from mixtures.recipe_search import set_recipe_folders

app = typer.Typer(
    name="instructmix",
    help="Build instruction-tuning mixtures: sources, filters, mixtures, cards, training.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"instructmix {metadata.version('instructmix')}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[
        bool, typer.Option("--debug", help="show tracebacks and Prefect's error logs")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="show Prefect's task-run log lines")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """Build instruction-tuning mixtures reproducibly (run a command with -h for more)."""
    ctx.obj = {"debug": debug, "verbose": verbose}
    set_recipe_folders(recipe_folders())  # INSTRUCTMIX_RECIPES, read here at the edge


app.command()(build.build)
app.command()(cards.card)
app.command()(cards.push)
app.command()(inspect.inspect)
app.command()(train.train)
app.add_typer(self_instruct.si_app, name="self-instruct")
app.command()(sources.sources)
app.command()(sources.preview)
app.command()(recipes.recipes)
app.command()(verify.verify)
app.command()(serve.serve)
app.add_typer(serve.server_app, name="server")
app.add_typer(self_instruct.llm_app, name="llm")
app.add_typer(natural_instructions.ni_app, name="ni")


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user errors print one line (or a traceback with --debug) and exit 1."""
    args = list(sys.argv[1:] if argv is None else argv)
    flags = [a for a in args if a in ("--debug", "--verbose", "-v")]
    if flags:  # accepted anywhere on the line, handled by the root callback
        args = [*flags, *(a for a in args if a not in flags)]
    # Prefect's state (the local server's database) under the project unless set
    os.environ.setdefault("PREFECT_HOME", str(Path(".prefect").resolve()))
    try:
        with signal_guard():  # SIGTERM/SIGINT always stop a command, cleaning up
            app(args=args, standalone_mode=True)
    except (InstructmixError, Interrupted, KeyboardInterrupt, *EDGE_ERRORS) as error:
        if "--debug" in flags:
            raise
        typer.secho(f"error: {error_line(error)}", err=True, fg=typer.colors.RED)
        if isinstance(error, Interrupted | KeyboardInterrupt):
            hard_exit(exit_status_for(error))  # at-exit hooks may wait on stopped servers
        raise SystemExit(exit_status_for(error)) from None


if __name__ == "__main__":
    main()
