"""Console logging of flow runs: one line per stage, user errors on one line.

Unless the CLI runs with --verbose, Prefect's lifecycle lines ("Created task run", "Finished in
state Completed()", ...) are kept off the console (they still reach the server and its UI);
unless it runs with --debug, log records about user errors (whose one-line message the CLI
prints) are dropped.
"""

from __future__ import annotations

import logging

import typer

from instances import InstructmixError
from instances.lifecycle import Interrupted

LIFECYCLE = (
    "Created task run",
    "Executing",
    "Finished in state",
    "Beginning flow run",
    "Beginning subflow run",
    "View at ",
    "Created flow run",
)
USER_ERRORS = ("SourceError", "ValidationError", "RecipeError", "InstructmixError")


class _DropUserErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, InstructmixError | OSError | Interrupted):
            return False  # reported as one line at the CLI edge
        message = record.getMessage()
        return not any(name in message for name in USER_ERRORS)


class _DropLifecycle(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        return not record.getMessage().startswith(LIFECYCLE)


def _flags(ctx: typer.Context | None) -> dict:
    return (ctx.find_root().obj or {}) if ctx is not None else {}


def quiet_prefect(ctx: typer.Context | None = None) -> None:
    """Filter Prefect's console output as --verbose and --debug say (see the module doc).

    Call after importing a flow module (Prefect sets up its log handlers on import).
    """
    flags = _flags(ctx)
    handlers = logging.getLogger("prefect").handlers + logging.getLogger().handlers
    for handler in handlers:
        if not flags.get("debug"):
            handler.addFilter(_DropUserErrors())
        if not flags.get("verbose") and type(handler).__name__ != "APILogHandler":
            handler.addFilter(_DropLifecycle())
