"""Exact deduplication on normalised text (NFKC, whitespace, case), across sources.

Reject reason: `exact_duplicate`, with `duplicate_of` = the id of the surviving row.
The survivor of a group is decided by source priority, then a quality score in `meta`
(higher first, when `quality_key` names one), then first position in the table.
"""

from __future__ import annotations

import json
import time
from typing import Literal

import polars as pl
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from instructmix.filters.text import normalise_for_match, prompts_and_responses
from instructmix.instances import StageResult
from instructmix.instances.context import StageContext
from instructmix.instances.rejected import split_rows

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


def _quality(meta: str, key: str | None) -> float:
    if key is None:
        return 0.0
    value = json.loads(meta).get(key)
    return float(value) if isinstance(value, int | float) else float("-inf")


def run(table: pa.Table, config: Config, ctx: StageContext | None = None) -> StageResult:
    """Keep one row per normalised prompt (or prompt+response); reject the rest as duplicates.

    Columns read: messages, source, meta. Columns written on rejected rows: reject_stage
    `exact_dedup`, reject_reason `exact_duplicate`, duplicate_of.
    """
    started = time.perf_counter()
    prompts, responses = prompts_and_responses(table)
    if config.fields == "prompt":
        keys = [normalise_for_match(p) for p in prompts]
    else:
        keys = [
            normalise_for_match(p) + "\x00" + normalise_for_match(r)
            for p, r in zip(prompts, responses, strict=True)
        ]
    priority = {source: rank for rank, source in enumerate(config.source_priority)}
    frame = pl.DataFrame(
        {
            "key": keys,
            "position": range(table.num_rows),
            "id": table.column("id").to_pylist(),
            "priority": [
                priority.get(s, len(priority)) for s in table.column("source").to_pylist()
            ],
            "quality": [_quality(m, config.quality_key) for m in table.column("meta").to_pylist()],
        }
    )
    ranked = frame.sort(
        ["key", "priority", "quality", "position"], descending=[False, False, True, False]
    )
    survivors = (
        ranked.group_by("key", maintain_order=True)
        .first()
        .select(
            ["key", pl.col("id").alias("survivor"), pl.col("position").alias("survivor_position")]
        )
    )
    joined = frame.join(survivors, on="key", how="left").sort("position")
    reasons: list[str | None] = []
    duplicate_of: list[str | None] = []
    for position, survivor, survivor_position in joined.select(
        ["position", "survivor", "survivor_position"]
    ).iter_rows():
        if position == survivor_position:
            reasons.append(None)
            duplicate_of.append(None)
        else:
            reasons.append(EXACT_DUPLICATE)
            duplicate_of.append(survivor)
    return split_rows(
        table, "exact_dedup", reasons, duplicate_of, seconds=time.perf_counter() - started
    )
