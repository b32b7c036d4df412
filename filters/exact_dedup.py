"""Exact deduplication on normalised text (NFKC, whitespace, case), across sources.

Reject reason: `exact_duplicate`, with `duplicate_of` = the id of the surviving row.
The survivor of a group is decided by source priority, then a quality score in `meta`
(higher first, when `quality_key` names one), then first position in the table.
"""

from __future__ import annotations

from typing import Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from filters.dispatch import Verdicts
from filters.ranking import survivors
from filters.text import normalise_for_match, prompts_and_responses
from instances.context import StageContext

STAGE = "exact_dedup"
EXACT_DUPLICATE = "exact_duplicate"


class Config(BaseModel):
    """Exact dedup settings."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["exact_dedup"] = "exact_dedup"
    fields: Literal["prompt", "prompt_response"] = Field(
        default="prompt", description="compare the prompt only, or prompt and response"
    )
    source_priority: list[str] = Field(
        default_factory=list, description="sources in survival order; unlisted sources come last"
    )
    quality_key: str | None = Field(
        default=None, description="meta key of a numeric quality score; higher survives"
    )


def match_keys(table: pa.Table, fields: str) -> list[str]:
    """The normalised key of each row: its prompt, or prompt and response joined by NUL."""
    prompts, responses = prompts_and_responses(table)
    if fields == "prompt":
        return [normalise_for_match(p) for p in prompts]
    return [
        normalise_for_match(p) + "\x00" + normalise_for_match(r)
        for p, r in zip(prompts, responses, strict=True)
    ]


def verdicts(table: pa.Table, config: Config, ctx: StageContext | None = None) -> Verdicts:
    """Keep one row per normalised prompt (or prompt+response); judge the rest duplicates.

    Columns read: messages, source, meta. Verdicts: reason `exact_duplicate` and duplicate_of
    (the surviving row's id) for every row but the survivor of its group.

    >>> from instances import make_instance, make_table
    >>> turns = lambda p: [{"role": "user", "content": p}, {"role": "assistant", "content": "ok"}]
    >>> rows = [make_instance(turns(p), source="s", origin="human", task="t", category="c",
    ...     template="raw") for p in ("Hello  World", "hello world", "Other")]
    >>> found = verdicts(make_table(rows), Config())
    >>> found.reasons, found.extras
    ([None, 'exact_duplicate', None], {'distinct_keys': 2})
    """
    keys = match_keys(table, config.fields)
    duplicate_of = survivors(table, keys, config.source_priority, config.quality_key)
    reasons = [None if d is None else EXACT_DUPLICATE for d in duplicate_of]
    groups = len(set(keys))
    return Verdicts(reasons, duplicate_of, {"distinct_keys": groups})
