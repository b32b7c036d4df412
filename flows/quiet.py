"""Keep user errors to one line: Prefect would otherwise log their tracebacks."""

from __future__ import annotations

import logging

import typer

from instances import InstructmixError
from instances.lifecycle import Interrupted


class _DropUserErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, InstructmixError | OSError | Interrupted):
            return False  # reported as one line at the CLI edge
        message = record.getMessage()
        return not any(
            name in message
            for name in ("SourceError", "ValidationError", "RecipeError", "InstructmixError")
        )


def quiet_user_errors(ctx: typer.Context | None = None) -> None:
    """Unless the CLI runs with --debug, drop Prefect's log records about user errors.

    Call after importing a flow module (Prefect sets up its log handlers on import).
    """
    if ctx is not None and (ctx.find_root().obj or {}).get("debug"):
        return
    for handler in logging.getLogger("prefect").handlers + logging.getLogger().handlers:
        handler.addFilter(_DropUserErrors())
