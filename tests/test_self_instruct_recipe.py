"""A recipe reads a grown Self-Instruct collection: tulu-human-gpt with its collection source
uncommented builds from the mirror plus the collection, and its card shows the paper's table."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml
from mirror_path import MIRROR
from scripted_llm import ScriptedLLM, synthetic_reply

from data_cards.card import write_card
from data_cards.stats import read_split_files
from generators.self_instruct.bootstrap import BootstrapConfig
from generators.self_instruct.collection import DEFAULT_ROOT
from generators.self_instruct.llm import LLMConfig
from generators.self_instruct.run import run_self_instruct
from instances.context import StageContext
from instances.io import atomic_directory
from mixtures.build import build_into
from mixtures.recipe import RECIPES_DIR, load_recipe
from mixtures.sampling import recipe_sources
from mixtures.scale import scale_recipe

COMMENTED = "  # - name: self_instruct_hourly\n  #   generator:"
ENABLED = "  - name: self_instruct_hourly\n    generator:"


def test_the_default_tulu_human_gpt_names_no_collection():
    recipe = load_recipe("tulu-human-gpt")
    assert "self_instruct_hourly" not in [s.name for s in recipe.sources]
    assert COMMENTED in (RECIPES_DIR / "tulu-human-gpt.yaml").read_text()


@pytest.mark.slow
def test_tulu_human_gpt_can_name_the_hourly_collection(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the recipe names the collection under ./artifacts/self_instruct
    with ScriptedLLM(synthetic_reply) as server:
        llm = LLMConfig(base_url=server.base_url, model="scripted", concurrency=1)
        for _ in range(2):  # two scheduled runs
            run_self_instruct(
                llm, BootstrapConfig(n=3), DEFAULT_ROOT / "hourly", mirror=MIRROR, cache_path=None
            )
    text = (RECIPES_DIR / "tulu-human-gpt.yaml").read_text().replace(COMMENTED, ENABLED)
    (tmp_path / "tulu-grown.yaml").write_text(text)
    recipe = scale_recipe(load_recipe(str(tmp_path / "tulu-grown.yaml")), 8)
    folder = tmp_path / "built"
    with atomic_directory(folder) as scratch:
        result = build_into(recipe, StageContext(mirror=MIRROR, seed=recipe.seed), scratch)
        recipe_yaml = yaml.safe_dump(recipe.model_dump(mode="json", exclude_defaults=True))
        write_card(scratch, recipe_yaml, result.licenses)
    per_source = Counter(
        label for t in read_split_files(folder).values() for label in recipe_sources(t)
    )
    assert 0 < per_source["self_instruct_hourly"] <= 8
    funnel = json.loads((folder / "funnel.json").read_text())
    stage = next(s for s in funnel if s["stage"] == "generate:self_instruct_hourly")
    assert stage["extras"]["self_instruct_statistics"]["instructions"] == 6
    card = (folder / "README.md").read_text()
    assert "## Self-Instruct statistics: self_instruct_hourly" in card
    assert "| instructions | 6 |" in card
