"""Small versions of a recipe: every source capped, for tests, previews and `build --limit`.

`scale_recipe(recipe, max_rows)` keeps a recipe's shape (sources, filters, strata, weights,
split, seed) but lets no source contribute more than `max_rows` rows, and lowers the
per-task caps of generators that have one (`max_per_task`, `max_rows_per_task`) so the
generators themselves do less work. The result is named `<name>-limit<max_rows>` so it never
overwrites the full build, and its manifest locks the scaled recipe.
"""

from __future__ import annotations

from typing import Any

from mixtures.recipe import Recipe, SourceSpec, read_recipe, recipe_from_text

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


def _with_kind(short: dict[str, Any] | None, full: dict[str, Any]) -> dict[str, Any]:
    return {"kind": full["kind"], **(short or {})}


def scaled_recipe_yaml(recipe: Recipe) -> str:
    """The YAML of a (scaled) recipe without default values, but with every generator's and
    filter's `kind` (a default too, yet the key the recipe cannot be read without).

    >>> from mixtures.recipe import load_recipe, parse_recipe
    >>> import yaml
    >>> text = scaled_recipe_yaml(scale_recipe(load_recipe("demo"), 20))
    >>> parse_recipe(yaml.safe_load(text)) == scale_recipe(load_recipe("demo"), 20)
    True
    """
    import yaml

    short = recipe.model_dump(mode="json", exclude_defaults=True)
    full = recipe.model_dump(mode="json")
    for mine, theirs in zip(short["sources"], full["sources"], strict=True):
        mine["generator"] = _with_kind(mine.get("generator"), theirs["generator"])
    if full.get("filters"):
        shorts = short.get("filters") or [{} for _ in full["filters"]]
        short["filters"] = [_with_kind(s, f) for s, f in zip(shorts, full["filters"], strict=True)]
    return yaml.safe_dump(short, sort_keys=False, allow_unicode=True)


def recipe_for_run(name: str, limit: int | None, text: str | None = None) -> tuple[Recipe, str]:
    """Recipe `name` (read once) as a run builds it, with its YAML text for the card: under
    `limit`, the scaled recipe (every source capped, named NAME-limitLIMIT) and its YAML.

    With `text` (what an earlier `recipe_for_run` of this run returned) the file is not read
    again: the text is the recipe, `limit` already applied."""
    if text is not None:
        return recipe_from_text(text, name), text
    loaded = read_recipe(name)
    if limit is None:
        return loaded.recipe, loaded.text
    scaled = scale_recipe(loaded.recipe, limit)
    return scaled, scaled_recipe_yaml(scaled)
