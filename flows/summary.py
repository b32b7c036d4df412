"""The short summary every run ends with: rows in and out per stage, top reasons, time."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from instances import Report


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
    """Print the funnel table and the total wall time to standard error."""
    console = Console(stderr=True, width=None if Console(stderr=True).is_terminal else 120)
    console.print(funnel_table(reports, title))
    console.print(f"done in {seconds:.1f}s")
