"""Configuration files: YAML read into data, and data validated into a pydantic model.

The one reader of our YAML inputs (recipes, schedules, template files): a missing file, a file
that is not UTF-8, a YAML syntax error (with its line and column) and the first field pydantic
rejects each raise the caller's error class with one line that names the file.

    >>> parse_yaml("a: [1,", "r.yaml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    instances.errors.InstructmixError: r.yaml: not valid YAML at line 1, column 7: ...
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from instances.errors import InstructmixError, describe_validation_error

Model = TypeVar("Model", bound=BaseModel)


def read_text_file(path: Path, error: type[InstructmixError] = InstructmixError) -> str:
    """The UTF-8 text of `path`; a missing or undecodable file raises `error` naming it."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except UnicodeDecodeError as problem:
        raise error(f"{path}: not UTF-8 text (byte {problem.start}); save it as UTF-8") from None


def parse_yaml(
    text: str,
    where: str,
    error: type[InstructmixError] = InstructmixError,
    loader: type[yaml.SafeLoader] = yaml.SafeLoader,
) -> Any:
    """The data in YAML `text` (read safely, by `loader`); bad YAML raises `error` naming
    `where` and the line and column."""
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader (or a subclass)
    except RecursionError:
        raise error(f"{where}: nested too deeply") from None
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = getattr(problem, "problem", None) or str(problem)
        raise error(f"{where}: not valid YAML{at}: {' '.join(what.split())}") from None


def read_yaml_file(
    path: Path,
    error: type[InstructmixError] = InstructmixError,
    loader: type[yaml.SafeLoader] = yaml.SafeLoader,
) -> Any:
    """The data in YAML file `path` (see `read_text_file` and `parse_yaml` for the errors)."""
    return parse_yaml(read_text_file(path, error), str(path), error, loader)


def validate_model(
    model: type[Model],
    data: Any,
    where: str,
    error: type[InstructmixError] = InstructmixError,
    fields_doc: str | None = None,
) -> Model:
    """`data` validated into `model`; the first problem raises `error` with one line naming
    `where`, the field and the fix (`fields_doc`: where the valid fields are listed)."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as problem:
        message = describe_validation_error(where, problem, fields_doc, list(model.model_fields))
        raise error(message) from problem
