"""Showing a built mixture's card: rendered in the terminal, as a static HTML page, exported to
a folder; and the plan of a push (the files and their sizes)."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from mixtures.folder import MixtureFolder


def print_card(folder: Path, console: Console) -> None:
    """Print the card of the built mixture in `folder`: its Hub metadata, then the Markdown."""
    from data_cards.html import split_front_matter

    metadata, body = split_front_matter(MixtureFolder(folder).card_path.read_text(encoding="utf-8"))
    if metadata:
        console.print(Panel(Syntax(metadata, "yaml"), title="Hub metadata", expand=False))
    console.print(Markdown(body))


def show_card(folder: Path, *, html: bool, refresh: bool, export: Path | None) -> None:
    """Render the card when asked (or missing), then export it, write its HTML page or print it."""
    from data_cards.card import export_card, write_card  # matplotlib: slow to import
    from data_cards.locked import card_inputs

    mixture = MixtureFolder(folder)
    if refresh or not mixture.card_path.is_file():
        write_card(folder, *card_inputs(folder))
        print(f"rendered {mixture.card_path} and {mixture.plots_dir}/", file=sys.stderr)
    if export is not None:
        copied = export_card(folder, export)
        print(f"exported {len(copied)} files to {export}")
        return
    if html:
        from data_cards.html import write_card_html

        print(f"wrote {write_card_html(folder)}")
        return
    print_card(folder, Console())


def print_plan(plan: list, repo: str) -> None:
    """Print the files a push would upload, with their sizes."""
    table = Table(title=f"dry run: would upload to datasets/{repo}", title_justify="left")
    table.add_column("path in repo")
    table.add_column("bytes", justify="right")
    for item in plan:
        table.add_row(item.path_in_repo, f"{item.size:,}")
    table.add_row(f"{len(plan)} files", f"{sum(i.size for i in plan):,}", style="bold")
    Console(width=120).print(table)
