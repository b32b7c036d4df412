"""Which row of a duplicate group survives: source priority, then quality, then position."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import pyarrow as pa

from instances import meta


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
    (`meta[quality_key]`, read by `instances.meta.numbers`: a row without a score ranks below
    every scored row), then earlier position in the table.
    """
    priority = {source: rank for rank, source in enumerate(source_priority)}
    frame = pl.DataFrame(
        {
            "group": pl.Series(list(groups)),
            "position": pl.int_range(0, table.num_rows, eager=True),
            "id": table.column("id").to_pylist(),
            "priority": [priority.get(s, len(priority)) for s in recipe_sources(table)],
            "quality": meta.numbers(table.column("meta"), quality_key),
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
    labels = meta.strings(table.column("meta"), "recipe_source")
    sources = table.column("source").to_pylist()
    return [label or source for label, source in zip(labels, sources, strict=True)]
