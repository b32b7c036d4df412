"""Text views of instances that filters share: prompt, response, and match normalisation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


def _joined(rows: int, owners: list[int], contents: list[str]) -> list[str]:
    """Per row, its `contents` (given in row order, with their `owners`) joined by blank lines."""
    out = [""] * rows
    parts: dict[int, list[str]] = {}
    for owner, content in zip(owners, contents, strict=True):
        if owner in parts:
            parts[owner].append(content)
        elif out[owner]:
            parts[owner] = [out[owner], content]
        else:
            out[owner] = content
            if not content:  # an empty first turn: keep joining from it
                parts[owner] = [content]
    for owner, texts in parts.items():
        out[owner] = "\n\n".join(texts)
    return out


def prompts_and_responses(table: pa.Table) -> tuple[list[str], list[str]]:
    """The prompt and response text of every row of `table`, in row order.

    Computed from the flattened turns (no Python dict per turn), the same strings as
    `prompt_text` and `response_text` give for each row's messages.
    """
    messages = table.column("messages").combine_chunks()
    flat = pc.list_flatten(messages)
    owners = pc.list_parent_indices(messages).to_numpy()
    answer = np.asarray(
        pc.fill_null(pc.equal(pc.struct_field(flat, "role"), "assistant"), False), bool
    )
    content = pc.struct_field(flat, "content")
    prompts = _joined(
        table.num_rows, owners[~answer].tolist(), content.filter(pa.array(~answer)).to_pylist()
    )
    responses = _joined(
        table.num_rows, owners[answer].tolist(), content.filter(pa.array(answer)).to_pylist()
    )
    return prompts, responses


def match_texts(table: pa.Table, fields: str) -> list[str]:
    """The text each row is compared on: its prompt, or prompt and response (`prompt_response`)."""
    prompts, responses = prompts_and_responses(table)
    if fields == "prompt":
        return prompts
    return [f"{p}\n\n{r}" for p, r in zip(prompts, responses, strict=True)]
