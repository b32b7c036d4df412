"""All filters, as one discriminated union of configs and a dispatch on `kind`.

To add a filter: import its module and add it to `_MODULES`; another package adds one through
the entry-point group `instructmix.filters` (instances/plugins.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Union

import pyarrow as pa
from pydantic import Field

from filters import decontaminate, exact_dedup, language, length, near_dedup, quality
from instances import StageResult
from instances.context import StageContext
from instances.plugins import FILTER_GROUP, discover

_MODULES: dict[str, Any] = {
    "exact_dedup": exact_dedup,
    "length": length,
    "near_dedup": near_dedup,
    "quality": quality,
    "language": language,
    "decontaminate": decontaminate,
}
# Kinds other installed packages add (entry points `instructmix.filters`, instances/plugins.py).
PLUGINS: dict[str, Any] = discover(FILTER_GROUP, "run", set(_MODULES))
_MODULES.update(PLUGINS)

FilterConfig = Annotated[
    Union[tuple(module.Config for module in _MODULES.values())],  # noqa: UP007
    Field(discriminator="kind"),
]


def run_filter(table: pa.Table, config: FilterConfig, ctx: StageContext) -> StageResult:
    """Run the filter `config.kind` names on `table`."""
    return _MODULES[config.kind].run(table, config, ctx)


def filter_inputs(config: FilterConfig, ctx: StageContext) -> list[Path]:
    """Mirror files a filter reads (benchmarks for decontamination), for the manifest lock."""
    module = _MODULES[config.kind]
    return module.inputs(config, ctx) if hasattr(module, "inputs") else []
