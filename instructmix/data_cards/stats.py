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


def row_labels(table: pa.Table) -> list[str]:
    """Per row: the recipe source it was drawn for (`meta.recipe_source`), else its `source`.

    A recipe source (e.g. `flan_tasks`, `few_shot`) is the unit a recipe mixes, as the
    composition tables of the Tulu and LIMA papers show it; one may span many datasets.
    """
    labels = []
    for meta, source in zip(
        table.column("meta").to_pylist(), table.column("source").to_pylist(), strict=True
    ):
        label = json.loads(meta).get("recipe_source") if '"recipe_source"' in meta else None
        labels.append(label if isinstance(label, str) and label else source)
    return labels


def composition(tables: dict[str, pa.Table]) -> list[dict[str, Any]]:
    """Rows, share and mean prompt/response length (characters) per recipe source (see
    `row_labels`), over all splits."""
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
                    "source": row_labels(table),
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


def tasks_by_category(
    tables: dict[str, pa.Table], max_tasks_shown: int = 50
) -> list[dict[str, Any]]:
    """Rows per category and, within each, rows per task (from the `task`/`category` columns).

    Categories come largest first; each lists at most `max_tasks_shown` tasks (largest first)
    and how many more it has.
    """
    parts = [
        pl.DataFrame(
            {
                "category": table.column("category").to_pylist(),
                "task": table.column("task").to_pylist(),
            }
        )
        for table in tables.values()
    ]
    if not parts:
        return []
    counts = pl.concat(parts).group_by(["category", "task"]).agg(pl.len().alias("rows"))
    result = []
    for (category,), group in sorted(
        counts.group_by(["category"]),
        key=lambda item: (-int(item[1]["rows"].sum()), str(item[0][0])),
    ):
        tasks = group.sort(["rows", "task"], descending=[True, False])
        result.append(
            {
                "category": category,
                "rows": int(tasks["rows"].sum()),
                "task_count": tasks.height,
                "tasks": [
                    {"task": row["task"], "rows": row["rows"]}
                    for row in tasks.head(max_tasks_shown).iter_rows(named=True)
                ],
                "more_tasks": max(0, tasks.height - max_tasks_shown),
            }
        )
    return result


def reported_license_ids(funnel: list[dict[str, Any]]) -> list[str]:
    """License ids that generators found in the data they read (`extras.license_ids`)."""
    found = set()
    for report in funnel:
        ids = (report.get("extras") or {}).get("license_ids") or []
        found.update(str(license_id) for license_id in ids)
    return sorted(found)
