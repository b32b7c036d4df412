"""Browsing the rows of a built mixture: filter by split, source, task, category or text.

Pure functions over the mixture folder that return rows and counts; the CLI (`instructmix
inspect`) prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from data_cards.stats import conversations, read_split_files
from instances import InstructmixError, meta

LABELS = ("source", "task", "category", "origin", "template", "lang")


class InspectError(InstructmixError):
    """A browse request cannot be answered (no such split, or a value that matches nothing)."""


@dataclass(frozen=True)
class RowFilter:
    """Which rows to show: every given field must match exactly; `contains` searches the text."""

    split: str | None = None
    source: str | None = None
    task: str | None = None
    category: str | None = None
    contains: str | None = None


def _frame(folder: Path) -> tuple[pl.DataFrame, dict[str, Any]]:
    tables = read_split_files(folder)
    if not tables:
        raise InspectError(f"{folder}/data: no Parquet shards; build the mixture first")
    frames = []
    for split, table in tables.items():
        texts = ["\n".join(m["content"] for m in ms) for ms in conversations(table)]
        frames.append(
            pl.DataFrame(
                {
                    "split": [split] * table.num_rows,
                    "row": list(range(table.num_rows)),
                    "id": table.column("id").to_pylist(),
                    **{c: table.column(c).to_pylist() for c in LABELS},
                    "text": texts,
                }
            )
        )
    return pl.concat(frames), tables


def _select(frame: pl.DataFrame, where: RowFilter) -> pl.DataFrame:
    for column in ("split", "source", "task", "category"):
        value = getattr(where, column)
        if value is None:
            continue
        known = frame[column].unique().to_list()
        if value not in known:
            shown = ", ".join(sorted(map(str, known))[:12])
            more = " ..." if len(known) > 12 else ""
            raise InspectError(f"--{column} {value!r}: no such {column}; known: {shown}{more}")
        frame = frame.filter(pl.col(column) == value)
    if where.contains:
        frame = frame.filter(pl.col("text").str.contains(where.contains, literal=True))
    return frame


def browse(
    folder: Path, where: RowFilter | None = None, limit: int = 5, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Rows of the mixture in `folder` that match `where`, from `offset`, at most `limit`.

    Returns (rows, total matching). Each row has split, id, the label columns, `messages`
    (the whole conversation, whatever the output form) and `meta` (parsed JSON).
    """
    if limit < 0 or offset < 0:
        raise InspectError("--limit and --offset must be zero or more")
    frame, tables = _frame(folder)
    selected = _select(frame, where or RowFilter())
    page = selected.slice(offset, limit)
    rows = []
    for split, index in page.select("split", "row").iter_rows():
        table = tables[split].slice(index, 1)
        row = {"split": split, "id": table.column("id")[0].as_py()}
        row.update({c: table.column(c)[0].as_py() for c in LABELS})
        row["messages"] = conversations(table)[0]
        row["meta"] = meta.loads(table.column("meta")[0].as_py())
        rows.append(row)
    return rows, selected.height


def counts(
    folder: Path, by: str = "source", where: RowFilter | None = None
) -> list[dict[str, Any]]:
    """Rows per value of the label column `by` among the rows matching `where`, largest first."""
    if by not in (*LABELS, "split"):
        raise InspectError(f"--by {by!r}: expected one of split, {', '.join(LABELS)}")
    frame, _ = _frame(folder)
    selected = _select(frame, where or RowFilter())
    grouped = selected.group_by(by).len().sort(["len", by], descending=[True, False])
    total = selected.height or 1
    return [{by: value, "rows": n, "share": n / total} for value, n in grouped.iter_rows()]
