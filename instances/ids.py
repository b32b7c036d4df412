"""Stable content-hash ids of formatted instances."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping


def normalise_text(text: str) -> str:
    """Return `text` in Unicode NFC with line endings unified and outer whitespace stripped."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n")).strip()


def normalise_messages(messages: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """Return messages as plain dicts with lower-case roles and normalised content.

    >>> normalise_messages([{"role": "User", "content": " hi\\r\\n"}])
    [{'role': 'user', 'content': 'hi'}]
    """
    return [
        {"role": str(m["role"]).strip().lower(), "content": normalise_text(str(m["content"]))}
        for m in messages
    ]


def instance_id(messages: Iterable[Mapping[str, str]]) -> str:
    """Return an instance id: the first 32 hex digits of SHA-256 over its normalised messages.

    The same conversation text gives the same id on any machine, whatever source it came from.

    >>> instance_id([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}])
    'd6a46ee39fedca62251a74cee3ccd427'
    """
    canonical = json.dumps(
        normalise_messages(messages), ensure_ascii=False, separators=(",", ":"), sort_keys=True
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]
