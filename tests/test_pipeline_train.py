"""The build flow's optional last step: train on the mixture it just built (the train subflow)."""

from __future__ import annotations

import pytest
from pipeline_support import make_mini_mirror, mini_recipe, write_recipe


@pytest.mark.slow
def test_pipeline_builds_then_trains_a_tiny_model(tmp_path, mirror, prefect_harness):
    from flows.build import build_flow

    mini = make_mini_mirror(mirror, tmp_path / "mirror")
    data = mini_recipe("trained")
    data["train"] = {
        "base_model": "tiny",
        "max_length": 128,
        "max_steps": 3,
        "per_device_batch_size": 4,
        "logging_steps": 1,
    }
    recipe = write_recipe(tmp_path, data)
    result = build_flow(
        str(recipe),
        mirror=str(mini),
        output_dir=str(tmp_path / "artifacts" / "mixtures"),
        result_cache=str(tmp_path / "cache"),
        train=True,
    )
    assert result.steps["train"].startswith("trained:"), result.steps
    model_dir = tmp_path / "artifacts" / "models" / "trained"
    assert model_dir.is_dir() and any(model_dir.iterdir())


def test_train_without_a_train_section_fails_before_building(tmp_path, mirror, prefect_harness):
    from flows.build import build_flow
    from instances import InstructmixError

    mini = make_mini_mirror(mirror, tmp_path / "mirror")
    recipe = write_recipe(tmp_path, mini_recipe("untrainable"))
    with pytest.raises(InstructmixError, match="has no train: section"):
        build_flow(str(recipe), mirror=str(mini), output_dir=str(tmp_path / "out"), train=True)
    assert not (tmp_path / "out").exists()


def test_build_train_without_a_train_section_fails_before_the_flow(tmp_path, mirror, monkeypatch):
    """The command checks before it starts Prefect and the flow."""
    from flows.cli import main
    from flows.commands import build
    from instances import InstructmixError

    monkeypatch.setattr(build, "run_flow", lambda *args, **options: pytest.fail("flow ran"))

    mini = make_mini_mirror(mirror, tmp_path / "mirror")
    recipe = write_recipe(tmp_path, mini_recipe("untrainable"))
    out = tmp_path / "out"
    args = ["--debug", "build", str(recipe), "--mirror", str(mini), "--output-dir", str(out)]
    with pytest.raises(InstructmixError, match="has no train: section"):
        main([*args, "--train"])
    assert not out.exists()
