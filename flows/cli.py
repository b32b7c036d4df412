"""The `instructmix` command line: one Typer app; each area registers its commands.

Errors the user can fix (`InstructmixError`) and OS errors end with one clear line and exit
code 1 (an interrupt: 128 + the signal); `--debug` shows the traceback.
"""

from __future__ import annotations

import sys

import typer

from flows.commands import build as build_commands
from flows.commands import cards as card_commands
from flows.commands import inspect as inspect_commands
from flows.commands import natural_instructions as ni_commands
from flows.commands import pipeline as pipeline_commands
from flows.commands import self_instruct as self_instruct_commands
from flows.commands import sources as sources_commands
from flows.commands import train as train_commands
from flows.commands import verify as verify_commands
from flows.edge import EDGE_ERRORS, describe, exit_status_for
from flows.guard import hard_exit, signal_guard
from instances import InstructmixError
from instances.lifecycle import Interrupted

app = typer.Typer(
    name="instructmix",
    help="Build instruction-tuning mixtures: sources, filters, mixtures, cards, training.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="show tracebacks and Prefect's error logs"),
) -> None:
    """Build instruction-tuning mixtures reproducibly (run a command with --help for more)."""
    ctx.obj = {"debug": debug}


build_commands.register(app)
card_commands.register(app)
inspect_commands.register(app)
ni_commands.register(app)
self_instruct_commands.register(app)
sources_commands.register(app)
train_commands.register(app)
pipeline_commands.register(app)
verify_commands.register(app)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user errors print one line (or a traceback with --debug) and exit 1."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:  # accepted anywhere on the line, handled by the root callback
        args = ["--debug", *(a for a in args if a != "--debug")]
    try:
        with signal_guard():  # SIGTERM/SIGINT always stop a command, cleaning up
            app(args=args, standalone_mode=True)
    except (InstructmixError, Interrupted, KeyboardInterrupt, *EDGE_ERRORS) as error:
        if debug:
            raise
        typer.secho(f"error: {describe(error)}", err=True, fg=typer.colors.RED)
        if isinstance(error, Interrupted | KeyboardInterrupt):
            hard_exit(exit_status_for(error))  # at-exit hooks may wait on stopped servers
        raise SystemExit(exit_status_for(error)) from None


if __name__ == "__main__":
    main()
