"""All filters, as one discriminated union of configs and a dispatch on `kind`.

To add a filter: import its module, add its `Config` to `FilterConfig` and the module to `_MODULES`.
"""

from __future__ import annotations

from types import ModuleType
from typing import Annotated

import pyarrow as pa
from pydantic import Field

from instructmix.filters import exact_dedup, length
from instructmix.instances import StageResult
from instructmix.instances.context import StageContext

FilterConfig = Annotated[exact_dedup.Config | length.Config, Field(discriminator="kind")]

_MODULES: dict[str, ModuleType] = {
    "exact_dedup": exact_dedup,
    "length": length,
}


def run_filter(table: pa.Table, config: FilterConfig, ctx: StageContext) -> StageResult:
    """Run the filter `config.kind` names on `table`."""
    return _MODULES[config.kind].run(table, config, ctx)
