"""All generators, as one discriminated union of configs and a dispatch on `kind`.

To add a generator: import its module here, add its `Config` to `GeneratorConfig` and its
module to `_MODULES`.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Annotated

from pydantic import Field

from generators import dataset, existing, local, natural_instructions
from generators.self_instruct import generate as self_instruct_pool
from generators.templated import generator as templated
from instances import StageResult
from instances.context import StageContext

GeneratorConfig = Annotated[
    existing.Config
    | dataset.Config
    | local.Config
    | natural_instructions.Config
    | templated.Config
    | self_instruct_pool.Config,
    Field(discriminator="kind"),
]

_MODULES: dict[str, ModuleType] = {
    "existing": existing,
    "dataset": dataset,
    "instances_file": local,
    "natural_instructions": natural_instructions,
    "templated": templated,
    "self_instruct_pool": self_instruct_pool,
}


def _module(config: GeneratorConfig) -> ModuleType:
    return _MODULES[config.kind]


def run_generator(config: GeneratorConfig, ctx: StageContext) -> StageResult:
    """Run the generator `config.kind` names and return its kept, rejected and report."""
    return _module(config).generate(config, ctx)


def generator_inputs(config: GeneratorConfig, ctx: StageContext) -> list[Path]:
    """The local files the generator reads (for the manifest's sha256 lock)."""
    return _module(config).inputs(config, ctx)


def generator_licenses(config: GeneratorConfig) -> list[str]:
    """The licenses of the rows the generator produces."""
    return _module(config).licenses(config)
