"""`instructmix recipes`: every recipe the CLI can build by name, and where it was found."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from mixtures.recipe_search import list_recipes, search_folders


def recipes_table() -> Table:
    """A table of every recipe in search order: name, where it was found, its file."""
    table = Table(title="instructmix recipes (first found wins)")
    for column in ("recipe", "found in", "file"):
        table.add_column(column, overflow="fold")
    for entry in list_recipes():
        name = f"{entry.name} (shadowed)" if entry.shadowed else entry.name
        table.add_row(name, entry.where, str(entry.path))
    return table


def recipes() -> None:
    """List every recipe and where it was found (INSTRUCTMIX_RECIPES, ./recipes, packaged)."""
    console = Console(width=160)
    console.print(recipes_table())
    searched = ", ".join(f"{label}: {folder}" for folder, label in search_folders())
    console.print(f"searched, in order: {searched}")
