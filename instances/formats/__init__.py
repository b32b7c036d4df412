"""Format converters: one dataset row (in a declared format) into the messages of an instance.

`row_messages(spec_format, row, columns)` returns the messages or raises `RowReject` with a
stable reason (see `common.py`). `natural_instructions` rows are task files that expand to
many instances; `generators/dataset.py` and the decontamination filter expand them through
`natural_instructions.task_instances`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from instances.formats.alpaca import from_alpaca
from instances.formats.chat import from_messages, from_sharegpt
from instances.formats.columns import from_columns
from instances.formats.common import Messages, RowReject
from instances.formats.prompt_completion import from_prompt_completion

__all__ = ["Messages", "RowReject", "row_messages", "used_columns"]


def row_messages(fmt: str, row: Mapping[str, Any], columns: Callable[[str], str]) -> Messages:
    """The messages of one row of format `fmt` (not `natural_instructions`), or `RowReject`."""
    if fmt == "messages":
        return from_messages(row, columns("messages"))
    if fmt == "sharegpt":
        return from_sharegpt(row, columns("conversations"))
    if fmt == "alpaca":
        return from_alpaca(row, columns)
    if fmt == "prompt_completion":
        return from_prompt_completion(row, columns)
    if fmt == "columns":
        return from_columns(row, columns)
    raise ValueError(f"format {fmt!r} has no row converter")


def used_columns(fields: tuple[str, ...], columns: Callable[[str], str]) -> set[str]:
    """The data columns a format reads (its fields, renamed)."""
    return {columns(field) for field in fields}
