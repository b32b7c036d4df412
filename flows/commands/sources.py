"""`instructmix sources` (every source and its template count) and `instructmix preview`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from flows.settings import resolve_mirror
from generators import existing
from generators.templated import generator as templated
from generators.templated.tasks import TASKS
from generators.templated.templates import TemplateError, load_template_set
from instances import InstructmixError
from instances.context import StageContext
from instances.sources import PublicSource
from mixtures.eval_splits import split_role

MIRROR_OPTION = typer.Option(
    None, "--mirror", help="local mirror of the public data (default: $INSTRUCTMIX_MIRROR)"
)


def template_count(task: str, mirror: Path | None) -> int | None:
    """Templates a task has (None when its promptsource sets need a mirror that is absent)."""
    try:
        return sum(len(load_template_set(name, mirror)) for name in TASKS[task].template_sets)
    except TemplateError:
        return None


def source_table(mirror: Path | None) -> Table:
    """A table of every source: templated tasks (with template counts) and existing sets.

    The last column says whether the source's file is in the mirror (blank without a mirror).
    """
    table = Table(title="instructmix sources")
    columns = ("source", "category", "templates", "template sets", "hub id", "split", "mirror")
    for column in columns:
        table.add_column(column, overflow="fold")

    def present(public: PublicSource) -> str:
        return "" if mirror is None else ("yes" if public.mirror_file(mirror).is_file() else "no")

    def split(public: PublicSource) -> str:  # eval: kept out unless allow_eval_splits
        return f"{public.hub_split} ({split_role(public.hub_split)})"

    for name, task in TASKS.items():
        count = template_count(name, mirror)
        table.add_row(
            name,
            task.category,
            "?" if count is None else str(count),
            ", ".join(task.template_sets),
            task.source.hub_id if task.hub_loadable else "(mirror only)",
            split(task.source),
            present(task.source),
        )
    for name, (public, _origin, category) in existing.DATASETS.items():
        table.add_row(
            name, category, "0", "(existing set)", public.hub_id, split(public), present(public)
        )
    return table


def render_check_table(mirror: Path | None, rows: int, seed: int = 0) -> Table:
    """Per template set: (template, row) pairs over `rows` rows per task, how many render."""
    config = templated.Config(templates="all", max_rows_per_task=rows)
    report = templated.generate(config, StageContext(mirror=mirror, seed=seed)).report
    reasons: dict[str, Counter[str]] = {}
    for entry in report.extras["render"].values():
        reasons.setdefault(entry["template_set"], Counter()).update(entry["reasons"])
    table = Table(title=f"templates rendered on {rows} rows per task")
    for column in ("template set", "pairs", "rendered", "share", "failures by reason"):
        table.add_column(column, overflow="fold")
    for name, share in report.extras["render_share"].items():
        failures = ", ".join(f"{r}: {n}" for r, n in sorted(reasons.get(name, {}).items()))
        table.add_row(
            name,
            str(share["pairs"]),
            str(share["rendered"]),
            f"{100 * share['share']:.1f}%",
            failures or "-",
        )
    table.add_row(
        "total",
        str(report.rows_in),
        str(report.rows_out),
        f"{100 * report.rows_out / max(1, report.rows_in):.1f}%",
        "",
    )
    return table


def _show(console: Console, row: dict, number: int) -> None:
    meta = json.loads(row["meta"])
    console.rule(
        f"[bold]{number}. {row['template']}[/]  ({row['category']}, row {meta.get('row')})"
    )
    for message in row["messages"]:
        console.print(f"[bold cyan]{message['role']}:[/]")
        console.print(message["content"], markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add `sources` and `preview` to `app`."""

    @app.command()
    def sources(
        mirror: str | None = MIRROR_OPTION,
        check: int = typer.Option(
            0, "--check", min=0, max=100_000, help="also render every template on N rows per task"
        ),
    ) -> None:
        """List every source with its category and template count (--check N: render shares)."""
        resolved = resolve_mirror(mirror)
        console = Console()
        console.print(source_table(resolved))
        if check:
            console.print(render_check_table(resolved, check))

    @app.command()
    def preview(
        source: str = typer.Argument(..., help="a source name from `instructmix sources`"),
        n: int = typer.Option(5, "--n", min=1, max=1000, help="instances to print"),
        variant: list[str] = typer.Option(
            ["zs_noopt"], "--variant", help="zs_opt, zs_noopt, fs or cot (repeatable)"
        ),
        k: int = typer.Option(3, "--k", min=1, max=16, help="exemplars for the fs variant"),
        seed: int = typer.Option(0, "--seed", help="sampling seed"),
        mirror: str | None = MIRROR_OPTION,
    ) -> None:
        """Print N rendered instances of SOURCE (one random template per row)."""
        ctx = StageContext(mirror=resolve_mirror(mirror), seed=seed)
        if source in TASKS:
            config = templated.Config(
                tasks=[source], variants=variant, k=k, max_rows_per_task=4 * n
            )
            result = templated.generate(config, ctx)
        elif source in existing.DATASETS:
            result = existing.generate(existing.Config(dataset=source), ctx)
        else:
            known = ", ".join([*TASKS, *existing.DATASETS])
            raise InstructmixError(f"unknown source {source!r}; known sources: {known}")
        console = Console()
        for number, row in enumerate(result.kept.slice(0, n).to_pylist(), start=1):
            _show(console, row, number)
        report = result.report
        console.print(
            f"[dim]{report.rows_out} of {report.rows_in} rendered from the sampled rows; "
            f"dropped: {report.dropped_by_reason or 'none'}[/]"
        )
