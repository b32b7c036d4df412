"""All filters and transforms, as one discriminated union of configs and a dispatch on `kind`.

A filter module gives `verdicts(table, config, ctx) -> Verdicts`; a transform module (a stage
that changes rows: PII masking, language tagging) gives `transform(table, config, ctx) ->
Transformed`. `filters.dispatch` turns either into kept rows, rejected rows and a report.
Recipes list both in `filters:`, in the order they run.

To add one: import its module, add it to `_FILTERS` or `_TRANSFORMS`. Another installed package
adds a filter through the entry-point group `instructmix.filters` (instances/plugins.py): an
object with `Config` and `verdicts`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Union

import pyarrow as pa
from pydantic import BaseModel, Field

from filters import (
    decontaminate,
    dispatch,
    exact_dedup,
    language,
    length,
    near_dedup,
    pii,
    quality,
    score,
    threshold,
)
from instances import StageResult
from instances.context import StageContext
from instances.plugins import FILTER_GROUP, discover

_FILTERS: dict[str, Any] = {
    "exact_dedup": exact_dedup,
    "length": length,
    "near_dedup": near_dedup,
    "quality": quality,
    "decontaminate": decontaminate,
    "threshold": threshold,
}
_TRANSFORMS: dict[str, Any] = {"language": language, "pii_mask": pii, "score": score}
# Kinds other installed packages add (entry points `instructmix.filters`, instances/plugins.py).
PLUGINS: dict[str, Any] = discover(FILTER_GROUP, "verdicts", set(_FILTERS) | set(_TRANSFORMS))
_FILTERS.update(PLUGINS)
_MODULES: dict[str, Any] = {**_FILTERS, **_TRANSFORMS}

FilterConfig = Annotated[
    Union[tuple(module.Config for module in _MODULES.values())],  # noqa: UP007
    Field(discriminator="kind"),
]
CONFIGS: dict[str, type[BaseModel]] = {kind: module.Config for kind, module in _MODULES.items()}


def run_filter(
    table: pa.Table, config: FilterConfig, ctx: StageContext | None = None
) -> StageResult:
    """Run the filter or transform `config.kind` names on `table` as the stage of that name.

    The stage is named by the module's `stage_name(config)` where it has one (`score:quality`),
    else by the kind. The dispatcher times it, splits kept and rejected rows and raises
    `dispatch.StageContractError` unless rows_in == rows_out + drops.
    """
    ctx = ctx or StageContext()
    module = _MODULES[config.kind]
    stage = module.stage_name(config) if hasattr(module, "stage_name") else config.kind
    if config.kind in _TRANSFORMS:
        return dispatch.transform(table, stage, lambda t: module.transform(t, config, ctx))
    return dispatch.judge(table, stage, lambda t: module.verdicts(t, config, ctx))


def filter_inputs(config: FilterConfig, ctx: StageContext) -> list[Path]:
    """Local files a filter reads (benchmarks for decontamination), for the manifest lock."""
    module = _MODULES[config.kind]
    return module.inputs(config, ctx) if hasattr(module, "inputs") else []
