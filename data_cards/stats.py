"""Statistics a card shows, computed from a built mixture folder (data/, funnel.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from data_cards.diversity import instruction_text
from instances.io import read_parquet_file

QUANTILES = (0.1, 0.5, 0.9)
DECONTAMINATION_STAGE = "decontaminate"
SAMPLE_STAGE = "sample"


def read_split_files(folder: Path) -> dict[str, pa.Table]:
    """The splits of a built mixture, by name, from its data/ shards."""
    splits: dict[str, list[pa.Table]] = {}
    for path in sorted((folder / "data").glob("*.parquet")):
        split = path.name.split("-")[0]
        splits.setdefault(split, []).append(read_parquet_file(path))
    return {name: pa.concat_tables(parts) for name, parts in splits.items()}


def conversations(table: pa.Table) -> list[list[dict[str, str]]]:
    """The messages of every row, from either output form (messages, or prompt + completion)."""
    if "messages" in table.column_names:
        return table.column("messages").to_pylist()
    prompts = table.column("prompt").to_pylist()
    completions = table.column("completion").to_pylist()
    return [p + c for p, c in zip(prompts, completions, strict=True)]


def row_labels(table: pa.Table) -> list[str]:
    """Per row: the recipe source it was drawn for (`meta.recipe_source`), else its `source`.

    A recipe source (e.g. `flan_tasks`, `few_shot`) is the unit a recipe mixes, as the
    composition tables of the Tulu and LIMA papers show it; one may span many datasets.
    """
    frame = pl.DataFrame(
        {"meta": table.column("meta").to_pylist(), "source": table.column("source").to_pylist()}
    )
    label = pl.col("meta").str.json_path_match("$.recipe_source")
    labels = frame.select(
        pl.when(label.is_null() | (label == "")).then(pl.col("source")).otherwise(label)
    )
    return labels.to_series().to_list()


def rows_frame(tables: dict[str, pa.Table]) -> pl.DataFrame:
    """One line per row of every split: labels, lengths in characters, turns and instruction.

    Columns: split, id, recipe_source (see `row_labels`), source, origin, task, category, lang,
    prompt_chars, response_chars, turns, instruction.
    """
    frames = []
    for split, table in tables.items():
        messages = conversations(table)
        labels = {
            column: table.column(column).to_pylist()
            for column in ("id", "source", "origin", "task", "category", "lang")
        }
        frames.append(
            pl.DataFrame(
                {
                    "split": [split] * table.num_rows,
                    "recipe_source": row_labels(table),
                    **labels,
                    "prompt_chars": [
                        sum(len(m["content"]) for m in ms if m["role"] != "assistant")
                        for ms in messages
                    ],
                    "response_chars": [
                        sum(len(m["content"]) for m in ms if m["role"] == "assistant")
                        for ms in messages
                    ],
                    "turns": [len(ms) for ms in messages],
                    "instruction": [instruction_text(ms) for ms in messages],
                },
                schema_overrides={"prompt_chars": pl.Int64, "response_chars": pl.Int64},
            )
        )
    return pl.concat(frames) if frames else pl.DataFrame()


def composition(data: dict[str, pa.Table] | pl.DataFrame) -> list[dict[str, Any]]:
    """Per recipe source (see `row_labels`), over all splits: rows, share, origin, datasets
    (distinct `source` values), tasks and mean prompt/response length in characters.

    `data` is the splits by name, or their `rows_frame`.
    """
    frame = rows_frame(data) if isinstance(data, dict) else data
    if frame.is_empty():
        return []
    total = frame.height
    grouped = (
        frame.group_by("recipe_source")
        .agg(
            pl.len().alias("rows"),
            pl.col("origin").mode().sort().first().alias("origin"),
            pl.col("source").n_unique().alias("datasets"),
            pl.col("task").n_unique().alias("tasks"),
            pl.col("prompt_chars").mean().alias("mean_prompt_chars"),
            pl.col("response_chars").mean().alias("mean_response_chars"),
        )
        .sort(["rows", "recipe_source"], descending=[True, False])
    )
    return [
        {
            "source": row.pop("recipe_source"),
            **row,
            "share": row["rows"] / total,
            "mean_prompt_chars": round(row["mean_prompt_chars"], 1),
            "mean_response_chars": round(row["mean_response_chars"], 1),
        }
        for row in grouped.iter_rows(named=True)
    ]


def datasets_table(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows and share per dataset (`source` column) with its recipe source, when some recipe
    source spans several datasets; [] otherwise (the composition table says it all)."""
    if frame.is_empty() or frame["source"].n_unique() <= frame["recipe_source"].n_unique():
        return []
    grouped = (
        frame.group_by("recipe_source", "source")
        .len()
        .sort(["len", "source"], descending=[True, False])
    )
    return [
        {"recipe_source": label, "source": source, "rows": n, "share": n / frame.height}
        for label, source, n in grouped.iter_rows()
    ]


