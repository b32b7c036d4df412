"""The curated recipe's filter pipeline builds end to end; funnel and inspect show every stage."""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq
import pytest
from curation_rows import row
from rich.console import Console
from typer.testing import CliRunner

from data_cards.rows_view import inspect_mixture
from flows.cli import app
from instances import make_table, write_parquet_atomic
from instances.context import StageContext
from mixtures.build import build_into
from mixtures.recipe import SourceSpec, load_recipe

CURATION_STAGES = [
    "exact_dedup",
    "length",
    "quality",
    "pii_mask",
    "near_dedup",
    "decontaminate",
    "language",
]


def _planted(mirror, path):
    """Rows that each curation filter should catch, written as an instances file."""
    first_lima = json.loads((mirror / "lima" / "lima.json").read_text())[0]["instruction"]
    with open(mirror / "gsm8k" / "test.jsonl", encoding="utf-8") as handle:
        gsm8k = json.loads(handle.readline())["question"]
    prompts = [
        (first_lima.upper(), "A different answer."),  # exact duplicate of LIMA's first prompt
        ("Please solve this: " + gsm8k, "18"),  # contaminated:gsm8k
        ("Écrivez un court poème sur la mer et les bateaux qui partent au petit matin.", "Non."),
        ("Write to me at jane.doe@example.org about the weather in Paris.", "Sure, I will."),
    ]
    rows = [row(p, r, source="planted") for p, r in prompts]
    write_parquet_atomic(make_table(rows), path)
    return rows


@pytest.fixture(scope="module")
def built(tmp_path_factory, mirror):
    recipe = load_recipe("curated")
    # The curated filters on the smaller sources (Stanford Alpaca alone is 52k rows).
    small = [s for s in recipe.sources if s.name in ("lima", "gpt4_llm", "code_alpaca")]
    planted = tmp_path_factory.mktemp("planted") / "planted.parquet"
    _planted(mirror, planted)
    extra = SourceSpec(name="planted", generator={"kind": "instances_file", "path": planted})
    recipe = recipe.model_copy(update={"sources": [*small, extra]})
    folder = tmp_path_factory.mktemp("mixtures") / "curated"
    folder.mkdir()
    result = build_into(recipe, StageContext(mirror=mirror, seed=recipe.seed), folder)
    return result, folder


def test_recipe_uses_every_curation_filter():
    kinds = [f.kind for f in load_recipe("curated").filters]
    assert kinds == CURATION_STAGES


def test_funnel_has_every_stage_balanced_with_reasons(built):
    _, folder = built
    funnel = json.loads((folder / "funnel.json").read_text())
    stages = {report["stage"]: report for report in funnel}
    for stage in CURATION_STAGES:
        report = stages[stage]
        dropped = sum(report["dropped_by_reason"].values())
        assert report["rows_in"] == report["rows_out"] + dropped, stage
    assert stages["exact_dedup"]["dropped_by_reason"]["exact_duplicate"] > 0
    assert stages["decontaminate"]["extras"]["benchmarks"]["mmlu"]["rows"] >= 1
    assert stages["decontaminate"]["dropped_by_reason"]["contaminated:gsm8k"] == 1
    assert stages["language"]["dropped_by_reason"]["language_not_allowed"] >= 1
    assert stages["pii_mask"]["extras"]["rows_changed"]["email"] >= 1
    rejected = pq.read_table(folder / "rejected.parquet").to_pylist()
    by_stage = {}
    for dropped in rejected:
        by_stage.setdefault(dropped["reject_stage"], []).append(dropped)
    for stage in ("exact_dedup", "quality", "decontaminate"):
        assert by_stage[stage], stage
    assert all(r["duplicate_of"] for r in by_stage["exact_dedup"])
    assert all(r["reject_reason"].startswith("contaminated:") for r in by_stage["decontaminate"])


def test_inspect_shows_a_duplicate_beside_the_row_it_duplicates(built):
    _, folder = built
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, force_terminal=False)
    matched = inspect_mixture(
        folder, rejected=True, reason="exact_duplicate", limit=1, console=console
    )
    text = buffer.getvalue()
    first = next(
        r
        for r in pq.read_table(folder / "rejected.parquet").to_pylist()
        if r["reject_reason"] == "exact_duplicate"
    )
    assert matched >= 1
    assert f"duplicate of {first['duplicate_of']}" in text
    assert "exact_dedup: exact_duplicate" in text


def test_inspect_cli_filters_by_reason_prefix_and_source(built):
    _, folder = built
    runner = CliRunner()
    args = ["inspect", "curated", "--output-dir", str(folder.parent), "--rejected"]
    result = runner.invoke(app, [*args, "--reason", "contaminated", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "contaminated:" in result.output
    result = runner.invoke(app, [*args, "--source", "no_such_source"])
    assert result.exit_code == 0 and "0 rejected rows match" in result.output


def test_inspect_kept_rows_and_a_clear_error_for_reason_without_rejected(built):
    _, folder = built
    runner = CliRunner()
    args = ["inspect", "curated", "--output-dir", str(folder.parent)]
    result = runner.invoke(app, [*args, "--source", "lima", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "kept rows match" in result.output and "lima / lima" in result.output
    result = runner.invoke(app, [*args, "--reason", "refusal"])
    assert result.exit_code != 0
    assert "--reason applies to rejected rows" in str(result.exception)
