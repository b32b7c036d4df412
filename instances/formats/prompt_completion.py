"""Prompt/completion rows: two strings, or TRL's conversational form (two lists of turns)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from instances.formats.chat import from_messages
from instances.formats.common import MISSING_FIELD, NON_STRING, Messages, RowReject, checked

Columns = Callable[[str], str]


def from_prompt_completion(row: Mapping[str, Any], columns: Columns) -> Messages:
    """Messages of a prompt/completion row: user + assistant strings, or the prompt's turns
    followed by the completion's turns (each a list of {role, content})."""
    prompt_key, completion_key = columns("prompt"), columns("completion")
    prompt, completion = row.get(prompt_key), row.get(completion_key)
    for key, value in ((prompt_key, prompt), (completion_key, completion)):
        if value is None:
            raise RowReject(MISSING_FIELD, f"column {key!r} is missing or null")
    if isinstance(prompt, list) and isinstance(completion, list):
        return from_messages({"turns": [*prompt, *completion]}, "turns")
    for key, value in ((prompt_key, prompt), (completion_key, completion)):
        if not isinstance(value, str):
            raise RowReject(
                NON_STRING, f"column {key!r} holds {type(value).__name__}, not a string"
            )
    return checked(
        [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}]
    )
