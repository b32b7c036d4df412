"""`instructmix sources` and `instructmix preview`, and the t0-style / flan-style recipes."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from generators.registry import run_generator
from generators.templated.tasks import T0_HELD_OUT
from instances.context import StageContext
from mixtures.recipe import load_recipe


def test_sources_lists_every_source_with_template_counts(mirror: Path) -> None:
    result = CliRunner().invoke(app, ["sources", "--mirror", str(mirror)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "│ 5 " in lines["sst2"] and "│ 15 " in lines["rte"] and "│ 30 " in lines["mnli_matched"]
    assert "│ 3 " in lines["cot_gsm8k"] and "existing set" in lines["lima"]
    assert all(
        line.rstrip("│ ").endswith("yes") for name, line in lines.items() if name != "source"
    )


def test_sources_check_reports_render_shares(mirror: Path) -> None:
    args = ["sources", "--mirror", str(mirror), "--check", "40"]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "│ 480 " in lines["squad_v2"] and "85.8%" in lines["squad_v2"]
    assert "empty_render: 68" in lines["squad_v2"]
    assert "6680" in lines["total"] and "6612" in lines["total"]


def test_preview_prints_rendered_instances(mirror: Path) -> None:
    args = ["preview", "sst2", "--n", "3", "--variant", "fs", "--k", "2", "--mirror", str(mirror)]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert result.output.count("assistant:") == 3 and result.output.count("#fs") == 3
    assert "12 of 12 rendered" in result.output


def test_preview_unknown_source_is_one_clear_error(mirror: Path) -> None:
    result = CliRunner().invoke(app, ["preview", "nope", "--mirror", str(mirror)])
    assert result.exit_code != 0
    assert "unknown source 'nope'" in str(result.exception)


@pytest.mark.parametrize("name", ["t0-style", "flan-style"])
def test_recipes_generate_without_held_out_clusters(mirror: Path, name: str) -> None:
    recipe = load_recipe(name)
    config = recipe.sources[0].generator.model_copy(update={"max_rows_per_task": 20})
    result = run_generator(config, StageContext(mirror=mirror, seed=recipe.seed))
    assert result.report.balanced() and result.kept.num_rows > 0
    categories = collections.Counter(result.kept.column("category").to_pylist())
    assert not set(categories) & set(T0_HELD_OUT)
    assert set(categories) == {
        "sentiment",
        "topic_classification",
        "extractive_qa",
        "multiple_choice_qa",
        "cot_reasoning",
    }
    table = result.report.extras["templates"]
    assert {row["task"] for row in table} >= {"sst2", "ag_news", "squad_v2", "cot_gsm8k"}
    if name == "t0-style":  # every template of every task, zero-shot
        assert {row["variant"] for row in table} == {"zs_noopt"}
        assert (
            len({(row["task"], row["template"]) for row in table})
            == 5 + 7 + 12 + 7 + 11 + 10 + 4 + 7 * 3
        )
