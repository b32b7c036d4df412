"""What a card cites, declared as data in `references.yaml`: source datasets and method papers.

`mixture_references` looks at the rows of a built mixture (their `source` column and
`meta.hub_id`) and returns the Hub ids of every source dataset (the card's `source_datasets`)
and the references to cite, each with a link and its BibTeX.
"""

from __future__ import annotations

import fnmatch
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import polars as pl
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field

REFERENCES_FILE = Path(__file__).parent / "references.yaml"
HUB_DATASETS = "https://huggingface.co/datasets/"


class Reference(BaseModel):
    """One dataset or paper a card may cite, and which rows make it cited."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["dataset", "method"]
    title: str
    url: str
    bibtex: str
    hub_ids: tuple[str, ...] = Field(default=(), description="its Hub datasets")
    sources: tuple[str, ...] = Field(default=(), description="patterns of rows' source")
    always: bool = Field(default=False, description="cited by every card")


@lru_cache(maxsize=1)
def load_references(path: Path = REFERENCES_FILE) -> dict[str, Reference]:
    """The references declared in `path`, by key (validated)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {key: Reference.model_validate(item) for key, item in data["references"].items()}


def row_signals(tables: dict[str, pa.Table]) -> tuple[set[str], set[str]]:
    """The rows' Hub ids (`meta.hub_id`) and `source` values, over every split."""
    hub_ids: set[str] = set()
    sources: set[str] = set()
    for table in tables.values():
        frame = pl.DataFrame(
            {"meta": table.column("meta").to_pylist(), "source": table.column("source").to_pylist()}
        )
        ids = frame.select(pl.col("meta").str.json_path_match("$.hub_id")).to_series()
        hub_ids |= {value for value in ids.unique().to_list() if value}
        sources |= set(frame["source"].unique().to_list())
    return hub_ids, sources


def _matches(reference: Reference, hub_ids: set[str], sources: set[str]) -> bool:
    if reference.always or hub_ids & set(reference.hub_ids):
        return True
    return any(fnmatch.fnmatchcase(s, p) for s in sources for p in reference.sources)


def mixture_references(tables: dict[str, pa.Table]) -> dict[str, Any]:
    """Citations of a built mixture's splits.

    Returns {"source_datasets": sorted Hub ids of every source dataset (the rows' own, plus
    those of dataset references their `source` triggers), "datasets" and "methods": the
    references to cite ({"key", "title", "url", "bibtex"}), "links": [{"hub_id", "url"}]}.
    """
    hub_ids, sources = row_signals(tables)
    chosen = {key: ref for key, ref in load_references().items() if _matches(ref, hub_ids, sources)}
    source_datasets = set(hub_ids)
    for ref in chosen.values():  # a dataset whose rows carry no hub id (Natural Instructions)
        if ref.kind == "dataset" and _matches(
            ref.model_copy(update={"hub_ids": ()}), set(), sources
        ):
            source_datasets |= set(ref.hub_ids)

    def entries(kind: str) -> list[dict[str, str]]:
        return [
            {"key": key, "title": ref.title, "url": ref.url, "bibtex": ref.bibtex.strip()}
            for key, ref in sorted(chosen.items())
            if ref.kind == kind
        ]

    ordered = sorted(source_datasets)
    return {
        "source_datasets": ordered,
        "datasets": entries("dataset"),
        "methods": entries("method"),
        "links": [{"hub_id": h, "url": HUB_DATASETS + h} for h in ordered],
    }
