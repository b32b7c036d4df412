"""What a build run shows in the Prefect UI: funnel and composition tables, the card."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from instances import Report


def artifact_key(*parts: str) -> str:
    """A Prefect artifact key (lowercase letters, digits, dashes) from `parts`.

    >>> artifact_key("tulu_human", "funnel")
    'tulu-human-funnel'
    """
    text = "-".join(parts).lower()
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text)).strip("-")


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
