"""Any dataset, local or on the Hub, in a declared format: `kind: dataset` plus a dataset spec.

    generator:
      kind: dataset
      path: data/chats.jsonl        # or hub: HuggingFaceTB/smoltalk (config, split, revision)
      format: messages              # messages | sharegpt | alpaca | prompt_completion |
                                    # natural_instructions | columns
      origin: human
      category_column: source

Columns written: all of the schema. `source` is the Hub id or the file/folder name, `template`
`dataset/<format>`; `meta` has the license, where the row came from (`hub`, `config`,
`revision` or `file`) and its index (`row`), and every column the format does not read.

Reject reasons: `missing_field`, `non_string_content`, `unknown_role`, `bad_turn`,
`empty_turn`, `no_user_turn`, `no_assistant_last` (instances/formats/common.py). The report's
extras list, per reason, the first rejected row indices (`rejected_rows`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from instances import StageResult, make_table
from instances.context import StageContext
from instances.dataset_files import location_batches, location_files
from instances.dataset_rows import Converted, Labels, convert_rows, converted_batches
from instances.dataset_spec import DatasetSpec, Origin
from instances.rejected import split_rows

STAGE = "generate"


class Config(DatasetSpec):
    """A dataset spec as a recipe source (`origin` is required here)."""

    kind: Literal["dataset"] = "dataset"
    origin: Origin = Field(
        description="where the rows come from: human, distilled, self_instruct, public_task "
        "or crowdsourced_schema"
    )


def provenance(spec: DatasetSpec) -> dict[str, Any]:
    """The meta keys that say where a spec's rows came from (and their license)."""
    meta: dict[str, Any] = {"license": spec.license}
    if spec.hub is not None:
        meta.update(hub=spec.hub, config=spec.config, split=spec.split, revision=spec.revision)
    return meta


def result(converted: Converted, started: float) -> StageResult:
    """The stage result of converted rows: kept, rejected by reason, report with row indices."""
    extras = {"rejected_rows": converted.rejected_rows} if converted.rejected_rows else {}
    return split_rows(
        make_table(converted.rows),
        STAGE,
        converted.reasons,
        seconds=time.perf_counter() - started,
        extras=extras,
    )


def generate(config: Config, ctx: StageContext) -> StageResult:
    """Formatted instances of the spec's rows; rows that cannot become one rejected by reason."""
    started = time.perf_counter()
    return result(convert_rows(config, labels_of(config)), started)


def labels_of(config: Config) -> Labels:
    """The labels every instance of `config` gets."""
    return Labels(
        source=config.label,
        origin=config.origin,
        template=f"dataset/{config.format}",
        meta=provenance(config),
    )


def generate_rows(config: Config, file: str, rows: list[dict], first_row: int) -> StageResult:
    """`generate` of one piece of file `file`: its `rows`, the first being row `first_row`
    of the spec (over all its files); `rejected_rows` counts this piece only."""
    started = time.perf_counter()
    sources = [(file, rows)]
    converted = next(converted_batches(config, labels_of(config), sources, first_row=first_row))
    return result(converted, started)


def generate_batches(config: Config, ctx: StageContext, batch_rows: int) -> Iterator[StageResult]:
    """`generate` a batch of about `batch_rows` instances at a time, reading local files
    piece by piece (`instances.dataset_files.location_batches`): the same rows in the same
    order. Each batch's report counts its own rows; `rejected_rows` in the last one covers
    all batches."""
    started = time.perf_counter()
    sources = location_batches(config, batch_rows)
    batches = converted_batches(config, labels_of(config), sources, batch_rows=batch_rows)
    for converted in batches:
        yield result(converted, started)
        started = time.perf_counter()


def inputs(config: Config, ctx: StageContext) -> list[Path]:
    """The local files read (a Hub dataset has none; its id and revision are in the recipe)."""
    return location_files(config)


def licenses(config: Config) -> list[str]:
    """The license the spec declares."""
    return [config.license]
