"""Personal data in text: e-mail addresses, phone numbers and URLs, found and masked.

Patterns are deliberately conservative: a phone number needs a leading `+`, parentheses
around its area code or dash/dot separators (`555-123-4567`), so lists of plain numbers are
not taken for phone numbers.
"""

from __future__ import annotations

import re

PII_KINDS = ("email", "phone", "url")

PATTERNS: dict[str, str] = {
    "email": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
    "phone": (
        r"(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,4}){1,4}"
        r"|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}"
        r"|\b\d{3}[.-]\d{3}[.-]\d{4})\b"
    ),
    "url": r"\b(?:https?://|www\.)[^\s<>\"'`)\]]*[^\s<>\"'`)\].,;:!?]",
}
MASKS: dict[str, str] = {"email": "[EMAIL]", "phone": "[PHONE]", "url": "[URL]"}
_COMPILED = {kind: re.compile(pattern) for kind, pattern in PATTERNS.items()}


def find(kind: str, text: str) -> list[str]:
    """All matches of one kind of personal data in `text`.

    >>> find("email", "write to jane.doe@example.org today")
    ['jane.doe@example.org']
    >>> find("phone", "call (555) 123-4567 or +44 20 7946 0958; not 100 200 300")
    ['(555) 123-4567', '+44 20 7946 0958']
    """
    return _COMPILED[kind].findall(text)


def mask(kind: str, text: str) -> tuple[str, int]:
    """`text` with every match of `kind` replaced by its mask, and the number replaced.

    >>> mask("url", "see https://example.com/a?b=1.")
    ('see [URL].', 1)
    """
    return _COMPILED[kind].subn(MASKS[kind], text)
