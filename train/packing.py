"""Token-length statistics and the packing estimate of a training run (pure arithmetic).

How many sequences best-fit-decreasing packing (TRL's `bfd`) makes of the rows, and how much
of the computed tokens are real with and without it.

>>> bfd_bins([6, 5, 4, 3, 2], capacity=10)
2
>>> length_stats([3, 1, 2]).p50
2
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence

from pydantic import BaseModel, Field


class LengthStats(BaseModel):
    """Distribution of per-row token lengths (before truncation)."""

    rows: int
    tokens: int
    min: int
    mean: float
    p50: int
    p90: int
    p99: int
    max: int


class PackingEstimate(BaseModel):
    """Useful share of computed tokens with and without bfd packing (lengths cut at max_length)."""

    batch_size: int
    padded_efficiency: float = Field(description="real tokens / padded tokens, unpacked batches")
    packed_sequences: int = Field(description="sequences bfd packing makes of the rows")
    packed_fill: float = Field(description="real tokens / (sequences * max_length)")
    steps_unpacked: int
    steps_packed: int
    expected_speedup: float = Field(description="padded tokens unpacked / tokens packed")


def _percentile(ordered: Sequence[int], q: float) -> int:
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def length_stats(lengths: Sequence[int]) -> LengthStats:
    """Summarise token lengths (nearest-rank percentiles)."""
    ordered = sorted(lengths)
    return LengthStats(
        rows=len(ordered),
        tokens=sum(ordered),
        min=ordered[0],
        mean=sum(ordered) / len(ordered),
        p50=_percentile(ordered, 0.5),
        p90=_percentile(ordered, 0.9),
        p99=_percentile(ordered, 0.99),
        max=ordered[-1],
    )


def bfd_bins(lengths: Sequence[int], capacity: int) -> int:
    """How many sequences of `capacity` tokens best-fit-decreasing packing fills with `lengths`.

    Each length is clipped to `capacity` (TRL's `bfd` truncates overflow). Every item goes into
    the open sequence with the least room that still fits it, or starts a new one.
    """
    free: list[int] = []  # remaining room of open sequences, sorted ascending
    for length in sorted((min(n, capacity) for n in lengths), reverse=True):
        slot = bisect.bisect_left(free, length)
        room = free.pop(slot) - length if slot < len(free) else capacity - length
        bisect.insort(free, room)
    return len(free)


def packing_estimate(
    lengths: Sequence[int], max_length: int, batch_size: int, seed: int = 0
) -> PackingEstimate:
    """Compare padded, shuffled batches of `batch_size` rows with bfd-packed sequences."""
    clipped = [min(n, max_length) for n in lengths]
    order = list(clipped)
    random.Random(seed).shuffle(order)
    padded = 0
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        padded += max(batch) * len(batch)
    real = sum(clipped)
    bins = bfd_bins(clipped, max_length)
    return PackingEstimate(
        batch_size=batch_size,
        padded_efficiency=real / padded,
        packed_sequences=bins,
        packed_fill=real / (bins * max_length),
        steps_unpacked=-(-len(clipped) // batch_size),
        steps_packed=-(-bins // batch_size),
        expected_speedup=padded / real,
    )
