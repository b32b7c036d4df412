"""All filters and transforms, as one discriminated union of configs and a dispatch on `kind`.

A filter module gives `verdicts(table, config, ctx) -> Verdicts`; a transform module (a stage
that changes rows: PII masking, language tagging) gives `transform(table, config, ctx) ->
Transformed`. `filters.dispatch` turns either into kept rows, rejected rows and a report.
Recipes list both in `filters:`, in the order they run.

To add one: import its module, add its `Config` to `FilterConfig` and its function to
`FILTERS` or `TRANSFORMS`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
from pydantic import BaseModel, Field

from filters import decontaminate, dispatch, exact_dedup, language, length, near_dedup, pii, quality
from instances import StageResult
from instances.context import StageContext

FilterConfig = Annotated[
    exact_dedup.Config
    | length.Config
    | near_dedup.Config
    | quality.Config
    | language.Config
    | decontaminate.Config
    | pii.Config,
    Field(discriminator="kind"),
]

CONFIGS: dict[str, type[BaseModel]] = {
    config.model_fields["kind"].default: config
    for config in (
        exact_dedup.Config,
        length.Config,
        near_dedup.Config,
        quality.Config,
        language.Config,
        decontaminate.Config,
        pii.Config,
    )
}
FILTERS: dict[str, Callable[..., dispatch.Verdicts]] = {
    "exact_dedup": exact_dedup.verdicts,
    "length": length.verdicts,
    "near_dedup": near_dedup.verdicts,
    "quality": quality.verdicts,
    "decontaminate": decontaminate.verdicts,
}
TRANSFORMS: dict[str, Callable[..., dispatch.Transformed]] = {
    "language": language.transform,
    "pii_mask": pii.transform,
}
_INPUTS: dict[str, Callable[[Any, StageContext], list[Path]]] = {
    "decontaminate": decontaminate.inputs,
}


def run_filter(
    table: pa.Table, config: FilterConfig, ctx: StageContext | None = None
) -> StageResult:
    """Run the filter or transform `config.kind` names on `table` as the stage of that name.

    The dispatcher times it, splits kept and rejected rows and raises
    `dispatch.StageContractError` unless rows_in == rows_out + drops.
    """
    ctx = ctx or StageContext()
    if config.kind in TRANSFORMS:
        change = TRANSFORMS[config.kind]
        return dispatch.transform(table, config.kind, lambda t: change(t, config, ctx))
    decide = FILTERS[config.kind]
    return dispatch.judge(table, config.kind, lambda t: decide(t, config, ctx))


def filter_inputs(config: FilterConfig, ctx: StageContext) -> list[Path]:
    """Mirror files a filter reads (benchmarks for decontamination), for the manifest lock."""
    reader = _INPUTS.get(config.kind)
    return reader(config, ctx) if reader else []
