"""The `train` Prefect flow and the `instructmix train NAME [--preflight]` command."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from flows.cli import app, main
from instances import make_instance, make_table, write_parquet_atomic

QA = [
    ("What is two plus two?", "Four."),
    ("Name a primary colour.", "Red is a primary colour."),
    ("Translate 'bonjour' to English.", "Hello."),
    ("What is the capital of Italy?", "Rome is the capital of Italy."),
    ("Give a synonym of happy.", "Glad."),
    ("How many legs does a spider have?", "A spider has eight legs."),
]


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    """A recipe YAML with a tiny train: section, and its mixture already built under artifacts/."""
    data = {
        "name": "flowmix",
        "sources": [{"name": "lima", "generator": {"kind": "existing", "dataset": "lima"}}],
        "train": {
            "base_model": "tiny",
            "tiny": {"vocab_size": 320},
            "max_length": 64,
            "max_steps": 3,
            "per_device_batch_size": 4,
            "learning_rate": 1e-3,
        },
    }
    path = tmp_path / "flowmix.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    rows = [
        make_instance(
            [{"role": "user", "content": q}, {"role": "assistant", "content": a}],
            source="fixture",
            origin="human",
            task="qa",
            category="open_qa",
            template="raw",
        )
        for q, a in QA * 2
    ]
    data_dir = tmp_path / "artifacts" / "mixtures" / "flowmix" / "data"
    write_parquet_atomic(make_table(rows), data_dir / "train-00000-of-00001.parquet")
    return path


def test_cli_preflight_prints_the_report(recipe: Path) -> None:
    artifacts = recipe.parent / "artifacts"
    result = CliRunner().invoke(
        app, ["train", str(recipe), "--preflight", "--output-dir", str(artifacts / "mixtures")]
    )
    assert result.exit_code == 0, result.output
    assert "rows: 12" in result.output and "verdict: ready" in result.output
    assert not (artifacts / "models").exists()


def test_cli_says_to_build_first(
    recipe: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", str(recipe), "--output-dir", str(tmp_path / "empty")])
    assert exit_info.value.code == 1
    assert "instructmix build" in capsys.readouterr().err


def test_train_flow_trains_and_saves(recipe: Path, tmp_path: Path, prefect_harness) -> None:
    from flows.train import train

    artifacts = recipe.parent / "artifacts"
    result = train(str(recipe), output_dir=artifacts / "mixtures", model_cache=tmp_path / "cache")
    assert result.steps == 3
    out = artifacts / "models" / "flowmix"
    assert (out / "model.safetensors").is_file() and (out / "metrics.json").is_file()
