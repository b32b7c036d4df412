"""Render the data card (README.md with Hub YAML metadata) of a built mixture folder.

`card_data` gathers everything the card shows into one dict; `render_card` fills the Jinja
template `templates/README.md.j2` with it; `write_card` also draws the plots beside the card.
"""

from __future__ import annotations

import json
import re
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as metadata_version
from pathlib import Path
from typing import Any

import jinja2

from data_cards import licenses as lic
from data_cards import plots, stats, token_stats
from data_cards.diversity import verb_object_counts
from data_cards.metadata import card_metadata
from data_cards.references import mixture_references
from data_cards.scores import score_sections, selections
from data_cards.self_instruct import self_instruct_sections
from instances import InstructmixError
from instances.checksums import refresh_seal
from instances.io import write_text_atomic
from mixtures.eval_splits import eval_datasets
from mixtures.folder import MixtureFolder
from mixtures.tokenizer import describe

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


def _languages(frame) -> list[str]:
    if frame.is_empty():
        return []
    return sorted(code for code in frame["lang"].unique().to_list() if code and code != "und")


def reproduce_command(name: str) -> str:
    """The build command that rebuilds mixture `name` (`--limit N` for a NAME-limitN build).

    >>> reproduce_command("demo-limit20")
    'instructmix build demo --limit 20'
    """
    scaled = re.fullmatch(r"(.+)-limit(\d+)", name)
    if scaled:
        return f"instructmix build {scaled.group(1)} --limit {scaled.group(2)}"
    return f"instructmix build {name}"


def card_data(folder: Path, recipe_yaml: str, licenses: list[str]) -> dict[str, Any]:
    """Everything the card template needs, read from the mixture folder.

    `licenses` are the licenses the recipe's generators declare; rows' `meta.license` add the
    per-source detail. Raises `CardError` when the folder has no data/ shards.
    """
    mixture = MixtureFolder(Path(folder))
    if not mixture.is_built():
        raise CardError(f"{folder}: no data/*.parquet shards; build the mixture first")
    manifest = mixture.manifest()
    funnel = mixture.funnel()
    tables = stats.read_split_files(folder)
    frame = token_stats.with_tokens(stats.rows_frame(tables), token_stats.load_tokens(folder))
    splits = {name: table.num_rows for name, table in tables.items()}
    # Generators whose licenses depend on the files read (Natural Instructions) report them.
    licenses = sorted(set(licenses) | set(stats.reported_license_ids(funnel)))
    license_info = lic.mixture_license(lic.row_licenses(tables), licenses)
    categories = stats.tasks_by_category(tables)
    name = manifest.get("name", folder.name)
    recipe = manifest.get("recipe") or {}
    references = mixture_references(tables)
    origins = frame["origin"].unique().to_list() if frame.height else []
    metadata = card_metadata(
        name,
        splits,
        license_info,
        _languages(frame),
        origins,
        references["source_datasets"],
        size_category(sum(splits.values())),
    )
    length_by = ((recipe.get("card") or {}).get("length_table_by")) or "source"
    return {
        "name": name,
        "description": " ".join((recipe.get("description") or "").split()),
        "front_matter": metadata.to_yaml().strip(),
        "pretty_name": metadata.pretty_name,
        "references": references,
        "eval_splits": eval_datasets(tables),
        "version": lock_version(manifest),
        "tokenizer": describe((manifest.get("tokenizer") or {}).get("name") or "unknown"),
        "token_totals": token_stats.totals(frame),
        "length_table": token_stats.length_table(frame, length_by),
        "length_table_by": length_by,
        "splits": splits,
        "total": sum(splits.values()),
        "output_format": recipe.get("output_format", "messages"),
        "columns": next(iter(tables.values())).column_names,
        "composition": _with_tokens(stats.composition(frame), token_stats.per_source(frame)),
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
        "self_instruct": self_instruct_sections(funnel),
        "manifest": manifest,
        "license": license_info,
        "licenses": sorted({lic.normalize_license(x) for x in licenses}),
        "recipe_yaml": recipe_yaml.strip(),
        "reproduce": reproduce_command(name),
        "plots": {},
        "_frame": frame,
    }


def lock_version(manifest: dict[str, Any]) -> str:
    """The instructmix version that built the mixture (from the lock), else the installed one."""
    version = (manifest.get("packages") or {}).get("instructmix")
    if version and version != "not installed":
        return version
    try:
        return metadata_version("instructmix")
    except PackageNotFoundError:
        return "unknown"


def _with_tokens(rows: list[dict[str, Any]], tokens: dict[str, dict]) -> list[dict[str, Any]]:
    return [{**row, **tokens.get(row["source"], {})} for row in rows]


def _cell(value: Any) -> str:
    """Text safe inside a Markdown table cell: one line, pipes and HTML tags escaped."""
    text = " ".join(str(value).split())
    return text.replace("|", "\\|").replace("<", "&lt;")


def _no_absolute_path(path: str) -> str:
    """A path fit for a published card: paths inside the mirror stay, absolute ones (a file
    outside the mirror, on the machine that built it) keep only their file name.

    >>> _no_absolute_path("/home/me/data/x.json"), _no_absolute_path("lima/lima.json")
    ('…/x.json', 'lima/lima.json')
    """
    return f"…/{Path(path).name}" if Path(path).is_absolute() else path


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
        local_path=_no_absolute_path,
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
    written = write_text_atomic(render_card(data), MixtureFolder(Path(folder)).card_path)
    refresh_seal(folder)  # a re-rendered card of a sealed mixture: re-seal the card only
    return written


def export_card(folder: Path, dest: Path) -> list[Path]:
    """Copy the card and its plots of `folder` into `dest` (see `data_cards.export`).

    This is how `data_cards/examples/<recipe>/` is made: the card as the Hub would show it,
    without the data. Returns the copied files, relative to `dest`.
    """
    from data_cards.export import export_files

    manifest = stats.load_json(folder, "manifest.json") or {}
    return export_files(folder, dest, manifest.get("name", folder.name))
