"""`instructmix self-instruct` through the Prefect flow, against a scripted server."""

from __future__ import annotations

import json

from scripted_llm import ScriptedLLM, synthetic_reply
from typer.testing import CliRunner

from flows.cli import app
from flows.concurrency import LLM_LIMIT, ensure_llm_limit
from generators.registry import run_generator
from generators.self_instruct.generate import Config as PoolConfig
from generators.self_instruct.output import NoInstanceKept
from instances import InstructmixError
from instances.context import StageContext


def copying_reply(prompt: str) -> str:
    """Like synthetic_reply, but every instance copies its input (as greedy SmolLM2 did)."""
    if prompt.startswith("Write examples for each task"):
        return "Example 1\nInput: the same words\nOutput: the same words"
    if prompt.startswith("For each classification task"):
        return "Class label: Same\nSame"
    return synthetic_reply(prompt)


def args_for(tmp_path, mirror, collection: str) -> list[str]:
    return [
        "self-instruct",
        "--n",
        "6",
        "--model",
        "scripted",
        "--root",
        str(tmp_path),
        "--collection",
        collection,
        "--cache",
        str(tmp_path / "c.sqlite"),
        "--mirror",
        str(mirror),
        "--no-progress",
    ]


def test_cli_grows_a_collection_and_prints_the_summary_once(prefect_harness, mirror, tmp_path):
    from prefect.client.orchestration import get_client

    ensure_llm_limit(3)  # the run sends 4 requests at once: it holds the limit's 3 slots
    held = []

    def reply(prompt: str) -> str:
        with get_client(sync_client=True) as client:
            held.append(client.read_global_concurrency_limit_by_name(LLM_LIMIT).active_slots)
        return synthetic_reply(prompt)

    args = args_for(tmp_path, mirror, "cli")
    with ScriptedLLM(reply) as server:
        result = CliRunner().invoke(app, [*args, "--base-url", server.base_url])
        assert result.exit_code == 0, result.output
        assert result.output.count("instructions: 6 (") == 1
        assert result.output.count("self_instruct_instructions: 6 -> 6") == 1
        assert "batch 0001 added to" in result.output
        again = CliRunner().invoke(app, [*args, "--base-url", server.base_url])
        assert again.exit_code == 0 and "batch 0002 added to" in again.output
        # the same settings into another collection are served from the request cache
        other = args_for(tmp_path, mirror, "other")
        rerun = CliRunner().invoke(app, [*other, "--base-url", server.base_url])
    assert "requests 0, cache hits" in rerun.output
    assert held and set(held) == {3}  # a run by hand holds its slots of the global limit
    rows = run_generator(PoolConfig(collection="cli", root=tmp_path), StageContext()).kept
    assert rows.num_rows == 24
    stats = json.loads((tmp_path / "cli" / "batches" / "0001" / "stats.json").read_text())
    assert stats["settings"]["model"] == "scripted" and stats["stopped"] is None
    table = CliRunner().invoke(app, ["self-instruct", "stats", "cli", "--root", str(tmp_path)])
    assert table.exit_code == 0, table.output
    assert "(2 batches)" in table.output
    assert "| instructions | 12 | 52,445 |" in table.output
    assert "| instances | 24 | 82,439 |" in table.output


def test_a_run_without_instances_exits_non_zero_naming_the_filter(
    prefect_harness, mirror, tmp_path
):
    args = args_for(tmp_path, mirror, "copies")
    with ScriptedLLM(copying_reply) as server:
        result = CliRunner().invoke(app, [*args, "--base-url", server.base_url])
    assert result.exit_code == 1, result.output
    assert result.output.count("instructions: 6 (") == 1  # the committed batch's summary
    assert isinstance(result.exception, NoInstanceKept)
    assert (
        "batch 0001: no instance kept: 6 generated instances of 6 instructions were dropped by "
        "output_equals_input 6" in str(result.exception)
    )


def test_stats_of_the_released_generations(mirror):
    sample = mirror / "self_instruct" / "gpt3_generations_sample_1000.json"
    result = CliRunner().invoke(
        app, ["self-instruct", "stats", "--released", str(sample), "--json"]
    )
    assert result.exit_code == 0, result.output
    table = json.loads(result.output)
    assert table["instructions"] == 1000 and table["instances"] == 1000
    assert table["classification_instructions"] is None
    assert table["instances_with_empty_input"] == 0  # the sample took rows with an input


def test_cli_needs_a_model_with_a_base_url(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_MODEL", raising=False)
    result = CliRunner().invoke(
        app, ["self-instruct", "--base-url", "http://127.0.0.1:9/v1", "--root", str(tmp_path)]
    )
    assert isinstance(result.exception, InstructmixError)
    assert "--model (or OPENAI_MODEL) is required" in str(result.exception)


def test_stats_needs_a_collection(tmp_path):
    result = CliRunner().invoke(app, ["self-instruct", "stats", "nope", "--root", str(tmp_path)])
    assert isinstance(result.exception, InstructmixError)
    assert "no Self-Instruct collection here" in str(result.exception)
