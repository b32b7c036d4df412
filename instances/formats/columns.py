"""Any other layout: `columns` names the prompt, the response and optionally a system column."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from instances.formats.common import Messages, checked, text_field

Columns = Callable[[str], str]


def from_columns(row: Mapping[str, Any], columns: Columns) -> Messages:
    """Messages of a row whose prompt, response (and system) live in the named columns."""
    system = text_field(row, columns("system"), required=False) if columns("system") else None
    prompt = text_field(row, columns("prompt"))
    response = text_field(row, columns("response"))
    messages: Messages = [{"role": "system", "content": system}] if system else []
    messages += [
        {"role": "user", "content": prompt or ""},
        {"role": "assistant", "content": response or ""},
    ]
    return checked(messages)
