"""All filters, as one discriminated union of configs and a dispatch on `kind`.

To add a filter: import its module, add its `Config` to `FilterConfig` and the module to `_MODULES`.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Annotated

import pyarrow as pa
from pydantic import Field

from filters import (
    decontaminate,
    exact_dedup,
    language,
    length,
    near_dedup,
    quality,
    score,
    threshold,
)
from instances import StageResult
from instances.context import StageContext

FilterConfig = Annotated[
    exact_dedup.Config
    | length.Config
    | near_dedup.Config
    | quality.Config
    | language.Config
    | decontaminate.Config
    | score.Config
    | threshold.Config,
    Field(discriminator="kind"),
]

_MODULES: dict[str, ModuleType] = {
    "exact_dedup": exact_dedup,
    "length": length,
    "near_dedup": near_dedup,
    "quality": quality,
    "language": language,
    "decontaminate": decontaminate,
    "score": score,
    "threshold": threshold,
}


def run_filter(table: pa.Table, config: FilterConfig, ctx: StageContext) -> StageResult:
    """Run the filter `config.kind` names on `table`."""
    return _MODULES[config.kind].run(table, config, ctx)


def filter_inputs(config: FilterConfig, ctx: StageContext) -> list[Path]:
    """Mirror files a filter reads (benchmarks for decontamination), for the manifest lock."""
    module = _MODULES[config.kind]
    return module.inputs(config, ctx) if hasattr(module, "inputs") else []
