"""The t0-style recipe builds end to end (small caps): held-out clusters absent, funnel extras."""

from __future__ import annotations

import json
from collections import Counter

import pyarrow.parquet as pq
import pytest
import yaml

from data_cards.card import write_card
from generators.templated.tasks import T0_HELD_OUT
from instances.context import StageContext
from instances.io import atomic_directory
from mixtures.build import build_into
from mixtures.recipe import load_recipe, parse_recipe


@pytest.fixture(scope="module")
def built(tmp_path_factory, mirror):
    """The stages the Prefect build flow wraps (the flow itself is tested in test_build.py)."""
    data = load_recipe("t0-style").model_dump(mode="json", exclude_none=True)
    data["sources"][0]["generator"]["max_rows_per_task"] = 8
    data["allow_eval_splits"] = True  # render every task, OpenBookQA test and SQuAD dev too
    recipe = parse_recipe(data)
    folder = tmp_path_factory.mktemp("mixtures") / "t0-style"
    ctx = StageContext(mirror=mirror, seed=recipe.seed)
    with atomic_directory(folder) as scratch:
        result = build_into(recipe, ctx, scratch)
        write_card(scratch, yaml.safe_dump(data), result.licenses)
    return result, folder


def test_t0_style_builds_without_held_out_clusters(built) -> None:
    result, folder = built
    rows = [
        r
        for path in sorted((folder / "data").glob("*.parquet"))
        for r in pq.read_table(path).to_pylist()
    ]
    assert len(rows) == sum(result.manifest["splits"].values()) > 300
    categories = Counter(row["category"] for row in rows)
    assert not set(categories) & set(T0_HELD_OUT)
    assert {"sentiment", "topic_classification", "extractive_qa", "multiple_choice_qa"} <= set(
        categories
    )
    assert all(row["template"].endswith("#zs_noopt") for row in rows)
    card = (folder / "README.md").read_text()
    assert "# t0-style" in card and "apache-2.0" in card
    assert "**Contains evaluation data.**" in card and "allenai/openbookqa (main) *test*" in card


def test_card_lists_tasks_by_templates_by_variants(built) -> None:
    _, folder = built
    card = (folder / "README.md").read_text()
    section = card.split("## Templates and variants", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| `")]
    by_task = {cells[0].strip(" `"): cells for cells in rows}
    assert {"sst2", "ag_news", "openbookqa"} <= set(by_task)
    task_rows, templates, variants = by_task["sst2"][1:]
    assert int(templates) > 1  # one random promptsource template per row
    assert variants.strip() == f"zs_noopt: {task_rows.strip()}"


def test_funnel_carries_the_tasks_templates_variants_table(built) -> None:
    _, folder = built
    funnel = json.loads((folder / "funnel.json").read_text())
    generate = next(stage for stage in funnel if stage["stage"].startswith("generate:"))
    table = generate["extras"]["templates"]
    assert {"task", "category", "template", "template_set", "variant", "rendered", "failed"} == set(
        table[0]
    )
    assert sum(row["rendered"] for row in table) == generate["rows_out"]
    assert sum(row["failed"] for row in table) == generate["rows_in"] - generate["rows_out"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert any("promptsource/templates/glue/sst2" in path for path in manifest["inputs"])


def test_flan_style_builds_with_every_variant(tmp_path, mirror) -> None:
    data = load_recipe("flan-style").model_dump(mode="json", exclude_none=True)
    for source in data["sources"]:  # flan-style mixes zero-shot, few-shot and CoT sources
        source["generator"]["max_rows_per_task"] = 12
    recipe = parse_recipe(data)
    result = build_into(recipe, StageContext(mirror=mirror, seed=recipe.seed), tmp_path)
    rows = [r for table in result.splits.values() for r in table.to_pylist()]
    variants = Counter(row["template"].rsplit("#", 1)[1] for row in rows)
    assert set(variants) == {"zs_opt", "zs_noopt", "fs", "cot"}
    assert all(
        row["template"].startswith("project/cot_") for row in rows if "#cot" in row["template"]
    )
    assert not {row["category"] for row in rows} & set(T0_HELD_OUT)
