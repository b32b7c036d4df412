"""The tables a build run shows while it runs: its funnel (in the terminal, and as rows for
Prefect's UI) and the mixture's composition. The card itself is `data_cards.card`."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from rich.console import Console
from rich.table import Table

from instances import Report


def funnel_rows(funnel: list[Report]) -> list[dict[str, Any]]:
    """One row per stage: rows in/out, drops, the top reasons and seconds."""
    return [
        {
            "stage": report.stage,
            "rows_in": report.rows_in,
            "rows_out": report.rows_out,
            "dropped": report.dropped,
            "top_reasons": ", ".join(f"{r} {n}" for r, n in report.top_reasons(3)) or "-",
            "seconds": round(report.seconds, 3),
        }
        for report in funnel
    ]


def composition_rows(splits: dict[str, pa.Table]) -> list[dict[str, Any]]:
    """One row per source of the mixture, as the card's composition table has it (rows, share,
    mean prompt/response length and, where the card code reports them, origin and tasks)."""
    from data_cards import stats

    rows = stats.composition(stats.rows_frame(splits))
    return [dict(row, share=round(row["share"], 4)) for row in rows]


def funnel_table(reports: list[Report], title: str) -> Table:
    """A rich table of the funnel: one line per stage."""
    table = Table(title=title, title_justify="left")
    for column, justify in [
        ("stage", "left"),
        ("rows in", "right"),
        ("rows out", "right"),
        ("top drop reasons", "left"),
        ("seconds", "right"),
    ]:
        table.add_column(column, justify=justify)
    for report in reports:
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in report.top_reasons(3))
        table.add_row(
            report.stage,
            f"{report.rows_in:,}",
            f"{report.rows_out:,}",
            reasons or "-",
            f"{report.seconds:.2f}",
        )
    return table


def print_summary(reports: list[Report], title: str, seconds: float) -> None:
    """Print the funnel table and the total wall time to standard error (every run ends so)."""
    console = Console(stderr=True, width=None if Console(stderr=True).is_terminal else 120)
    console.print(funnel_table(reports, title))
    console.print(f"done in {seconds:.1f}s")
