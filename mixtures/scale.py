"""Small versions of a recipe: every source capped, for tests, previews and `build --limit`.

`scale_recipe(recipe, max_rows)` keeps a recipe's shape (sources, filters, strata, weights,
split, seed) but lets no source contribute more than `max_rows` rows, and lowers the
per-task caps of generators that have one (`max_per_task`, `max_rows_per_task`) so the
generators themselves do less work. The result is named `<name>-limit<max_rows>` so it never
overwrites the full build, and its manifest locks the scaled recipe.
"""

from __future__ import annotations

from typing import Any

from mixtures.recipe import Recipe, SourceSpec

GENERATOR_CAP_FIELDS = ("max_per_task", "max_rows_per_task")


def _capped(value: int | None, limit: int) -> int:
    return limit if value is None else min(value, limit)


def scale_generator(generator: Any, max_rows: int) -> Any:
    """`generator` with its per-task cap fields (if any) lowered to at most `max_rows`."""
    changes = {
        field: _capped(getattr(generator, field), max_rows)
        for field in GENERATOR_CAP_FIELDS
        if field in type(generator).model_fields
    }
    return generator.model_copy(update=changes) if changes else generator


def scale_source(spec: SourceSpec, max_rows: int) -> SourceSpec:
    """`spec` taking at most `max_rows` rows (a weighted source: through the recipe's total)."""
    update: dict[str, Any] = {"generator": scale_generator(spec.generator, max_rows)}
    if spec.weight is None:
        update.update(count=_capped(spec.count, max_rows), fraction=None, tokens=None)
    return spec.model_copy(update=update)


def scale_recipe(recipe: Recipe, max_rows: int) -> Recipe:
    """A copy of `recipe` where no source gives more than `max_rows` rows (before upsampling).

    >>> from mixtures.recipe import load_recipe
    >>> small = scale_recipe(load_recipe("demo"), 20)
    >>> small.name, [s.count for s in small.sources]
    ('demo-limit20', [20, 20])
    """
    if max_rows < 1:
        raise ValueError(f"max_rows must be at least 1, got {max_rows}")
    data = recipe.model_dump(mode="python")
    data["name"] = f"{recipe.name}-limit{max_rows}"
    data["description"] = f"{recipe.description} (every source capped at {max_rows} rows)"
    data["sources"] = [scale_source(spec, max_rows) for spec in recipe.sources]
    weights = [spec.weight for spec in recipe.sources if spec.weight is not None]
    if recipe.total_tokens is not None:  # a token budget becomes rows: the heaviest gets max_rows
        data["total_tokens"] = None
        data["total"] = int(max_rows * sum(weights) / max(weights))
    elif recipe.total is not None and weights:  # the heaviest source gets at most max_rows
        data["total"] = min(recipe.total, int(max_rows * sum(weights) / max(weights)))
    elif recipe.total is not None:
        data["total"] = min(recipe.total, max_rows * len(recipe.sources))
    # Validate the scaled recipe like a written one (it must satisfy the same rules).
    return Recipe.model_validate(
        {**data, "sources": [s.model_dump(mode="python") for s in data["sources"]]}
    )
