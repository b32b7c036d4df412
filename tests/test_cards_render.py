"""The data card of a real small build: loads with datasets, parses as a Hub DatasetCard,
links plots that exist, and states the license the rows carry."""

from __future__ import annotations

import json
import re

import datasets
import pytest
import yaml
from huggingface_hub import DatasetCard

from data_cards.card import card_data, render_card, write_card
from data_cards.html import write_card_html
from instances.context import StageContext
from mixtures.build import build_into
from mixtures.recipe import parse_recipe

RECIPE = {
    "name": "cardtest",
    "description": "A card test: Code Alpaca and LIMA.",
    "seed": 3,
    "sources": [
        {
            "name": "code_alpaca",
            "generator": {"kind": "existing", "dataset": "code_alpaca"},
            "count": 40,
        },
        {"name": "lima", "generator": {"kind": "existing", "dataset": "lima"}, "count": 10},
    ],
    "filters": [{"kind": "exact_dedup"}, {"kind": "length", "min_prompt_chars": 5}],
    "split": {"validation": 0.2},
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory, mirror):
    out = tmp_path_factory.mktemp("card") / "cardtest"
    out.mkdir()
    recipe = parse_recipe(RECIPE)
    result = build_into(recipe, StageContext(mirror=mirror, seed=recipe.seed), out)
    write_card(out, yaml.safe_dump(RECIPE, sort_keys=False), result.licenses)
    return out


def test_built_folder_loads_with_load_dataset(folder, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loaded = datasets.load_dataset(str(folder))
    assert set(loaded) == {"train", "validation"}
    assert loaded["train"].num_rows + loaded["validation"].num_rows == 50
    assert loaded["validation"].num_rows == 10
    assert loaded["train"][0]["messages"][-1]["role"] == "assistant"


def test_card_yaml_parses_as_a_hub_dataset_card(folder):
    card = DatasetCard.load(folder / "README.md")
    meta = card.data.to_dict()
    # code_alpaca is cc-by-nc-4.0 and LIMA cc-by-nc-sa-4.0: both NC, both listed
    assert meta["license"] == ["cc-by-nc-4.0", "cc-by-nc-sa-4.0"]
    assert meta["size_categories"] == ["n<1K"]
    assert meta["language"] == ["en"]
    assert meta["pretty_name"] == "Cardtest (instructmix mixture)"
    assert "non-commercial" in meta["tags"]
    files = meta["configs"][0]["data_files"]
    assert files == [
        {"split": "train", "path": "data/train-*"},
        {"split": "validation", "path": "data/validation-*"},
    ]
    assert "Non-commercial use only" in card.text


def test_card_body_has_every_section_and_exact_numbers(folder):
    text = (folder / "README.md").read_text()
    for heading in (
        "## How to load it",
        "## Composition",
        "## Filter funnel",
        "## Decontamination",
        "## Length distributions",
        "## Instruction diversity",
        "## Strata",
        "## Columns and lineage",
        "## Sample rows",
        "## Reproduce it",
        "### Package versions",
        "## Limitations",
        "## Licensing",
    ):
        assert heading in text, heading
    assert "| code_alpaca | 40 | 80.0% | distilled |" in text
    assert "| lima | 10 | 20.0% | human |" in text
    funnel = json.loads((folder / "funnel.json").read_text())
    sample = next(r for r in funnel if r["stage"] == "sample")
    assert f"| sample | {sample['rows_in']:,} | 50 |" in text
    assert "instructmix build cardtest" in text
    assert "no `decontaminate` stage" in text  # this recipe has none: the card must say so
    assert "| lima | cc-by-nc-sa-4.0 | 10 |" in text


def test_every_plot_is_linked_and_exists_as_png(folder):
    text = (folder / "README.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert sorted(links) == [
        "plots/funnel.png",
        "plots/lengths.png",
        "plots/sources.png",
        "plots/strata.png",
        "plots/verbs.png",
    ]
    for link in links:
        assert (folder / link).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", link


def test_recipe_in_card_is_the_recipe_given(folder):
    text = (folder / "README.md").read_text()
    block = re.search(r"```yaml\n(.*?)\n```", text, re.S).group(1)
    assert yaml.safe_load(block) == RECIPE


def test_html_page_renders_tables_and_plots(folder):
    page = write_card_html(folder).read_text()
    assert page.startswith("<!doctype html>")
    assert "<table>" in page
    assert '<img src="plots/lengths.png"' in page
    assert "license:" in page  # the metadata block is shown


def test_rendering_twice_gives_the_same_card(folder):
    data = card_data(folder, yaml.safe_dump(RECIPE, sort_keys=False), ["cc-by-nc-4.0"])
    assert render_card(data) == render_card(data)
    assert data["total"] == 50
