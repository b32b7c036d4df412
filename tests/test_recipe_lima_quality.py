"""The named recipe lima-quality builds at full size from the mirror: 1,000 rows, scored,
thresholded, selected best first with a diversity check; the card and lock say how."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
import yaml

from data_cards.card import write_card
from instances.context import StageContext
from instances.io import atomic_directory
from instances.scores import read_scores
from mixtures.build import build_into
from mixtures.recipe import load_recipe
from mixtures.sampling import recipe_sources


@pytest.mark.slow
def test_lima_quality_full_size(mirror, tmp_path):
    recipe = load_recipe("lima-quality")
    folder = tmp_path / "lima-quality"
    with atomic_directory(folder) as scratch:
        result = build_into(recipe, StageContext(mirror=mirror, seed=recipe.seed), scratch)
        write_card(scratch, yaml.safe_dump(recipe.model_dump(mode="json")), result.licenses)
    train = result.splits["train"]
    assert set(result.splits) == {"train"} and train.num_rows == 1000
    scores = read_scores(train, "quality")
    assert np.isfinite(scores).all() and scores.min() >= 0.7  # the threshold held
    stages = {r.stage: r for r in result.funnel}
    assert stages["threshold"].dropped_by_reason.get("low_quality", 0) > 0
    sample = stages["sample"].extras
    selection = sample["selection"]["mixture"]
    assert selection["method"] == "greedy" and selection["selected"] == 1000
    assert selection["mean_score_after"] > selection["mean_score_before"]
    assert sum(sample["strata"]["mixture"]["after"].values()) == 1000
    assert len(Counter(recipe_sources(train))) == 3
    lock = json.loads((folder / "manifest.json").read_text())["quality"]
    assert lock["scores"]["quality"]["kind"] == "heuristic"
    assert lock["selection"]["mixture"]["embedding"]["kind"] == "hashed_tfidf"
    card = (folder / "README.md").read_text()
    section = card.split("## Quality scores")[1].split("## Strata")[0]
    assert "| lima |" in section and "| code_alpaca |" in section and "| all |" in section
    assert "## Quality and diversity selection" in card
    assert "### mixture: by `cluster`" in card
