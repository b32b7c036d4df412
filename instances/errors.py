"""Errors that carry a one-line, user-facing message naming what and where, and the one line
(and exit status) for any error that reaches the command line's edge."""

from __future__ import annotations

import difflib
import errno
from collections.abc import Sequence

from pydantic import ValidationError as PydanticValidationError

from instances.lifecycle import Interrupted


class InstructmixError(Exception):
    """Base of every error the CLI reports as one clear line (no traceback unless --debug)."""


class ValidationError(InstructmixError):
    """A table, row or field does not match the formatted-instance schema."""


class SourceError(InstructmixError):
    """A source could not be read: missing mirror file, malformed row, unknown source."""


def _close_key(loc: tuple, known: Sequence[str]) -> str | None:
    """The known top-level field closest to a misspelt top-level key, if one is close."""
    if len(loc) != 1 or not isinstance(loc[0], str) or not known:
        return None
    matches = difflib.get_close_matches(loc[0], list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


def describe_validation_error(
    where: str,
    error: PydanticValidationError,
    fields_doc: str | None = None,
    known_fields: Sequence[str] = (),
) -> str:
    """One line for the first problem pydantic found: where, the field, what is wrong, the fix.

    `where` names the file (and the item in it); `fields_doc` the module that lists the valid
    fields, for unknown-field errors; `known_fields` the top-level fields, so that a misspelt key
    is reported as such (not as the field it leaves missing). The one formatter of validation
    errors: recipes, schedules, template files and task files all read the same way.

    >>> from pydantic import BaseModel, ConfigDict
    >>> class Spec(BaseModel):
    ...     model_config = ConfigDict(extra="forbid")
    ...     count: int
    >>> def check(data):
    ...     try:
    ...         Spec.model_validate(data)
    ...     except PydanticValidationError as error:
    ...         print(describe_validation_error("r.yaml", error, "recipe.py"))
    >>> check({"count": 1, "cuont": 1})
    r.yaml: field 'cuont': unknown field (check the spelling; see recipe.py for the fields)
    >>> check({"count": [1]})
    r.yaml: field 'count': Input should be a valid integer
    >>> check({"count": "x"})  # doctest: +ELLIPSIS
    r.yaml: field 'count': Input should be a valid integer, unable to parse ..., got 'x'
    """
    errors = error.errors()
    misspelt = [
        e for e in errors if e["type"] == "extra_forbidden" and _close_key(e["loc"], known_fields)
    ]
    first = misspelt[0] if misspelt else errors[0]  # a misspelt key explains a missing field
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    if misspelt:
        close = _close_key(first["loc"], known_fields)
        return f"{where}: unknown key {first['loc'][0]!r}; did you mean {close!r}?{more}"
    message = first["msg"].removeprefix("Value error, ")
    location = ".".join(str(part) for part in first["loc"])
    if not location:
        return f"{where}: {message}{more}"
    if first["type"] == "missing":
        return f"{where}: field '{location}' is missing{more}"
    if first["type"] == "extra_forbidden":
        see = f"; see {fields_doc} for the fields" if fields_doc else ""
        return f"{where}: field '{location}': unknown field (check the spelling{see}){more}"
    got = first.get("input")
    shown = "" if isinstance(got, dict | list) else f", got {_short(repr(got))}"
    return f"{where}: field '{location}': {message}{shown}{more}"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


_HINTS = {
    errno.ENOSPC: "no space left on the device; free some space and build again",
    errno.EDQUOT: "disk quota exceeded; free some space and build again",
    errno.EROFS: "the file system is read-only; choose another output folder (--output-dir)",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a path component is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.EEXIST: "already exists",
    errno.ENAMETOOLONG: "file name too long",
    errno.ENOENT: "no such file or folder",
}


def os_error_line(error: OSError) -> str:
    """One line for an OS error: the file(s) it concerns, what went wrong and what to do."""
    what = _HINTS.get(error.errno or 0) or error.strerror or type(error).__name__
    names = [str(n) for n in (error.filename, error.filename2) if n is not None]
    if not names:
        return f"{what} ({error})" if str(error) and what not in str(error) else what
    return f"{' -> '.join(names)}: {what}"


def exit_status_for(error: BaseException) -> int:
    """1 for a user or OS error; 128 + the signal number for an interrupt."""
    if isinstance(error, Interrupted):
        return 128 + error.signum
    if isinstance(error, KeyboardInterrupt):
        return 128 + 2
    return 1


def error_line(error: BaseException) -> str:
    """The one line the command line prints for an error that reached its edge: OS errors
    name the file, decoding errors the byte, interrupts say that temporaries were removed."""
    if isinstance(error, OSError):
        return os_error_line(error)
    if isinstance(error, UnicodeDecodeError):
        return f"input is not UTF-8 text ({error.reason} at byte {error.start})"
    if isinstance(error, RecursionError):
        return "input nested too deeply to read"
    if isinstance(error, MemoryError):
        return "out of memory"
    if isinstance(error, PydanticValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or error.title
        return f"{where}: {first['msg'].removeprefix('Value error, ')}"
    if isinstance(error, Interrupted | KeyboardInterrupt):
        return f"{error or 'interrupted'}; temporary files removed, earlier outputs unchanged"
    return str(error)


EDGE_ERRORS = (OSError, UnicodeDecodeError, RecursionError, MemoryError, PydanticValidationError)
"""The errors besides `InstructmixError` that the command line reports as one line."""
