"""Every named recipe builds from the mirror, scaled down with `scale_recipe` (the full builds
are `make mixtures`); lima-1k, small enough, also builds at full size."""

from __future__ import annotations

import json
from collections import Counter

import datasets
import pytest
import yaml

from data_cards.card import write_card
from data_cards.stats import composition, read_split_files
from instances.context import StageContext
from instances.io import atomic_directory
from mixtures.build import build_into
from mixtures.recipe import RECIPES_DIR, load_recipe
from mixtures.sampling import recipe_sources
from mixtures.scale import scale_recipe

NAMED = sorted(path.stem for path in RECIPES_DIR.glob("*.yaml"))
LIMIT = 15


def build(recipe, mirror, folder):
    """The stages of the build flow (the Prefect flow itself is tested in test_build.py)."""
    ctx = StageContext(mirror=mirror, seed=recipe.seed)
    with atomic_directory(folder) as scratch:
        result = build_into(recipe, ctx, scratch)
        recipe_yaml = yaml.safe_dump(recipe.model_dump(mode="json", exclude_defaults=True))
        write_card(scratch, recipe_yaml, result.licenses)
    return result


def test_the_issue_s_recipes_are_all_there():
    assert {"demo", "lima-1k", "tulu-human", "tulu-human-gpt", "flan-style"} <= set(NAMED)


def test_scale_recipe_caps_sources_and_generators():
    small = scale_recipe(load_recipe("tulu-human"), 7)
    assert small.name == "tulu-human-limit7"
    assert [s.count for s in small.sources] == [7, 7, 7]
    assert small.sources[0].generator.max_per_task == 7
    assert small.sources[1].generator.max_rows_per_task == 7
    flan = scale_recipe(load_recipe("flan-style"), 10)
    assert flan.total == 22 and [s.weight for s in flan.sources] == [0.45, 0.45, 0.10]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMED)
def test_named_recipe_builds_scaled_down(name, mirror, tmp_path):
    recipe = scale_recipe(load_recipe(name), LIMIT)
    folder = tmp_path / recipe.name
    result = build(recipe, mirror, folder)
    tables = read_split_files(folder)
    rows = sum(t.num_rows for t in tables.values())
    assert rows == sum(result.manifest["splits"].values()) > 0
    per_source = Counter(label for t in tables.values() for label in recipe_sources(t))
    for spec in recipe.sources:  # every source reaches the mixture, none beyond its cap
        assert 0 < per_source[spec.name] <= LIMIT * (spec.upsample or 1), spec.name
    table = composition(tables)
    assert sum(line["rows"] for line in table) == rows
    assert sum(line["share"] for line in table) == pytest.approx(1.0)
    assert all(line["mean_prompt_chars"] > 0 for line in table)
    assert all(line["mean_response_chars"] > 0 for line in table)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["name"] == f"{name}-limit{LIMIT}" and manifest["inputs"]
    assert all(len(digest) == 64 for digest in manifest["inputs"].values())
    funnel = json.loads((folder / "funnel.json").read_text())
    for stage in funnel:
        if stage["stage"] != "upsample":
            assert stage["rows_in"] == stage["rows_out"] + sum(stage["dropped_by_reason"].values())
    card = (folder / "README.md").read_text()
    assert f"# {recipe.name}" in card
    loaded = datasets.load_dataset(str(folder))
    assert sum(split.num_rows for split in loaded.values()) == rows


def test_flan_style_scaled_keeps_its_format_mix(mirror, tmp_path):
    recipe = scale_recipe(load_recipe("flan-style"), LIMIT)
    result = build(recipe, mirror, tmp_path / "flan")
    rows = [r for t in result.splits.values() for r in t.to_pylist()]
    by_source = Counter(json.loads(r["meta"])["recipe_source"] for r in rows)
    assert recipe.total == 33  # 15 / 0.45: the heaviest source gets the limit
    assert by_source == {"zero_shot": 15, "few_shot": 15, "chain_of_thought": 3}
    formats = Counter(r["template"].rsplit("#", 1)[1] for r in rows)
    assert formats["fs"] == 15 and formats["cot"] == 3
    assert formats["zs_opt"] + formats["zs_noopt"] == 15
    # The card's composition table is per recipe source, as the Tulu and LIMA papers show it.
    table = {line["source"]: line["rows"] for line in composition(result.splits)}
    assert table == {"zero_shot": 15, "few_shot": 15, "chain_of_thought": 3}


def test_lima_1k_full_size(mirror, tmp_path):
    recipe = load_recipe("lima-1k")
    result = build(recipe, mirror, tmp_path / "lima-1k")
    train = result.splits["train"]
    assert set(result.splits) == {"train"} and train.num_rows == 1000
    sources = Counter(recipe_sources(train))
    assert sources == {"lima": 950, "natural_instructions": 50}
    ni_tasks = Counter(
        task
        for task, label in zip(train["task"].to_pylist(), recipe_sources(train), strict=True)
        if label == "natural_instructions"
    )
    assert len(ni_tasks) >= 17 and max(ni_tasks.values()) <= 3  # spread evenly, cap 3
    strata = next(r for r in result.funnel if r.stage == "sample").extras["strata"]
    assert set(strata) == {"natural_instructions", "mixture"}
    assert strata["mixture"]["by"] == "category"
    assert sum(strata["mixture"]["after"].values()) == 1000
    assert strata["mixture"]["after"]["conversation"] == 950
    card = (tmp_path / "lima-1k" / "README.md").read_text()
    assert "| lima | 950 |" in card


def test_self_instruct_gpt3_sample_reads_as_alpaca_rows(mirror):
    from generators import existing
    from instances import validate

    config = existing.Config(dataset="self_instruct_gpt3")
    result = existing.generate(config, StageContext(mirror=mirror))
    assert result.report.rows_in == 1000 and result.report.balanced()
    first = validate(result.kept).slice(0, 1).to_pylist()[0]
    assert first["origin"] == "self_instruct" and first["source"] == "self_instruct_gpt3"
    assert first["messages"][0]["content"] == "Given two integers, find their average.\n\n2, 3"
    assert first["messages"][1]["content"] == "(2 + 3) / 2 = 2.5"
    assert existing.inputs(config, StageContext(mirror=mirror)) == [
        mirror / "self_instruct" / "gpt3_generations_sample_1000.json"
    ]
