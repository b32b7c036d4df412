"""The counters every stage reports, and the (kept, rejected, report) triple stages return."""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple

import pyarrow as pa
from pydantic import BaseModel, Field


class Report(BaseModel):
    """What one stage did: rows in and out, drops per reason, time, and free-form extras.

    Reports of the same stage add up (`a + b`), so shards and reruns merge.
    """

    stage: str
    rows_in: int = Field(ge=0)
    rows_out: int = Field(ge=0)
    dropped_by_reason: dict[str, int] = Field(default_factory=dict)
    seconds: float = Field(default=0.0, ge=0)
    extras: dict[str, Any] = Field(default_factory=dict)

    @property
    def dropped(self) -> int:
        """Rows this stage dropped, over all reasons."""
        return sum(self.dropped_by_reason.values())

    def balanced(self) -> bool:
        """True when rows_in == rows_out + every drop (the funnel invariant)."""
        return self.rows_in == self.rows_out + self.dropped

    def top_reasons(self, n: int = 3) -> list[tuple[str, int]]:
        """The `n` most frequent drop reasons, most frequent first."""
        return Counter(self.dropped_by_reason).most_common(n)

    def summary(self) -> str:
        """The counters on one line (what a run logs per stage).

        >>> Report(stage="length", rows_in=5, rows_out=4, dropped_by_reason={"long": 1}).summary()
        "length: 5 in, 4 out, dropped {'long': 1} (0.00s)"
        """
        dropped = dict(self.top_reasons()) or "nothing"
        counts = f"{self.rows_in} in, {self.rows_out} out, dropped {dropped}"
        return f"{self.stage}: {counts} ({self.seconds:.2f}s)"

    def __add__(self, other: Report) -> Report:
        if other.stage != self.stage:
            raise ValueError(f"cannot add reports of stages {self.stage!r} and {other.stage!r}")
        reasons = Counter(self.dropped_by_reason)
        reasons.update(other.dropped_by_reason)
        return Report(
            stage=self.stage,
            rows_in=self.rows_in + other.rows_in,
            rows_out=self.rows_out + other.rows_out,
            dropped_by_reason=dict(sorted(reasons.items())),
            seconds=self.seconds + other.seconds,
            extras={**self.extras, **other.extras},
        )


class StageResult(NamedTuple):
    """What a generator or filter returns: kept instances, rejected rows and the report."""

    kept: pa.Table
    rejected: pa.Table
    report: Report
