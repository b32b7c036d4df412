"""The recipe of docs/bring_your_own_data.md builds as the guide says (the Hub dataset read
through `datasets` from a local dataset folder, offline)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from data_cards.card import write_card
from instances.context import StageContext
from mixtures.build import build_into
from mixtures.recipe import parse_recipe

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "bring_your_own_data.md"
HUB_ID = "databricks/databricks-dolly-15k"


def guide_recipe() -> str:
    return re.search(r"```yaml\n(name: bike-shop.*?)```", GUIDE.read_text(), re.S).group(1)


@pytest.fixture(scope="module")
def built(tmp_path_factory, mirror):
    patch = pytest.MonkeyPatch()
    out = tmp_path_factory.mktemp("byod")
    patch.chdir(ROOT)
    patch.setenv("HF_DATASETS_OFFLINE", "1")
    patch.setenv("HF_HUB_OFFLINE", "1")
    patch.setenv("HF_DATASETS_CACHE", str(out / "hf-cache"))
    text = guide_recipe().replace(HUB_ID, "docs/examples/byod/dolly_like")
    recipe = parse_recipe(yaml.safe_load(text))
    result = build_into(recipe, StageContext(mirror=mirror, seed=recipe.seed), out / "bike-shop")
    write_card(out / "bike-shop", text, result.licenses)
    yield result, out / "bike-shop"
    patch.undo()


def test_guide_recipe_mixes_four_kinds_of_data(built):
    result, _ = built
    train = result.splits["train"].to_pylist()
    sources = sorted({json.loads(r["meta"])["recipe_source"] for r in train})
    assert sources == ["dolly", "our_chats", "science"]
    by_source = {
        s: [r for r in train if json.loads(r["meta"])["recipe_source"] == s] for s in sources
    }
    assert len(by_source["dolly"]) == 2 and len(by_source["science"]) == 3
    assert {r["category"] for r in by_source["our_chats"]} == {"support", "marketing"}
    dolly = next(r for r in by_source["dolly"] if r["category"] == "summarization")
    assert dolly["messages"][0]["content"].startswith("Summarise the paragraph.\n\nThe first")


def test_guide_rejections_are_as_described(built):
    result, folder = built
    reasons = {(r["reject_stage"], r["reject_reason"]) for r in result.rejected.to_pylist()}
    assert ("generate", "no_assistant_last") in reasons
    assert ("decontaminate", "contaminated:bike_math") in reasons
    card = (folder / "README.md").read_text()
    table = {
        line.split("|")[1].strip(): line for line in card.splitlines() if line.startswith("| ")
    }
    assert "gsm8k" in table and table["bike_math"].split("|")[2].strip() == "2"
    assert table["bike_math"].split("|")[4].strip() == "1"  # rows dropped
    assert "instructmix build bike-shop" in card