def length_quantiles(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Per source (and overall): p10 / median / p90 / max of prompt and response characters."""
    if frame.is_empty():
        return []
    groups = [("all sources", frame)] + [
        (source, frame.filter(pl.col("recipe_source") == source))
        for source in sorted(frame["recipe_source"].unique().to_list())
    ]
    rows = []
    for name, part in groups:
        row: dict[str, Any] = {"source": name, "rows": part.height}
        for column in ("prompt_chars", "response_chars"):
            for q in QUANTILES:
                row[f"{column}_p{int(q * 100)}"] = int(part[column].quantile(q, "nearest"))
            row[f"{column}_max"] = int(part[column].max())
        row["mean_turns"] = round(part["turns"].mean(), 2)
        rows.append(row)
    return rows


def histogram(frame: pl.DataFrame, column: str, top: int = 25) -> list[dict[str, Any]]:
    """Rows per value of `column`, most frequent first (the rest summed as "(other)")."""
    if frame.is_empty():
        return []
    counts = frame.group_by(column).len().sort(["len", column], descending=[True, False])
    rows = [{"value": value, "rows": n} for value, n in counts.iter_rows()]
    if len(rows) > top:
        rest = sum(row["rows"] for row in rows[top:])
        rows = rows[:top] + [{"value": "(other)", "rows": rest}]
    total = frame.height
    return [{**row, "share": row["rows"] / total} for row in rows]


def _stage(funnel: list[dict], name: str) -> dict | None:
    for report in funnel:
        if report.get("stage") == name or report.get("stage", "").startswith(f"{name}:"):
            return report
    return None


def _top(histogram: dict[str, int], top: int) -> list[tuple[str, int]]:
    ranked = sorted(histogram.items(), key=lambda item: (-item[1], str(item[0])))
    if len(ranked) > top:
        ranked = ranked[:top] + [("(other)", sum(n for _, n in ranked[top:]))]
    return ranked


def strata(funnel: list[dict], frame: pl.DataFrame, top: int = 30) -> dict[str, Any]:
    """The stratum histograms of the sample stage, per stratified source (and "mixture").

    The sampler reports extras["strata"] = {group: {"by", "cap", "quality_key", "scored",
    "before": {stratum: rows}, "after": {stratum: rows}}}. Without it (no stratified draw),
    the histogram is the rows per category of the built mixture (the unit of stratification).
    Returns {"from_sampler", "groups": [{"name", "by", "cap", "quality_key", "scored",
    "strata", "rows": [{"value", "before", "after"}]}], "rows": the histogram to plot}.
    """
    report = _stage(funnel, SAMPLE_STAGE) or {}
    reported = (report.get("extras") or {}).get("strata") or {}
    groups = []
    for name, record in reported.items():
        if not isinstance(record, dict) or not isinstance(record.get("after"), dict):
            continue
        before = record.get("before") or {}
        rows = [
            {"value": str(value), "before": before.get(value), "after": n}
            for value, n in _top(record["after"], top)
        ]
        groups.append(
            {
                "name": str(name),
                "by": record.get("by", "?"),
                "cap": record.get("cap"),
                "quality_key": record.get("quality_key"),
                "scored": record.get("scored"),
                "strata": len(record["after"]),
                "rows": rows,
            }
        )
    if not groups:
        return {"from_sampler": False, "groups": [], "rows": histogram(frame, "category")}
    plotted = next((g for g in groups if g["name"] == "mixture"), None) or max(
        groups, key=lambda g: g["strata"]
    )
    total = sum(row["after"] for row in plotted["rows"]) or 1
    return {
        "from_sampler": True,
        "groups": groups,
        "plotted": plotted["name"],
        "rows": [
            {"value": row["value"], "rows": row["after"], "share": row["after"] / total}
            for row in plotted["rows"]
        ],
    }


def sampling(funnel: list[dict]) -> list[dict[str, Any]]:
    """Per source, what the sampler had and drew: available, requested, selected, shortfall."""
    report = _stage(funnel, SAMPLE_STAGE) or {}
    sources = (report.get("extras") or {}).get("sources") or {}
    return [
        {"source": name, **{k: v for k, v in record.items() if isinstance(v, int)}}
        for name, record in sources.items()
        if isinstance(record, dict)
    ]


def _benchmark_rows(benchmarks: Any) -> list[dict[str, Any]]:
    """Rows of the decontamination table from the stage's extras["benchmarks"]:
    {name: {"items", "phrase_items", "rows", "example"}} (the filters/decontaminate shape)."""
    if not isinstance(benchmarks, dict):
        return []
    rows = []
    for name, item in benchmarks.items():
        item = item if isinstance(item, dict) else {"rows": item}
        example = item.get("example")
        if isinstance(example, list | tuple):
            example = " ".join(str(part) for part in example)
        rows.append(
            {
                "benchmark": str(name),
                "checked": item.get("items"),
                "phrase_items": item.get("phrase_items"),
                "matches": int(item.get("rows") or 0),
                "example": example,
            }
        )
    return sorted(rows, key=lambda row: (-row["matches"], row["benchmark"]))


def decontamination(funnel: list[dict]) -> dict[str, Any] | None:
    """Per benchmark: rows dropped as contaminated and an example matching n-gram, from the
    `decontaminate` stage's extras; None when the recipe has no such stage."""
    report = _stage(funnel, DECONTAMINATION_STAGE)
    if report is None:
        return None
    extras = report.get("extras") or {}
    rows = _benchmark_rows(extras.get("benchmarks"))
    settings = {
        k: v for k, v in extras.items() if k != "benchmarks" and isinstance(v, str | int | float)
    }
    return {
        "rows_in": report.get("rows_in", 0),
        "dropped": sum((report.get("dropped_by_reason") or {}).values()),
        "reasons": dict(
            sorted(
                (report.get("dropped_by_reason") or {}).items(),
                key=lambda item: (-item[1], item[0]),
            )
        ),
        "benchmarks": rows,
        "settings": settings,
    }


def funnel_rows(funnel: list[dict]) -> list[dict[str, Any]]:
    """The funnel for the card: per stage rows in/out, kept share, reasons (largest first)."""
    rows = []
    for report in funnel:
        reasons = sorted(
            (report.get("dropped_by_reason") or {}).items(), key=lambda item: (-item[1], item[0])
        )
        rows_in = report.get("rows_in", 0)
        rows.append(
            {
                "stage": report.get("stage", "?"),
                "rows_in": rows_in,
                "rows_out": report.get("rows_out", 0),
                "kept": report.get("rows_out", 0) / rows_in if rows_in else 1.0,
                "reasons": [{"reason": r, "rows": n} for r, n in reasons],
                "seconds": report.get("seconds", 0.0),
            }
        )
    return rows


def samples(
    tables: dict[str, pa.Table], per_source: int = 2, max_chars: int = 600
) -> list[dict[str, Any]]:
    """Up to `per_source` rows per recipe source, each from a different task: the smallest id
    per task, smallest first (stable across rebuilds). Text is cut to `max_chars` per turn.
    Each row's `source` is its recipe source."""
    split = "train" if "train" in tables else next(iter(tables), None)
    if split is None:
        return []
    table = tables[split]
    frame = pl.DataFrame(
        {
            "i": range(table.num_rows),
            "id": table.column("id").to_pylist(),
            "source": row_labels(table),
            "task": table.column("task").to_pylist(),
        }
    )
    firsts = frame.sort("id").group_by("source", "task", maintain_order=True).head(1)
    picked = firsts.group_by("source", maintain_order=True).head(per_source).sort("source", "id")
    chosen = table.take(pa.array(picked["i"].to_list(), pa.int64()))
    rows = []
    for index, messages in enumerate(conversations(chosen)):
        row = {c: chosen.column(c)[index].as_py() for c in ("id", "task", "category")}
        row["source"] = picked["source"][index]
        row["messages"] = [
            {
                "role": m["role"],
                "content": m["content"][:max_chars],
                "cut": len(m["content"]) > max_chars,
            }
            for m in messages
        ]
        row["meta"] = json.loads(chosen.column("meta")[index].as_py() or "{}")
        rows.append(row)
    return rows


def load_json(folder: Path, name: str) -> Any:
    """A JSON file of the mixture folder, or None when absent."""
    path = folder / name
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        from instances import InstructmixError

        detail = getattr(error, "msg", None) or type(error).__name__
        raise InstructmixError(f"{path}: corrupt JSON ({detail}); rebuild the mixture") from None


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


def templates_by_task(tables: dict[str, pa.Table]) -> list[dict[str, Any]]:
    """Per task: rows, distinct templates and rows per variant (T0/FLAN-style `template#variant`).

    Empty when no row's `template` names a variant, so only templated mixtures get the table.
    """
    parts = [
        pl.DataFrame(
            {
                "task": table.column("task").to_pylist(),
                "template": table.column("template").to_pylist(),
            }
        )
        for table in tables.values()
    ]
    if not parts:
        return []
    frame = pl.concat(parts).filter(pl.col("template").str.contains("#", literal=True))
    if frame.is_empty():
        return []
    frame = frame.with_columns(
        pl.col("template").str.replace(r"#[^#]*$", "").alias("base"),
        pl.col("template").str.extract(r"#([^#]*)$").alias("variant"),
    )
    result = []
    for (task,), group in sorted(frame.group_by(["task"]), key=lambda item: str(item[0][0])):
        variants = group.group_by("variant").agg(pl.len().alias("rows")).sort("variant")
        result.append(
            {
                "task": task,
                "rows": group.height,
                "templates": group["base"].n_unique(),
                "variants": {row["variant"]: row["rows"] for row in variants.iter_rows(named=True)},
            }
        )
    return result
