"""The built-in instruction sets (Stanford Alpaca, Code Alpaca, GPT-4-LLM, Self-Instruct's
GPT-3 generations, LIMA) as named presets of the dataset spec, declared as data in
`presets.yaml` (Hub id, mirror path, format, origin, category, license).

`{kind: existing, dataset: lima}` reads the preset's mirror file when a mirror is given, else
its Hub dataset, through the same converters as `kind: dataset`.

Reject reasons: those of `generators/dataset.py` (`missing_field`, `empty_turn`, ...).
"""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field

from generators.dataset import result
from instances import StageResult, meta
from instances.context import StageContext
from instances.dataset_rows import Labels, convert_rows
from instances.dataset_spec import DataFormat, DatasetSpec, Origin
from instances.errors import SourceError
from instances.formats import RowReject
from instances.formats import row_messages as convert_row
from instances.formats.alpaca import alpaca_prompt
from instances.sources import PublicSource

__all__ = ["DATASETS", "PRESETS", "Config", "Preset", "alpaca_prompt", "generate", "row_messages"]

STAGE = "generate"
MISSING_FIELD = "missing_field"
EMPTY_TURN = "empty_turn"
PRESETS_FILE = Path(__file__).with_name("presets.yaml")


class Preset(BaseModel):
    """One built-in set: where it lives (Hub and mirror), its format and its labels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hub: str
    config: str | None = None
    split: str = "train"
    mirror_path: str
    format: DataFormat = Field(description="the layout of the Hub dataset")
    mirror_format: DataFormat | None = Field(default=None, description="the mirror file's")
    origin: Origin
    category: str
    license: str
    template: str
    keep_columns: tuple[str, ...] = ()
    category_from: str | None = Field(
        default=None, description="a kept column that, where a row has it, is its category"
    )

    def spec(self, name: str, mirror: Path | None) -> DatasetSpec:
        """The dataset spec of this preset: the mirror file when `mirror` is given, else the Hub."""
        labels: dict[str, Any] = {
            "origin": self.origin,
            "task": name,
            "category": self.category,
            "license": self.license,
        }
        if mirror is not None:
            path = str(Path(mirror) / self.mirror_path)
            return DatasetSpec(path=path, format=self.mirror_format or self.format, **labels)
        return DatasetSpec(
            hub=self.hub, config=self.config, split=self.split, format=self.format, **labels
        )


@cache
def load_presets(path: Path = PRESETS_FILE) -> dict[str, Preset]:
    """The preset table (name -> `Preset`) declared in `path`."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {name: Preset.model_validate(entry) for name, entry in data.items()}


PRESETS: dict[str, Preset] = load_presets()
DatasetName = Literal[tuple(PRESETS)]  # type: ignore[valid-type]

# name -> (public file, origin, category): the table `instructmix sources` shows.
DATASETS: dict[str, tuple[PublicSource, str, str]] = {
    name: (
        PublicSource(
            name=name,
            hub_id=p.hub,
            hub_config=p.config,
            hub_split=p.split,
            mirror_path=p.mirror_path,
            format="json",
            license=p.license,
        ),
        p.origin,
        p.category,
    )
    for name, p in PRESETS.items()
}


class Config(BaseModel):
    """A built-in instruction set, by name (see `presets.yaml`)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["existing"] = "existing"
    dataset: DatasetName  # type: ignore[valid-type]


def row_messages(row: dict[str, Any]) -> list[dict[str, str]] | None:
    """Messages of one Alpaca-format, LIMA (`conversations`) or prompt/completion row, or None
    when the row cannot become a conversation."""
    fmt = "alpaca"
    if isinstance(row.get("conversations"), list):
        fmt = "sharegpt"
    elif "prompt" in row and "completion" in row:
        fmt = "prompt_completion"
    try:
        return convert_row(fmt, row, lambda field: field)
    except RowReject:
        return None


def row_category(record: dict[str, Any], default: str) -> str:
    """A row's category: LIMA's own `source` (Stack Exchange, wikiHow, ...) when the row has
    one (the Hub format does), so a card can show LIMA's per-source table; else `default`.

    >>> row_category({"source": "wikihow"}, "conversation"), row_category({}, "general")
    ('wikihow', 'general')
    """
    source = record.get("source")
    return source.strip() if isinstance(source, str) and source.strip() else default


def generate(config: Config, ctx: StageContext) -> StageResult:
    """Formatted instances of one built-in set; rows that cannot become one rejected by reason.

    Columns written: all of the schema; `meta` carries license, hub id and the row index.
    """
    started = time.perf_counter()
    preset = PRESETS[config.dataset]
    spec = preset.spec(config.dataset, ctx.mirror)
    if spec.path is not None and Path(spec.path).is_dir():
        raise SourceError(f"{spec.path}: is a folder, expected a file")
    if spec.path is not None and not Path(spec.path).is_file():
        raise SourceError(f"{spec.path}: file not found in the mirror")
    labels = Labels(
        source=config.dataset,
        origin=preset.origin,
        template=preset.template,
        meta={"license": preset.license, "hub_id": preset.hub},
        keep_columns=preset.keep_columns,
    )
    made = result(convert_rows(spec, labels, record_file=False), started)
    if preset.category_from is None:
        return made
    return StageResult(
        category_from_meta(made.kept, preset.category_from, preset.category),
        made.rejected,
        made.report,
    )


def category_from_meta(table: pa.Table, key: str, default: str) -> pa.Table:
    """`table` with each row's category taken from its kept column `meta[key]` (LIMA's
    `source`: Stack Exchange, wikiHow, ...) where the row has one, else `default`."""
    values = meta.strings(table.column("meta"), key)
    categories = [row_category({"source": value}, default) for value in values]
    index = table.schema.get_field_index("category")
    return table.set_column(index, "category", pa.array(categories, pa.string()))


def inputs(config: Config, ctx: StageContext) -> list[Path]:
    """The mirror files `generate` reads for `config` (empty when reading from the Hub)."""
    if ctx.mirror is None:
        return []
    return [Path(ctx.mirror) / PRESETS[config.dataset].mirror_path]


def licenses(config: Config) -> list[str]:
    """Licenses of the data `config` produces."""
    return [PRESETS[config.dataset].license]
