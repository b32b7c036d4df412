"""`instructmix build NAME`: build a named recipe into artifacts/mixtures/NAME."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the build commands to `app`."""

    @app.command()
    def build(name: str = typer.Argument(..., help="recipe name or path to a recipe YAML")) -> None:
        """Build the recipe NAME into artifacts/mixtures/NAME."""
        raise typer.Exit(2)  # filled in by the walking skeleton
