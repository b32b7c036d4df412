"""Errors that carry a one-line, user-facing message naming what and where."""


class InstructmixError(Exception):
    """Base of every error the CLI reports as one clear line (no traceback unless --debug)."""


class ValidationError(InstructmixError):
    """A table, row or field does not match the formatted-instance schema."""


class SourceError(InstructmixError):
    """A source could not be read: missing mirror file, malformed row, unknown source."""
