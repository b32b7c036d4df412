"""What every format converter shares: the reject reasons and the checks of a conversation.

Reject reasons (stable; they name why a row cannot become an instance):
`missing_field` (a column the format needs is absent or null), `non_string_content` (a turn
or field holds a number, list or other non-string: never coerced), `unknown_role`,
`bad_turn` (a turn that is not a {role, content} object, or not a list of turns),
`empty_turn` (blank after stripping), `nul_character` (a NUL byte in a turn), `no_user_turn`,
`no_assistant_last`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MISSING_FIELD = "missing_field"
NON_STRING = "non_string_content"
UNKNOWN_ROLE = "unknown_role"
BAD_TURN = "bad_turn"
EMPTY_TURN = "empty_turn"
NUL_CHARACTER = "nul_character"
NO_USER_TURN = "no_user_turn"
NO_ASSISTANT_LAST = "no_assistant_last"

Messages = list[dict[str, str]]


class RowReject(Exception):
    """A row cannot become an instance: `reason` is stable, `detail` says where."""

    def __init__(self, reason: str, detail: str, messages: Messages | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.messages = messages  # the turns as read, when they are all strings


def text_field(row: Mapping[str, Any], column: str, *, required: bool = True) -> str | None:
    """The string in `row[column]`; None when absent and not required.

    Raises `RowReject` (`missing_field`, `non_string_content`) otherwise; never coerces.

    >>> text_field({"q": "Hi"}, "q")
    'Hi'
    >>> text_field({"q": 123}, "q")
    Traceback (most recent call last):
    ...
    instances.formats.common.RowReject: non_string_content: column 'q' holds int, not a string
    """
    value = row.get(column)
    if value is None:
        if required:
            raise RowReject(MISSING_FIELD, f"column {column!r} is missing or null")
        return None
    if not isinstance(value, str):
        raise RowReject(NON_STRING, f"column {column!r} holds {type(value).__name__}, not a string")
    return value


def turn_list(row: Mapping[str, Any], column: str) -> list[Any]:
    """The list of turns in `row[column]` (`missing_field` or `bad_turn` when it is none)."""
    value = row.get(column)
    if value is None:
        raise RowReject(MISSING_FIELD, f"column {column!r} is missing or null")
    if not isinstance(value, list | tuple):
        raise RowReject(BAD_TURN, f"column {column!r} holds {type(value).__name__}, not turns")
    return list(value)


def checked(messages: Messages) -> Messages:
    """`messages` when they make a training conversation, else `RowReject`: every content a
    non-blank string, roles system/user/assistant, a user turn, and an assistant turn last."""
    if not messages:
        raise RowReject(NO_ASSISTANT_LAST, "the conversation has no turns")
    for number, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, str):
            raise RowReject(
                NON_STRING, f"turn {number} content is {type(content).__name__}, not a string"
            )
        if message.get("role") not in ("system", "user", "assistant"):
            raise RowReject(UNKNOWN_ROLE, f"turn {number} has role {message.get('role')!r}")
        if "\x00" in content:
            raise RowReject(NUL_CHARACTER, f"turn {number} holds a NUL character")
    for number, message in enumerate(messages):
        if not message["content"].strip():
            detail = f"turn {number} ({message['role']}) is blank"
            raise RowReject(EMPTY_TURN, detail, messages)
    roles = [m["role"] for m in messages]
    if "user" not in roles:
        raise RowReject(NO_USER_TURN, f"no user turn (roles {roles})", messages)
    if roles[-1] != "assistant":
        detail = f"the last turn is {roles[-1]!r}, not the assistant"
        raise RowReject(NO_ASSISTANT_LAST, detail, messages)
    return messages
