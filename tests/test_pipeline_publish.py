"""The build flow's optional publish step: the publish subflow pushes the fresh build to a Hub."""

from __future__ import annotations

import hub_loopback
import pytest
from pipeline_support import make_mini_mirror, mini_recipe, write_recipe


@pytest.mark.slow
def test_pipeline_builds_then_publishes(tmp_path, mirror, monkeypatch, prefect_harness, hub_online):
    from huggingface_hub import constants

    from flows.build import build_flow

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)  # the fake Hub speaks LFS only
    monkeypatch.setattr(constants, "HF_HOME", str(tmp_path / "hf-home"))
    mini = make_mini_mirror(mirror, tmp_path / "mirror")
    recipe = write_recipe(tmp_path, mini_recipe("pushed"))
    with hub_loopback.FakeHub() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("HF_TOKEN", "hf_loopbackPipelineToken")
        result = build_flow(
            str(recipe),
            mirror=str(mini),
            output_dir=str(tmp_path / "artifacts" / "mixtures"),
            result_cache=str(tmp_path / "cache"),
            publish_repo="org/pushed",
        )
        received = hub.state.files("org/pushed")
    assert result.steps["publish"] == "published to org/pushed"
    assert received["README.md"] == result.folder.card_path.read_bytes()
    train_file = "data/train-00000-of-00001.parquet"
    assert received[train_file] == (result.folder.path / train_file).read_bytes()
