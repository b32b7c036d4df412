"""Chat formats: OpenAI/TRL `messages` and ShareGPT `conversations`.

`messages`: a list of {role, content} with roles system/user/assistant.
`sharegpt`: a list of {from, value} turns (human/user, gpt/assistant/chatgpt/bard/bing,
system), or a list of plain strings alternating user, assistant, ... (as LIMA on the Hub
stores them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from instances.formats.common import (
    BAD_TURN,
    NON_STRING,
    UNKNOWN_ROLE,
    Messages,
    RowReject,
    checked,
    turn_list,
)

SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "system": "system",
}


def _turn(turn: Any, number: int, role_key: str, content_key: str) -> tuple[Any, Any]:
    if not isinstance(turn, Mapping):
        raise RowReject(BAD_TURN, f"turn {number} is {type(turn).__name__}, not an object")
    if role_key not in turn or content_key not in turn:
        raise RowReject(BAD_TURN, f"turn {number} lacks {role_key!r} or {content_key!r}")
    return turn[role_key], turn[content_key]


def from_messages(row: Mapping[str, Any], column: str) -> Messages:
    """Messages of an OpenAI/TRL row: `row[column]` is a list of {role, content}."""
    out = []
    for number, turn in enumerate(turn_list(row, column)):
        role, content = _turn(turn, number, "role", "content")
        if not isinstance(role, str):
            raise RowReject(UNKNOWN_ROLE, f"turn {number} has role {role!r}")
        out.append({"role": role, "content": content})
    return checked(out)


def from_sharegpt(row: Mapping[str, Any], column: str) -> Messages:
    """Messages of a ShareGPT row: {from, value} turns, or alternating strings from the user."""
    turns = turn_list(row, column)
    # plain values (no {from, value} turn) alternate user, assistant; `checked` rejects a
    # number or null among them as non_string_content, never coercing it
    if turns and not any(isinstance(turn, Mapping | list | tuple) for turn in turns):
        roles = ["user", "assistant"] * (len(turns) // 2 + 1)
        return checked([{"role": r, "content": t} for r, t in zip(roles, turns, strict=False)])
    out = []
    for number, turn in enumerate(turns):
        if isinstance(turn, str | int | float):
            raise RowReject(
                NON_STRING if not isinstance(turn, str) else BAD_TURN,
                f"turn {number}: plain values mixed with {{from, value}} turns",
            )
        speaker, content = _turn(turn, number, "from", "value")
        role = SHAREGPT_ROLES.get(speaker.strip().lower()) if isinstance(speaker, str) else None
        if role is None:
            raise RowReject(UNKNOWN_ROLE, f"turn {number} is from {speaker!r}")
        out.append({"role": role, "content": content})
    return checked(out)
