"""`instructmix recipes`: every recipe the CLI can build by name, and where it was found."""

from __future__ import annotations

from rich.console import Console

from mixtures.recipe_search import print_recipes


def recipes() -> None:
    """List every recipe and where it was found (INSTRUCTMIX_RECIPES, ./recipes, packaged)."""
    print_recipes(Console(width=160))
