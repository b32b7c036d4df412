"""The recipe language: a strict pydantic model, validated before any work starts.

A recipe names its sources (each a generator config plus how many rows to take), the filter
pipeline, the split, the seed and the output format. Types make "1 means one row or 100%?"
impossible: `count` is an int of rows, `fraction` a float in (0, 1].
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from instructmix.filters.registry import FilterConfig
from instructmix.generators.registry import GeneratorConfig
from instructmix.instances import InstructmixError
from instructmix.train.spec import TrainSpec

RECIPES_DIR = Path(__file__).parent / "recipes"


class RecipeError(InstructmixError):
    """A recipe is missing or does not validate; the message says where and how to fix it."""


class SourceSpec(BaseModel):
    """One source of a mixture: how to generate its rows and how many of them to take."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-/]*$", description="label of the source")
    generator: GeneratorConfig
    count: int | None = Field(default=None, ge=1, description="take exactly this many rows")
    fraction: float | None = Field(
        default=None, gt=0, le=1, description="take this share of the source's rows"
    )

    @model_validator(mode="after")
    def _one_amount(self) -> SourceSpec:
        if self.count is not None and self.fraction is not None:
            raise ValueError(
                f"source {self.name!r}: give either count (rows) or fraction (share), not both"
            )
        return self


class SplitSpec(BaseModel):
    """How the mixture is split: a validation share, the rest is train."""

    model_config = ConfigDict(extra="forbid")

    validation: float = Field(default=0.0, ge=0, lt=1, description="share of rows for validation")


class Recipe(BaseModel):
    """A named mixture: sources, filters, split, seed and output format."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    description: str = ""
    seed: int = 0
    sources: list[SourceSpec] = Field(min_length=1)
    filters: list[FilterConfig] = Field(default_factory=list)
    split: SplitSpec = Field(default_factory=SplitSpec)
    output_format: Literal["messages", "prompt_completion"] = "messages"
    train: TrainSpec | None = None

    @model_validator(mode="after")
    def _unique_source_names(self) -> Recipe:
        names = [source.name for source in self.sources]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"source names must be unique; repeated: {duplicates}")
        return self


def _format_errors(where: str, error: PydanticValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    hint = first["msg"]
    if first["type"] == "extra_forbidden":
        hint = "unknown field (check the spelling; see mixtures/recipe.py for the fields)"
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return f"{where}: field '{location}': {hint}{more}"


def parse_recipe(data: object, where: str = "recipe") -> Recipe:
    """Validate recipe data (parsed YAML) into a `Recipe`; errors name the field and the fix."""
    if not isinstance(data, dict):
        raise RecipeError(
            f"{where}: expected a mapping of recipe fields, got {type(data).__name__}"
        )
    try:
        return Recipe.model_validate(data)
    except PydanticValidationError as error:
        raise RecipeError(_format_errors(where, error)) from error


def recipe_path(name: str, recipes_dir: Path = RECIPES_DIR) -> Path:
    """The YAML file of the named recipe (raises `RecipeError` listing known names if absent)."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    candidate = recipes_dir / f"{name}.yaml"
    if not candidate.is_file():
        known = ", ".join(sorted(p.stem for p in recipes_dir.glob("*.yaml"))) or "none"
        raise RecipeError(f"unknown recipe {name!r}: no {candidate}; known recipes: {known}")
    return candidate


def load_recipe(name: str, recipes_dir: Path = RECIPES_DIR) -> Recipe:
    """Read and validate the recipe `name` (a name in `recipes_dir` or a path to a YAML file)."""
    path = recipe_path(name, recipes_dir)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise RecipeError(f"{path}: not valid YAML: {error}") from error
    return parse_recipe(data, str(path))
