"""SuperNI task files: one file (a row) holds a `Definition` and its `Instances`; each instance
becomes a user turn (the definition, a blank line, the input) and an assistant turn (its first
output). For SuperNI's own encodings (examples, explanations) use `kind: natural_instructions`
with `tasks_dir:`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from instances.formats.common import (
    BAD_TURN,
    NON_STRING,
    Messages,
    RowReject,
    checked,
    turn_list,
)

Columns = Callable[[str], str]


def definition_text(row: Mapping[str, Any], column: str) -> str:
    """The task definition (a string, or SuperNI's list of strings joined by blank lines)."""
    value = row.get(column)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n\n".join(v.strip() for v in value)
    if isinstance(value, str):
        return value.strip()
    if value is None:
        return ""
    raise RowReject(NON_STRING, f"column {column!r} holds {type(value).__name__}")


def instance_messages(definition: str, instance: Any, number: int) -> Messages:
    """Messages of one SuperNI instance ({input, output: [str, ...]}) under `definition`."""
    if not isinstance(instance, Mapping):
        raise RowReject(BAD_TURN, f"instance {number} is {type(instance).__name__}, not an object")
    text = instance.get("input")
    outputs = instance.get("output")
    if isinstance(outputs, str):
        outputs = [outputs]
    if not isinstance(text, str):
        raise RowReject(NON_STRING, f"instance {number} input is {type(text).__name__}")
    if not isinstance(outputs, list) or not outputs or not isinstance(outputs[0], str):
        raise RowReject(NON_STRING, f"instance {number} has no string output")
    prompt = f"{definition}\n\n{text.strip()}" if definition else text
    return checked(
        [{"role": "user", "content": prompt}, {"role": "assistant", "content": outputs[0]}]
    )


def task_instances(row: Mapping[str, Any], columns: Columns) -> tuple[str, list[Any]]:
    """The definition and the raw instances of a task-file row."""
    return definition_text(row, columns("Definition")), turn_list(row, columns("Instances"))
