"""What a build run shows in the Prefect UI: funnel and composition tables (rows from
`data_cards.run_tables`), the card."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

from data_cards.run_tables import composition_rows, funnel_rows
from instances import Report


def artifact_key(*parts: str) -> str:
    """A Prefect artifact key (lowercase letters, digits, dashes) from `parts`.

    >>> artifact_key("tulu_human", "funnel")
    'tulu-human-funnel'
    """
    text = "-".join(parts).lower()
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text)).strip("-")


def publish_artifacts(
    name: str, funnel: list[Report], splits: dict[str, pa.Table], card_path: Path
) -> dict[str, str]:
    """Create the funnel and composition table artifacts and the card Markdown artifact.

    Returns the keys created, by kind.
    """
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    keys = {
        "funnel": artifact_key(name, "funnel"),
        "composition": artifact_key(name, "composition"),
        "card": artifact_key(name, "card"),
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
