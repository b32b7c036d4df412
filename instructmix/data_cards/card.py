"""Render the data card (README.md with Hub YAML metadata) of a built mixture folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import yaml

from instructmix.data_cards.stats import (
    composition,
    load_json,
    read_split_files,
    reported_license_ids,
    tasks_by_category,
)
from instructmix.instances.io import write_text_atomic

TEMPLATES = Path(__file__).parent / "templates"
NON_COMMERCIAL = ("-nc-", "-nc")


def size_category(rows: int) -> str:
    """The Hub's size_categories bucket for a row count.

    >>> size_category(1200)
    '1K<n<10K'
    """
    bounds = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ]
    for bound, label in bounds:
        if rows < bound:
            return label
    return "1M<n<10M"


def is_non_commercial(license_id: str) -> bool:
    """True for Creative Commons NonCommercial licenses (cc-by-nc-*)."""
    return "-nc" in license_id.lower()


def front_matter(
    name: str, splits: dict[str, int], licenses: list[str], languages: list[str]
) -> dict:
    """The YAML metadata block the Hub reads: license, languages, sizes, configs/data_files."""
    total = sum(splits.values())
    known = [lic for lic in licenses if lic and lic != "unknown"]
    return {
        "pretty_name": name,
        "license": known[0] if len(known) == 1 else (known or ["other"]),
        "language": languages or ["en"],
        "task_categories": ["text-generation"],
        "size_categories": [size_category(total)],
        "tags": ["instruction-tuning", "sft", "instructmix"],
        "configs": [
            {
                "config_name": "default",
                "data_files": [
                    {"split": split, "path": f"data/{split}-*"} for split in sorted(splits)
                ],
            }
        ],
    }


def card_data(folder: Path, recipe_yaml: str, licenses: list[str]) -> dict[str, Any]:
    """Everything the card template needs, read from the mixture folder."""
    manifest = load_json(folder, "manifest.json") or {}
    funnel = load_json(folder, "funnel.json") or []
    tables = read_split_files(folder)
    splits = {name: table.num_rows for name, table in tables.items()}
    languages = sorted({lang for t in tables.values() for lang in t.column("lang").to_pylist()})
    name = manifest.get("name", folder.name)
    # Generators whose licenses depend on the files read (Natural Instructions) report them.
    licenses = sorted(set(licenses) | set(reported_license_ids(funnel)))
    categories = tasks_by_category(tables)
    return {
        "name": name,
        "front_matter": yaml.safe_dump(
            front_matter(name, splits, licenses, languages), sort_keys=False, allow_unicode=True
        ).strip(),
        "splits": splits,
        "total": sum(splits.values()),
        "composition": composition(tables),
        "categories": categories,
        "task_total": sum(category["task_count"] for category in categories),
        "funnel": funnel,
        "manifest": manifest,
        "licenses": licenses,
        "non_commercial": any(is_non_commercial(lic) for lic in licenses),
        "recipe_yaml": recipe_yaml.strip(),
    }


def render_card(data: dict[str, Any]) -> str:
    """The card's Markdown, rendered from templates/README.md.j2 with `data`."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("README.md.j2").render(**data)


def write_card(folder: Path, recipe_yaml: str, licenses: list[str]) -> Path:
    """Render the card of the mixture in `folder` and write it as `folder/README.md`."""
    return write_text_atomic(
        render_card(card_data(folder, recipe_yaml, licenses)), folder / "README.md"
    )
