"""A cheap quality score in [0, 1] from the quality filter's signals; no model, no network.

Three signals, each in [0, 1], averaged with the config's weights, and one gate:

| signal | 1.0 means |
| --- | --- |
| `length` | at least `target_words` words (log scale below), not far shorter than the prompt |
| `repetition` | no repeated word n-grams (1 - the quality filter's repetition share) |
| `formatting` | balanced code fences, mostly letters among the visible characters |

The gate: a response with a refusal, an AI disclaimer or placeholder text (the quality filter's
patterns) has its score multiplied by `boilerplate_factor`.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from filters.quality import (
    _FENCE,
    AI_DISCLAIMER_PATTERN,
    PLACEHOLDER_PATTERN,
    REFUSAL_PATTERN,
    repetition,
)


class Weights(BaseModel):
    """Relative weights of the three signals (they need not sum to 1, nor be all zero)."""

    model_config = ConfigDict(extra="forbid")

    length: float = Field(0.5, ge=0)
    repetition: float = Field(0.3, ge=0)
    formatting: float = Field(0.2, ge=0)


class Config(BaseModel):
    """The heuristic scorer's settings."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["heuristic"] = "heuristic"
    target_words: int = Field(
        default=150, ge=1, description="responses this long or longer get the full length signal"
    )
    repetition_ngram: int = Field(default=3, ge=1, le=10)
    weights: Weights = Field(default_factory=Weights)
    boilerplate_factor: float = Field(
        default=0.25, ge=0, le=1, description="multiplies the score of boilerplate answers"
    )

    def settings(self) -> dict:
        """What the lock records about this scorer."""
        return self.model_dump(mode="json")


def signals(prompts: list[str], responses: list[str], config: Config) -> pl.DataFrame:
    """Per pair: the signals (length, repetition, formatting) and `boilerplate` (1 = clean)."""
    frame = pl.DataFrame(
        {"prompt": prompts, "response": responses},
        schema=[("prompt", pl.String), ("response", pl.String)],
    )
    response = pl.col("response")
    words = response.str.count_matches(r"\S+").cast(pl.Float64)
    prompt_words = pl.col("prompt").str.count_matches(r"\S+").cast(pl.Float64)
    log_target = math.log1p(config.target_words)
    absolute = (words.log1p() / log_target).clip(0.0, 1.0)
    # a one-line answer to a long prompt is out of balance: at least a quarter of its words
    balance = (words / (0.25 * prompt_words).clip(lower_bound=1.0)).clip(0.0, 1.0)
    boiler = (
        response.str.contains(REFUSAL_PATTERN)
        | response.str.contains(AI_DISCLAIMER_PATTERN)
        | response.str.contains(PLACEHOLDER_PATTERN)
        | pl.col("prompt").str.contains(PLACEHOLDER_PATTERN)
    )
    fences_ok = (response.str.count_matches(_FENCE) % 2 == 0) & (
        pl.col("prompt").str.count_matches(_FENCE) % 2 == 0
    )
    visible = response.str.count_matches(r"\S").cast(pl.Float64)
    letters = response.str.count_matches(r"[^\W\d_]").cast(pl.Float64)
    alpha = pl.when(visible > 0).then((letters / visible / 0.5).clip(0.0, 1.0)).otherwise(0.0)
    repeated = [repetition(text, config.repetition_ngram) for text in responses]
    return frame.select(
        (0.7 * absolute + 0.3 * balance).alias("length"),
        (1.0 - pl.Series("r", repeated, dtype=pl.Float64)).alias("repetition"),
        pl.when(boiler).then(0.0).otherwise(1.0).alias("boilerplate"),
        (0.5 * fences_ok.cast(pl.Float64) + 0.5 * alpha).alias("formatting"),
    )


def score(
    prompts: list[str], responses: list[str], config: Config
) -> tuple[list[float | None], list[str | None]]:
    """Per pair: the weighted mean of its signals in [0, 1], gated (every pair gets a score).

    >>> good = "Paris is the capital of France. " * 20
    >>> s, _ = score(["Capital of France?", "Capital of France?"], [good, "As an AI, I can't"],
    ...              Config())
    >>> s[0] > s[1]
    True
    """
    if not prompts:
        return [], []
    table = signals(prompts, responses, config)
    weights = config.weights.model_dump()
    total = sum(weights.values()) or 1.0
    mixed = np.zeros(len(prompts))
    for name, weight in weights.items():
        mixed += weight * table.get_column(name).to_numpy()
    clean = table.get_column("boilerplate").to_numpy()
    gate = np.where(clean > 0, 1.0, config.boilerplate_factor)
    values = np.round(mixed / total * gate, 4)
    return [float(v) for v in values], [None] * len(prompts)
