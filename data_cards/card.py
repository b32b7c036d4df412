"""Render the data card (README.md with Hub YAML metadata) of a built mixture folder.

`card_data` gathers everything the card shows into one dict; `render_card` fills the Jinja
template `templates/README.md.j2` with it; `write_card` also draws the plots beside the card.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import jinja2
import yaml

from data_cards import licenses as lic
from data_cards import plots, stats
from data_cards.diversity import verb_object_counts
from data_cards.scores import score_sections, selections
from instances import InstructmixError
from instances.io import atomic_directory, write_text_atomic

TEMPLATES = Path(__file__).parent / "templates"
is_non_commercial = lic.is_non_commercial  # kept for callers of the first card module


class CardError(InstructmixError):
    """A mixture folder cannot be carded (missing files); the message names what is missing."""


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
        (10_000_000, "1M<n<10M"),
    ]
    for bound, label in bounds:
        if rows < bound:
            return label
    return "10M<n<100M"


def front_matter(
    name: str, splits: dict[str, int], license_info: dict[str, Any], languages: list[str]
) -> dict:
    """The YAML metadata block the Hub reads: license, languages, sizes, configs/data_files."""
    ids = license_info["ids"] or ["other"]
    meta: dict[str, Any] = {
        "pretty_name": name,
        "license": ids[0] if len(ids) == 1 else ids,
        "language": languages or ["en"],
        "task_categories": ["text-generation", "question-answering"],
        "size_categories": [size_category(sum(splits.values()))],
        "tags": ["instruction-tuning", "sft", "instructmix"]
        + (["non-commercial"] if license_info["non_commercial"] else []),
        "configs": [
            {
                "config_name": "default",
                "data_files": [
                    {"split": split, "path": f"data/{split}-*"} for split in sorted(splits)
                ],
            }
        ],
    }
    if "other" in ids:
        # Unknown or custom terms: the card body's licensing section names them per source.
        meta["license_name"] = "mixture-of-source-licenses"
    return meta


def _languages(frame) -> list[str]:
    if frame.is_empty():
        return []
    return sorted(code for code in frame["lang"].unique().to_list() if code and code != "und")


def card_data(folder: Path, recipe_yaml: str, licenses: list[str]) -> dict[str, Any]:
    """Everything the card template needs, read from the mixture folder.

    `licenses` are the licenses the recipe's generators declare; rows' `meta.license` add the
    per-source detail. Raises `CardError` when the folder has no data/ shards.
    """
    if not any((folder / "data").glob("*.parquet")):
        raise CardError(f"{folder}: no data/*.parquet shards; build the mixture first")
    manifest = stats.load_json(folder, "manifest.json") or {}
    funnel = stats.load_json(folder, "funnel.json") or []
    tables = stats.read_split_files(folder)
    frame = stats.rows_frame(tables)
    splits = {name: table.num_rows for name, table in tables.items()}
    # Generators whose licenses depend on the files read (Natural Instructions) report them.
    licenses = sorted(set(licenses) | set(stats.reported_license_ids(funnel)))
    license_info = lic.mixture_license(lic.row_licenses(tables), licenses)
    categories = stats.tasks_by_category(tables)
    name = manifest.get("name", folder.name)
    recipe = manifest.get("recipe") or {}
    return {
        "name": name,
        "description": " ".join((recipe.get("description") or "").split()),
        "front_matter": yaml.safe_dump(
            front_matter(name, splits, license_info, _languages(frame)),
            sort_keys=False,
            allow_unicode=True,
        ).strip(),
        "splits": splits,
        "total": sum(splits.values()),
        "output_format": recipe.get("output_format", "messages"),
        "columns": next(iter(tables.values())).column_names,
        "composition": stats.composition(frame),
        "datasets": stats.datasets_table(frame),
        "lengths": stats.length_quantiles(frame),
        "funnel": stats.funnel_rows(funnel),
        "decontamination": stats.decontamination(funnel),
        "strata": stats.strata(funnel, frame),
        "scores": score_sections(funnel, tables),
        "selections": selections(funnel),
        "sampling": stats.sampling(funnel),
        "categories": categories,
        "task_total": sum(category["task_count"] for category in categories),
        "templates": stats.templates_by_task(tables),
        "origins": stats.histogram(frame, "origin"),
        "diversity": verb_object_counts(frame["instruction"].to_list() if frame.height else []),
        "samples": stats.samples(tables),
        "manifest": manifest,
        "license": license_info,
        "licenses": sorted({lic.normalize_license(x) for x in licenses}),
        "recipe_yaml": recipe_yaml.strip(),
        "plots": {},
        "_frame": frame,
    }


def _cell(value: Any) -> str:
    """Text safe inside a Markdown table cell: one line, pipes and HTML tags escaped."""
    text = " ".join(str(value).split())
    return text.replace("|", "\\|").replace("<", "&lt;")


def _fence(text: str) -> str:
    """A backtick fence longer than any backtick run inside `text`."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    environment.filters.update(
        cell=_cell,
        fence=_fence,
        num=lambda n: f"{n:,}",
        pct=lambda x: f"{100 * x:.1f}%",
        tojson_pretty=lambda x: json.dumps(x, indent=2, ensure_ascii=False, sort_keys=True),
    )
    return environment


def render_card(data: dict[str, Any]) -> str:
    """The card's Markdown, rendered from templates/README.md.j2 with `data`."""
    public = {key: value for key, value in data.items() if not key.startswith("_")}
    return _environment().get_template("README.md.j2").render(**public)


def write_card(folder: Path, recipe_yaml: str, licenses: list[str]) -> Path:
    """Render the card of the mixture in `folder`: `folder/plots/*.png` and `folder/README.md`."""
    data = card_data(folder, recipe_yaml, licenses)
    data["plots"] = plots.write_plots(folder, data, data["_frame"])
    return write_text_atomic(render_card(data), folder / "README.md")


def export_card(folder: Path, dest: Path) -> list[Path]:
    """Copy the card and its plots of `folder` into `dest` (replaced whole, atomically).

    This is how `data_cards/examples/<recipe>/` is made: the card as the Hub would show it,
    without the data. Returns the copied files, relative to `dest`.
    """
    readme = folder / "README.md"
    if not readme.is_file():
        raise CardError(f"{readme}: no card to export; build the mixture first")
    sources = [readme, *sorted((folder / plots.PLOTS_DIR).glob("*.png"))]
    with atomic_directory(dest) as tmp:
        tmp.chmod(0o755)  # a published folder, not a private temp dir
        for source in sources:
            target = tmp / source.relative_to(folder)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return [source.relative_to(folder) for source in sources]
