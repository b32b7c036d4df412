"""What a build run shows in the Prefect UI: funnel and composition tables (rows from
`data_cards.run_tables`), the card."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from slugify import slugify  # Prefect's own dependency for keys and names

from data_cards.run_tables import composition_rows, funnel_rows
from instances import Report


def publish_artifacts(
    name: str, funnel: list[Report], splits: dict[str, pa.Table], card_path: Path
) -> dict[str, str]:
    """Create the funnel and composition table artifacts and the card Markdown artifact.

    Returns the keys created (lowercase letters, digits and dashes, as Prefect wants), by kind.
    """
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    keys = {
        "funnel": slugify(f"{name}-funnel"),
        "composition": slugify(f"{name}-composition"),
        "card": slugify(f"{name}-card"),
    }
    create_table_artifact(
        funnel_rows(funnel), key=keys["funnel"], description=f"{name}: rows in and out per stage"
    )
    create_table_artifact(
        composition_rows(splits),
        key=keys["composition"],
        description=f"{name}: rows and lengths per source",
    )
    from data_cards.metadata import artifact_markdown

    create_markdown_artifact(
        artifact_markdown(Path(card_path).read_text(encoding="utf-8"), Path(card_path).parent),
        key=keys["card"],
        description=f"{name}: data card (README.md)",
    )
    return keys
