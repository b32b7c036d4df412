"""The recipe model: strict, validated before work, errors that name the field and the fix."""

from __future__ import annotations

import pytest

from mixtures.recipe import RecipeError, load_recipe, parse_recipe, read_recipe

LIMA = {"kind": "existing", "dataset": "lima"}


def test_demo_recipe_loads():
    recipe = load_recipe("demo")
    assert [s.name for s in recipe.sources] == ["stanford_alpaca", "lima"]
    assert recipe.split.validation == 0.1


def test_read_recipe_returns_the_model_and_the_text_it_was_read_from(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: mine\nsources:\n  - {name: lima, generator: {kind: existing, dataset: lima}}\n",
        encoding="utf-8",
    )
    recipe, where, text = read_recipe(str(path))
    path.unlink()  # nothing reads the file again
    assert recipe.name == "mine" and where == path
    assert text.startswith("name: mine\n")


def test_unknown_recipe_lists_known_ones():
    with pytest.raises(RecipeError, match=r"unknown recipe 'no-such'.*known recipes: .*demo"):
        load_recipe("no-such")


def test_mistyped_field_is_named():
    data = {"name": "x", "sources": [{"name": "a", "generator": LIMA, "coutn": 5}]}
    with pytest.raises(RecipeError, match=r"field 'sources\.0\.coutn': unknown field"):
        parse_recipe(data)


def test_count_and_fraction_together_are_refused():
    data = {"name": "x", "sources": [{"name": "a", "generator": LIMA, "count": 5, "fraction": 0.5}]}
    with pytest.raises(RecipeError, match="either count .* or fraction"):
        parse_recipe(data)


def test_fraction_above_one_is_refused():
    data = {"name": "x", "sources": [{"name": "a", "generator": LIMA, "fraction": 1.5}]}
    with pytest.raises(RecipeError, match=r"sources\.0\.fraction"):
        parse_recipe(data)


def test_unknown_generator_kind_is_named():
    data = {"name": "x", "sources": [{"name": "a", "generator": {"kind": "dolly"}}]}
    with pytest.raises(RecipeError, match=r"sources\.0\.generator"):
        parse_recipe(data)


def test_unknown_filter_kind_is_named():
    data = {"name": "x", "sources": [{"name": "a", "generator": LIMA}], "filters": [{"kind": "x"}]}
    with pytest.raises(RecipeError, match=r"filters\.0"):
        parse_recipe(data)
