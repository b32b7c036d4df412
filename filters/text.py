"""Text views of instances that filters share: prompt, response, and match normalisation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import pyarrow as pa

_SPACE = re.compile(r"\s+")


def prompt_text(messages: Sequence[dict]) -> str:
    """All non-assistant turns joined by blank lines (system and user text)."""
    return "\n\n".join(m["content"] for m in messages if m["role"] != "assistant")


def response_text(messages: Sequence[dict]) -> str:
    """All assistant turns joined by blank lines."""
    return "\n\n".join(m["content"] for m in messages if m["role"] == "assistant")


def normalise_for_match(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed: the form exact-match dedup compares.

    >>> normalise_for_match("  Hello\\u00a0 WORLD\\n")
    'hello world'
    """
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def prompts_and_responses(table: pa.Table) -> tuple[list[str], list[str]]:
    """The prompt and response text of every row of `table`, in row order."""
    messages = table.column("messages").to_pylist()
    return [prompt_text(m) for m in messages], [response_text(m) for m in messages]


def match_texts(table: pa.Table, fields: str) -> list[str]:
    """The text each row is compared on: its prompt, or prompt and response (`prompt_response`)."""
    prompts, responses = prompts_and_responses(table)
    if fields == "prompt":
        return prompts
    return [f"{p}\n\n{r}" for p, r in zip(prompts, responses, strict=True)]
