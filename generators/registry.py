"""All generators, as one discriminated union of configs and a dispatch on `kind`.

To add a generator: import its module here and add it to `_MODULES`; another package adds one
through the entry-point group `instructmix.generators` (instances/plugins.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import Field

from generators import dataset, existing, local, natural_instructions
from generators.self_instruct import generate as self_instruct_pool
from generators.templated import generator as templated
from instances import StageResult
from instances.context import StageContext
from instances.plugins import GENERATOR_GROUP, discover

_MODULES: dict[str, Any] = {
    "existing": existing,
    "dataset": dataset,
    "instances_file": local,
    "natural_instructions": natural_instructions,
    "templated": templated,
    "self_instruct_pool": self_instruct_pool,
}
# Kinds other installed packages add (entry points `instructmix.generators`, instances/plugins.py).
PLUGINS: dict[str, Any] = discover(GENERATOR_GROUP, "generate", set(_MODULES))
_MODULES.update(PLUGINS)

GeneratorConfig = Annotated[
    Union[tuple(module.Config for module in _MODULES.values())],  # noqa: UP007
    Field(discriminator="kind"),
]


def _module(config: GeneratorConfig) -> Any:
    return _MODULES[config.kind]


def run_generator(config: GeneratorConfig, ctx: StageContext) -> StageResult:
    """Run the generator `config.kind` names and return its kept, rejected and report."""
    return _module(config).generate(config, ctx)


def generator_inputs(config: GeneratorConfig, ctx: StageContext) -> list[Path]:
    """The local files the generator reads (for the manifest's sha256 lock)."""
    module = _module(config)
    return module.inputs(config, ctx) if hasattr(module, "inputs") else []


def generator_licenses(config: GeneratorConfig) -> list[str]:
    """The licenses of the rows the generator produces ('unknown' if a plugin says none)."""
    module = _module(config)
    return module.licenses(config) if hasattr(module, "licenses") else ["unknown"]
