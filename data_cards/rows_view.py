"""Showing a built mixture's rows in the terminal: kept rows, rejected rows beside the row they
duplicate (looked up by `duplicate_of` among the kept rows, or among the rejected rows when that
row was dropped later), and counts per column. Kept rows are selected by `browse` and `counts`
(data_cards/inspect.py); `instructmix inspect` (flows/commands/inspect.py) calls `inspect_mixture`.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.table import Table

from data_cards.inspect import RowFilter, browse, counts
from instances import InstructmixError
from mixtures.folder import MixtureFolder


def mixture_tables(folder: Path) -> tuple[pa.Table | None, pa.Table | None]:
    """The kept rows (every split) and the rejected rows of a built mixture."""
    mixture = MixtureFolder(folder)
    if not folder.is_dir():
        raise InstructmixError(f"{folder}: no built mixture there; run `instructmix build` first")
    splits = list(mixture.read_splits().values())
    kept = pa.concat_tables(splits, promote_options="default") if splits else None
    return kept, mixture.read_rejected()


def matches_reason(reason: str | None, wanted: str) -> bool:
    """True when `reason` is `wanted` or a sub-reason of it (`contaminated` for `contaminated:x`).

    >>> matches_reason("contaminated:gsm8k", "contaminated"), matches_reason("refusal", "ref")
    (True, False)
    """
    return reason is not None and (reason == wanted or reason.startswith(wanted + ":"))


def select_rows(
    table: pa.Table,
    *,
    reason: str | None = None,
    source: str | None = None,
    task: str | None = None,
    category: str | None = None,
) -> list[dict]:
    """The rows of `table` that match every filter given (None: any)."""
    mask = pa.array([True] * table.num_rows)
    for column, wanted in (("source", source), ("task", task), ("category", category)):
        if wanted is not None:
            mask = pc.and_(mask, pc.equal(table.column(column), wanted))
    rows = table.filter(mask).to_pylist()
    if reason is not None:
        rows = [r for r in rows if matches_reason(r.get("reject_reason"), reason)]
    return rows


def _turns(row: dict, width: int) -> str:
    lines = []
    for turn in row.get("messages") or row.get("prompt", []) + row.get("completion", []):
        content = " ".join(turn["content"].split())
        if len(content) > width:
            content = content[: width - 1] + "…"
        lines.append(f"[bold]{turn['role']}[/bold]: {content}")
    return "\n".join(lines)


def word_jaccard(left: dict, right: dict) -> float:
    """Jaccard similarity of the lower-cased word sets of two rows' turns (a reading aid).

    >>> word_jaccard({"messages": [{"role": "user", "content": "A b c"}]},
    ...              {"messages": [{"role": "user", "content": "a b d"}]})
    0.5
    """

    def words(row: dict) -> set[str]:
        turns = row.get("messages") or row.get("prompt", []) + row.get("completion", [])
        return set(re.findall(r"\w+", " ".join(t["content"] for t in turns).lower()))

    a, b = words(left), words(right)
    return len(a & b) / len(a | b) if a | b else 1.0


def _header(row: dict) -> str:
    text = f"{row['id']}\n{row['source']} / {row['task']} / {row['category']} / {row['lang']}"
    if row.get("reject_reason"):
        text = f"[red]{row['reject_stage']}: {row['reject_reason']}[/red]\n" + text
    return text


def render(
    rows: list[dict], by_id: dict[str, dict], console: Console, width: int, full_meta: bool = False
) -> None:
    """Print each row; a dedup reject beside the row its `duplicate_of` names."""
    for row in rows:
        table = Table(show_header=True, expand=True, show_lines=False)
        table.add_column(_header(row), ratio=1)
        duplicate = row.get("duplicate_of")
        if duplicate:
            other = by_id.get(duplicate)
            where = "not in this mixture's files, e.g. not sampled"
            if other is not None:
                where = "rejected later" if other.get("reject_reason") else "kept"
            similarity = f", word Jaccard {word_jaccard(row, other):.2f}" if other else ""
            table.add_column(f"duplicate of {duplicate} ({where}{similarity})", ratio=1)
            table.add_row(_turns(row, width), _turns(other, width) if other else "")
        else:
            table.add_row(_turns(row, width))
        console.print(table)
        meta = row.get("meta") or {}
        meta = json.loads(meta) if isinstance(meta, str) else meta
        if meta and full_meta:
            console.print("  meta: " + json.dumps(meta, ensure_ascii=False, indent=2), markup=False)
        elif meta:
            console.print(f"  meta: {json.dumps(meta, ensure_ascii=False)[:width]}", markup=False)


def require_built(folder: Path) -> None:
    """Raise `MixtureNotBuilt` (with the command that builds it) unless `folder` is built."""
    MixtureFolder(folder).require_built()


def show_kept(
    folder: Path,
    where: RowFilter,
    *,
    limit: int = 10,
    offset: int = 0,
    width: int = 300,
    full_meta: bool = False,
    console: Console | None = None,
) -> int:
    """Show up to `limit` kept rows matching `where` from `offset`; return how many matched."""
    console = console or Console()
    rows, total = browse(folder, where, limit, offset)
    of = MixtureFolder(folder).count_rows()
    console.print(
        f"[bold]{total:,}[/bold] kept rows match in {folder} (of {of:,}); "
        f"showing {len(rows)} from row {offset + 1:,}"
    )
    render(rows, {}, console, width, full_meta)
    return total


def show_counts(folder: Path, by: str, where: RowFilter, console: Console | None = None) -> None:
    """Print how many kept rows matching `where` each value of the column `by` has."""
    table = Table(title=f"{folder.name}: kept rows by {by}", title_justify="left")
    for column, justify in ((by, "left"), ("rows", "right"), ("share", "right")):
        table.add_column(column, justify=justify)
    for row in counts(folder, by, where):
        table.add_row(str(row[by]), f"{row['rows']:,}", f"{100 * row['share']:.1f}%")
    (console or Console()).print(table)


def inspect_mixture(
    folder: Path,
    *,
    rejected: bool,
    reason: str | None = None,
    source: str | None = None,
    task: str | None = None,
    category: str | None = None,
    limit: int = 10,
    width: int = 300,
    console: Console | None = None,
    split: str | None = None,
    contains: str | None = None,
    offset: int = 0,
    full_meta: bool = False,
    by: str | None = None,
) -> int:
    """Show up to `limit` matching rows of the mixture in `folder`; return how many matched.

    `split`, `contains` and `offset` narrow and page the kept rows only; `by` counts the kept
    rows by a column instead of showing them (and returns 0).
    """
    console = console or Console()
    if rejected and any(option is not None for option in (split, contains, by, offset or None)):
        raise InstructmixError("--split, --contains, --offset and --by apply to kept rows")
    if by is not None:
        require_built(folder)
        show_counts(folder, by, RowFilter(split, source, task, category, contains), console)
        return 0
    if reason is not None and not rejected:
        raise InstructmixError("--reason applies to rejected rows: add --rejected")
    if not rejected:
        require_built(folder)
        where = RowFilter(split, source, task, category, contains)
        return show_kept(
            folder,
            where,
            limit=limit,
            offset=offset,
            width=width,
            full_meta=full_meta,
            console=console,
        )
    kept, dropped = mixture_tables(folder)
    shown_from = dropped if rejected else kept
    if shown_from is None:
        what = "rejected.parquet" if rejected else "data/*.parquet"
        raise InstructmixError(f"{folder}: no {what} in this mixture")
    rows = select_rows(shown_from, reason=reason, source=source, task=task, category=category)
    by_id: dict[str, dict] = {}
    if rejected:
        # Rejected rows first, kept rows last: a kept row wins when an id is in both.
        for table in (dropped, kept):
            if table is not None:
                by_id.update({r["id"]: r for r in table.to_pylist()})
    counts = Counter(r.get("reject_reason") for r in rows) if rejected else Counter()
    kind = "rejected" if rejected else "kept"
    console.print(
        f"[bold]{len(rows):,}[/bold] {kind} rows match in {folder} "
        f"(of {shown_from.num_rows:,}); showing {min(limit, len(rows))}"
    )
    if counts:
        console.print("  by reason: " + ", ".join(f"{r} {n:,}" for r, n in counts.most_common()))
    render(rows[:limit], by_id, console, width)
    return len(rows)
