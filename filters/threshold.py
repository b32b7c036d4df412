"""Drop rows whose score is under a bound: reason `low_<name>` (and `unscored_<name>`).

Reads `meta[score]` as the score stage wrote it. Rows without the score (the scorer could
not score them) are dropped as `unscored_<name>` unless `keep_unscored` is set. When no row
has the score nor a scorer's reason for its absence, no score stage ran: that is an error.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from filters.dispatch import Verdicts
from instances import InstructmixError
from instances.context import StageContext
from instances.scores import read_errors, read_scores

STAGE = "threshold"
ROW_WISE = True


def low_reason(name: str) -> str:
    """The reject reason of a row under the bound of score `name`.

    >>> low_reason("quality")
    'low_quality'
    """
    return f"low_{name}"


def unscored_reason(name: str) -> str:
    """The reject reason of a row with no `name` score."""
    return f"unscored_{name}"


class Config(BaseModel):
    """`kind: threshold`: keep rows with `meta[score] >= min`."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["threshold"] = "threshold"
    score: str = Field(default="quality", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    min: float = Field(description="the lowest score a row may have and stay")
    keep_unscored: bool = Field(default=False, description="keep rows that have no score")


def verdicts(table: pa.Table, config: Config, ctx: StageContext | None = None) -> Verdicts:
    """Reject rows under `config.min` as `low_<score>`, unscored rows as `unscored_<score>`."""
    values = read_scores(table, config.score)
    if table.num_rows and np.isnan(values).all() and not any(read_errors(table, config.score)):
        raise InstructmixError(
            f"threshold on {config.score!r}: no row has meta.{config.score}; put a "
            f"`kind: score` step with name: {config.score} before it in filters"
        )
    low, missing = low_reason(config.score), unscored_reason(config.score)
    reasons: list[str | None] = []
    for value in values.tolist():
        if np.isnan(value):
            reasons.append(None if config.keep_unscored else missing)
        else:
            reasons.append(low if value < config.min else None)
    return Verdicts(reasons, extras={"score": config.score, "min": config.min})
