"""Alpaca rows: instruction, optional input, output (and LLaMA-Factory's `history` of earlier
[user, assistant] pairs and `system`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from instances.formats.common import BAD_TURN, Messages, RowReject, checked, text_field

Columns = Callable[[str], str]


def alpaca_prompt(instruction: str, input_text: str) -> str:
    """The user turn of an Alpaca row: the instruction, then the input after a blank line if any.

    >>> alpaca_prompt("Translate to French.", "Good morning")
    'Translate to French.\\n\\nGood morning'
    """
    instruction, input_text = instruction.strip(), input_text.strip()
    return f"{instruction}\n\n{input_text}" if input_text else instruction


def from_alpaca(row: Mapping[str, Any], columns: Columns) -> Messages:
    """Messages of an Alpaca row (system?, history pairs, instruction + input, output)."""
    instruction = text_field(row, columns("instruction"))
    output = text_field(row, columns("output"))
    input_text = text_field(row, columns("input"), required=False) or ""
    system = text_field(row, columns("system"), required=False)
    messages: Messages = [{"role": "system", "content": system}] if system else []
    history = row.get(columns("history")) or []
    if not isinstance(history, list | tuple):
        raise RowReject(BAD_TURN, f"column {columns('history')!r} is not a list of pairs")
    for number, pair in enumerate(history):
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            raise RowReject(BAD_TURN, f"history item {number} is not a [user, assistant] pair")
        messages += [
            {"role": "user", "content": pair[0]},
            {"role": "assistant", "content": pair[1]},
        ]
    messages += [
        {"role": "user", "content": alpaca_prompt(instruction or "", input_text)},
        {"role": "assistant", "content": output or ""},
    ]
    return checked(messages)
