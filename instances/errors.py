"""Errors that carry a one-line, user-facing message naming what and where."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from pydantic import ValidationError as PydanticValidationError


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
