"""Statistics a card shows, computed from a built mixture folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq


def read_split_files(folder: Path) -> dict[str, pa.Table]:
    """The splits of a built mixture, by name, from its data/ shards."""
    splits: dict[str, list[pa.Table]] = {}
    for path in sorted((folder / "data").glob("*.parquet")):
        split = path.name.split("-")[0]
        splits.setdefault(split, []).append(pq.read_table(path))
    return {name: pa.concat_tables(parts) for name, parts in splits.items()}


def composition(tables: dict[str, pa.Table]) -> list[dict[str, Any]]:
    """Rows, share and mean prompt/response length (characters) per source, over all splits."""
    frames = []
    for table in tables.values():
        if "messages" in table.column_names:
            messages = table.column("messages").to_pylist()
            prompts = [
                sum(len(m["content"]) for m in ms if m["role"] != "assistant") for ms in messages
            ]
            responses = [
                sum(len(m["content"]) for m in ms if m["role"] == "assistant") for ms in messages
            ]
        else:
            prompts = [
                sum(len(m["content"]) for m in ms) for ms in table.column("prompt").to_pylist()
            ]
            responses = [
                sum(len(m["content"]) for m in ms) for ms in table.column("completion").to_pylist()
            ]
        frames.append(
            pl.DataFrame(
                {
                    "source": table.column("source").to_pylist(),
                    "prompt_chars": prompts,
                    "response_chars": responses,
                }
            )
        )
    if not frames:
        return []
    frame = pl.concat(frames)
    total = frame.height
    grouped = (
        frame.group_by("source")
        .agg(
            pl.len().alias("rows"),
            pl.col("prompt_chars").mean().alias("mean_prompt_chars"),
            pl.col("response_chars").mean().alias("mean_response_chars"),
        )
        .sort(["rows", "source"], descending=[True, False])
    )
    return [
        {
            "source": row["source"],
            "rows": row["rows"],
            "share": row["rows"] / total if total else 0.0,
            "mean_prompt_chars": round(row["mean_prompt_chars"], 1),
            "mean_response_chars": round(row["mean_response_chars"], 1),
        }
        for row in grouped.iter_rows(named=True)
    ]


def load_json(folder: Path, name: str) -> Any:
    """A JSON file of the mixture folder, or None when absent."""
    path = folder / name
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
