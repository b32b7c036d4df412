"""Which row of a duplicate group survives: source priority, then quality, then position."""

from __future__ import annotations

import json
from collections.abc import Sequence

import polars as pl
import pyarrow as pa


def quality_score(meta: str, key: str | None) -> float:
    """The numeric `meta[key]` of a row (higher survives); 0 without a key, -inf when absent.

    >>> quality_score('{"score": 4}', "score"), quality_score("{}", "score")
    (4.0, -inf)
    """
    if key is None:
        return 0.0
    value = json.loads(meta).get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return float("-inf")
    return float(value)


def survivors(
    table: pa.Table,
    groups: Sequence[object],
    source_priority: Sequence[str],
    quality_key: str | None,
) -> list[str | None]:
    """For each row, the id of the row that survives its group, or None if it is the survivor.

    `groups` holds one hashable group label per row (rows with equal labels are duplicates).
    Survival order: earlier in `source_priority` (recipe source names, `meta.recipe_source`,
    else the `source` column; unlisted sources last), then higher quality
    (`meta[quality_key]`), then earlier position in the table.
    """
    priority = {source: rank for rank, source in enumerate(source_priority)}
    frame = pl.DataFrame(
        {
            "group": pl.Series(list(groups)),
            "position": pl.int_range(0, table.num_rows, eager=True),
            "id": table.column("id").to_pylist(),
            "priority": [priority.get(s, len(priority)) for s in recipe_sources(table)],
            "quality": [quality_score(m, quality_key) for m in table.column("meta").to_pylist()],
        }
    )
    best = (
        frame.sort(
            ["group", "priority", "quality", "position"], descending=[False, False, True, False]
        )
        .group_by("group", maintain_order=True)
        .first()
        .select("group", pl.col("id").alias("survivor"), pl.col("position").alias("kept_at"))
    )
    joined = frame.join(best, on="group", how="left").sort("position")
    return [
        None if position == kept_at else survivor
        for position, survivor, kept_at in joined.select(
            ["position", "survivor", "kept_at"]
        ).iter_rows()
    ]


def recipe_sources(table: pa.Table) -> list[str]:
    """Each row's recipe source label (`meta.recipe_source`, else its `source` column)."""
    labels = []
    for source, meta in zip(
        table.column("source").to_pylist(), table.column("meta").to_pylist(), strict=True
    ):
        label = json.loads(meta).get("recipe_source") if meta else None
        labels.append(label if isinstance(label, str) else source)
    return labels
