"""Identical and exact dedup as map + reduce over shards, with the verdicts of the in-memory
filters (`mixtures.build.drop_identical`, `filters.exact_dedup.run`).

Map (per shard): a narrow table of each row's match key - the 16-byte BLAKE2b digest of the
normalised text, so that 10M keys take 160 MB, not the texts - with its id, source priority
and quality. Reduce: the narrow tables of all shards in one polars frame, sorted the way
`filters.ranking.survivors` sorts (priority, quality descending, position), giving each
dropped row's global position and the id it duplicates. (Two different texts share a digest
with chance about n^2 / 2^129: for 10M rows, below 10^-24.)
"""

from __future__ import annotations

import hashlib

import polars as pl
import pyarrow as pa

from filters.exact_dedup import Config as ExactConfig
from filters.exact_dedup import match_keys
from filters.ranking import recipe_sources
from instances import meta

KEY_TYPE = pa.binary(16)


def digests(keys: list[str]) -> pa.Array:
    """The 16-byte BLAKE2b digest of each key's UTF-8 bytes."""
    return pa.array(
        [hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest() for key in keys], KEY_TYPE
    )


def ranking_columns(
    table: pa.Table, source_priority: list[str], quality_key: str | None
) -> dict[str, pa.Array]:
    """The columns survival is decided on: id, source priority rank, quality score."""
    rank = {source: n for n, source in enumerate(source_priority)}
    sources = recipe_sources(table)
    quality = meta.numbers(table.column("meta"), quality_key)
    return {
        "id": table.column("id").combine_chunks(),
        "priority": pa.array([rank.get(s, len(rank)) for s in sources], pa.int32()),
        "quality": pa.array(quality, pa.float64()),
    }


def exact_key_table(table: pa.Table, config: ExactConfig) -> pa.Table:
    """Map step of exact dedup for one shard: key digest, id, priority, quality per row."""
    columns = {"key": digests(match_keys(table, config.fields))}
    columns.update(ranking_columns(table, config.source_priority, config.quality_key))
    return pa.table(columns)


def duplicates(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows that lose their group: (position, duplicate_of), sorted by position.

    `frame` has columns group, position, id, priority, quality; the survivor of a group is
    the first by priority, then quality (higher first), then position - as
    `filters.ranking.survivors` decides.
    """
    best = (
        frame.sort(
            ["group", "priority", "quality", "position"], descending=[False, False, True, False]
        )
        .group_by("group", maintain_order=True)
        .first()
        .select("group", pl.col("id").alias("duplicate_of"), pl.col("position").alias("kept_at"))
    )
    return (
        frame.select("group", "position")
        .join(best, on="group", how="inner")
        .filter(pl.col("position") != pl.col("kept_at"))
        .select("position", "duplicate_of")
        .sort("position")
    )


def exact_verdicts(keys: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Reduce step of exact dedup over all shards' key tables (in row order).

    Returns the dropped rows (position, duplicate_of) and the number of distinct keys.
    """
    frame = keys.rename({"key": "group"}).with_columns(
        pl.int_range(0, pl.len(), dtype=pl.Int64).alias("position")
    )
    distinct = frame.get_column("group").n_unique()
    repeated = frame.filter(pl.col("group").is_duplicated())
    return duplicates(repeated), distinct


def identical_verdicts(ids: pl.Series) -> pl.DataFrame:
    """Rows whose id occurred before (position, duplicate_of = that id), by position."""
    frame = pl.DataFrame({"id": ids}).with_row_index("position")
    return (
        frame.filter(~pl.col("id").is_first_distinct())
        .select(pl.col("position").cast(pl.Int64), pl.col("id").alias("duplicate_of"))
        .sort("position")
    )
