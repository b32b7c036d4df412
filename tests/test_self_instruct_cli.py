"""`instructmix self-instruct` through the Prefect flow, against a scripted server."""

from __future__ import annotations

import json

from scripted_llm import ScriptedLLM, synthetic_reply
from typer.testing import CliRunner

from flows.cli import app
from instances import InstructmixError, read_instances


def test_cli_runs_the_flow_and_prints_the_funnel(prefect_harness, mirror, tmp_path):
    out = tmp_path / "run"
    args = ["self-instruct", "--n", "6", "--model", "scripted", "--output-dir", str(out)]
    args += ["--cache", str(tmp_path / "c.sqlite"), "--mirror", str(mirror), "--no-progress"]
    with ScriptedLLM(synthetic_reply) as server:
        result = CliRunner().invoke(app, [*args, "--base-url", server.base_url])
        assert result.exit_code == 0, result.output
        assert "instructions: 6 (" in result.output
        assert "self_instruct_instructions: 6 -> 6" in result.output
        rerun = CliRunner().invoke(app, [*args, "--base-url", server.base_url])
    assert "requests 0, cache hits" in rerun.output
    assert read_instances(out / "instances.parquet").num_rows == 12
    stats = json.loads((out / "stats.json").read_text())
    assert stats["settings"]["model"] == "scripted" and stats["stopped"] is None


def test_cli_needs_a_model_with_a_base_url(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_MODEL", raising=False)
    result = CliRunner().invoke(
        app, ["self-instruct", "--base-url", "http://127.0.0.1:9/v1", "--output-dir", str(tmp_path)]
    )
    assert isinstance(result.exception, InstructmixError)
    assert "--model (or OPENAI_MODEL) is required" in str(result.exception)
