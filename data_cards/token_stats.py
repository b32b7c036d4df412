"""Token statistics for the card, from the build's `tokens.parquet` (mixtures/tokens.py).

The build counts every row after the chat template of the recipe's tokenizer: prompt,
response, total and trainable tokens (trainable: inside the assistant mask, what SFT's loss
sees). The card adds them to the composition table and shows the LIMA paper's table: per
source (or category) the examples and the mean input and output length in tokens.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

TOKENS_FILE = "tokens.parquet"
COUNTS = ("prompt_tokens", "response_tokens", "total_tokens", "trainable_tokens")


def load_tokens(folder: Path) -> pa.Table | None:
    """The mixture's per-row token counts (split, id, counts), or None when it has none."""
    path = Path(folder) / TOKENS_FILE
    return pq.read_table(path) if path.is_file() else None


def with_tokens(frame: pl.DataFrame, tokens: pa.Table | None) -> pl.DataFrame:
    """`frame` (stats.rows_frame) with the four count columns, matched per split by position
    and checked by id; frame unchanged when the counts are missing or do not match."""
    if tokens is None or frame.is_empty():
        return frame
    counts = pl.from_arrow(tokens)
    parts = []
    for (split,), part in frame.group_by("split", maintain_order=True):
        mine = counts.filter(pl.col("split") == split)
        if mine.height != part.height or mine["id"].to_list() != part["id"].to_list():
            return frame  # stale counts (data rewritten since): show no tokens
        parts.append(pl.concat([part, mine.select(COUNTS)], how="horizontal"))
    return pl.concat(parts)


def has_tokens(frame: pl.DataFrame) -> bool:
    """True when `frame` carries token counts."""
    return "trainable_tokens" in frame.columns


def per_source(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Per recipe source: total and trainable tokens, mean prompt and response tokens."""
    if not has_tokens(frame):
        return {}
    grouped = frame.group_by("recipe_source").agg(
        pl.col("total_tokens").sum(),
        pl.col("trainable_tokens").sum(),
        pl.col("prompt_tokens").mean().round(1).alias("mean_prompt_tokens"),
        pl.col("response_tokens").mean().round(1).alias("mean_response_tokens"),
    )
    return {row.pop("recipe_source"): row for row in grouped.iter_rows(named=True)}


def totals(frame: pl.DataFrame) -> dict[str, int] | None:
    """Total and trainable tokens of the whole mixture (None without counts)."""
    if not has_tokens(frame):
        return None
    return {
        "total_tokens": int(frame["total_tokens"].sum()),
        "trainable_tokens": int(frame["trainable_tokens"].sum()),
    }


def length_table(frame: pl.DataFrame, by: str = "source") -> list[dict[str, Any]]:
    """The LIMA table: per source (recipe source) or category, the examples and the mean
    input (prompt) and output (response) length in tokens, largest group first, then "all"."""
    if not has_tokens(frame) or frame.is_empty():
        return []
    column = "recipe_source" if by == "source" else by
    aggregations = [
        pl.len().alias("examples"),
        pl.col("prompt_tokens").mean().round(1).alias("mean_input_tokens"),
        pl.col("response_tokens").mean().round(1).alias("mean_output_tokens"),
        pl.col("trainable_tokens").sum().alias("trainable_tokens"),
    ]
    grouped = (
        frame.group_by(column)
        .agg(aggregations)
        .sort(["examples", column], descending=[True, False])
    )
    rows = [{"group": row.pop(column), **row} for row in grouped.iter_rows(named=True)]
    overall = frame.select(aggregations).row(0, named=True)
    return rows + [{"group": "all", **overall}]
