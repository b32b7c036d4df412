"""Pushing a mixture through the real `huggingface_hub` client to a fake Hub on 127.0.0.1.

Covered: repo creation, branch creation, YAML validation, pre-upload, the LFS batch API with
basic PUT uploads, and the NDJSON commit; the files the server ends up with are compared byte
for byte with the folder. Not covered: Xet storage (disabled here; the real Hub uses it when
hf_xet is installed), auth failures, rate limits, and the Hub's own YAML rules beyond the few
the fake checks. See docs/cards_and_hub.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hub_loopback import FakeHub
from huggingface_hub import HfApi, constants
from typer.testing import CliRunner

from data_cards.card import write_card
from data_cards.hub import PushError, push_folder, upload_plan
from flows.cli import app
from flows.server import stop_server
from instances import make_instance, make_table, write_parquet_atomic

TOKEN = "hf_loopbackTestToken_6f1d2c"


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "mixtures" / "tiny"
    rows = [
        make_instance(
            [
                {"role": "user", "content": f"Write note {i}."},
                {"role": "assistant", "content": "ok"},
            ],
            source="s",
            origin="human",
            task="t",
            category="c",
            template="raw",
            meta={"license": "cc-by-nc-4.0"},
        )
        for i in range(6)
    ]
    write_parquet_atomic(make_table(rows[:5]), out / "data" / "train-00000-of-00001.parquet")
    write_parquet_atomic(make_table(rows[5:]), out / "data" / "validation-00000-of-00001.parquet")
    write_parquet_atomic(make_table(rows[:1]), out / "rejected.parquet")
    (out / "funnel.json").write_text("[]\n")
    (out / "manifest.json").write_text(json.dumps({"name": "tiny", "recipe_hash": "c" * 64}))
    write_card(out, "name: tiny\n", ["cc-by-nc-4.0"])
    return out


@pytest.fixture
def no_xet(monkeypatch, tmp_path, hub_online):
    """The fake Hub speaks LFS, not Xet; and huggingface_hub's home is a temporary folder."""
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    home = tmp_path / "hf-home"
    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
    # huggingface_hub reads its agent-harness registry from this cache before asking the Hub
    # (https://huggingface.co, not the fake): a fresh empty copy keeps the tests off the network.
    registry = home / ".agent_harnesses.json"
    home.mkdir(parents=True)
    registry.write_text(json.dumps({"standardEnvVars": [], "harnesses": {}}))
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(registry))
    return home


def _token_files(*roots: Path) -> list[Path]:
    found = []
    for root in roots:
        for path in Path(root).rglob("*") if Path(root).exists() else []:
            if path.is_file() and TOKEN.encode() in path.read_bytes():
                found.append(path)
    return found


def test_plan_lists_card_shards_plots_and_lock_but_not_rejected(folder):
    names = [item.path_in_repo for item in upload_plan(folder)]
    assert names == [
        "README.md",
        "data/train-00000-of-00001.parquet",
        "data/validation-00000-of-00001.parquet",
        "plots/funnel.png",
        "plots/lengths.png",
        "plots/sources.png",
        "plots/strata.png",
        "plots/verbs.png",
        "manifest.json",
        "funnel.json",
    ]
    assert upload_plan(folder, include_rejected=True)[-1].path_in_repo == "rejected.parquet"
    assert all(item.size == item.local_path.stat().st_size for item in upload_plan(folder))


def test_push_uploads_every_planned_file_byte_for_byte(folder, no_xet, tmp_path):
    with FakeHub() as hub:
        api = HfApi(endpoint=hub.url, token=TOKEN)
        result = push_folder(folder, "org/tiny", api, private=True)
        state = hub.state
    assert state.repos["org/tiny"]["visibility"] == "private"
    assert state.repos["org/tiny"]["type"] == "dataset"
    received = state.files("org/tiny")
    planned = {item.path_in_repo: item.local_path.read_bytes() for item in result.files}
    assert received == planned
    assert "rejected.parquet" not in received
    # the pushed card's load snippet names the repository, not the ORG/ placeholder
    assert (
        b'load_dataset("org/tiny")' in received["README.md"]
        and b"ORG/" not in received["README.md"]
    )
    # Parquet and PNG went through the LFS batch API, README through the commit itself
    puts = [r for r in state.requests if r["method"] == "PUT"]
    assert len(puts) == 7 and len(state.lfs_blobs) == 7
    assert state.commits[0]["summary"] == f"instructmix: tiny (recipe {'c' * 16})"
    api_calls = [r for r in state.requests if r["path"].startswith("/api/")]
    assert {r["authorization"] for r in api_calls} == {f"Bearer {TOKEN}"}
    assert [r["path"] for r in state.requests if r["method"] == "GET"] == []
    assert result.commit_url.startswith(hub.url) and len(result.commit_oid) == 40
    assert _token_files(no_xet, folder, tmp_path) == []


def test_push_to_a_branch_with_rejected_rows(folder, no_xet):
    with FakeHub() as hub:
        api = HfApi(endpoint=hub.url, token=TOKEN)
        push_folder(folder, "org/tiny", api)
        push_folder(folder, "org/tiny", api, revision="v2", include_rejected=True)
        state = hub.state
    assert "visibility" not in state.repos["org/tiny"]  # no --private: the Hub's default
    assert state.branches["org/tiny"] == {"main", "v2"}
    assert "rejected.parquet" in state.files("org/tiny", "v2")
    assert "rejected.parquet" not in state.files("org/tiny", "main")


def test_bad_repo_id_and_unbuilt_folder_are_clear_errors(folder, tmp_path):
    api = HfApi(endpoint="http://127.0.0.1:9", token=TOKEN)  # never reached
    with pytest.raises(PushError, match="expected a Hub dataset id like 'org/name'"):
        push_folder(folder, "no-slash", api)
    with pytest.raises(PushError, match="no README.md card"):
        upload_plan(tmp_path)


def test_cli_dry_run_lists_exactly_the_files_and_sizes(folder):
    result = CliRunner().invoke(
        app, ["push", "tiny", "--repo", "x/y", "--dry-run", "--output-dir", str(folder.parent)]
    )
    assert result.exit_code == 0, result.output
    for item in upload_plan(folder):
        assert item.path_in_repo in result.output
        assert f"{item.size:,}" in result.output
    assert "rejected.parquet" not in result.output
    assert "10 files" in result.output


@pytest.mark.slow
def test_cli_push_runs_the_publish_flow_and_stores_no_token(folder, tmp_path):
    """The real command line in a subprocess (its own Prefect home and huggingface_hub home):
    HF_ENDPOINT and HF_TOKEN from the environment, the publish flow, no token on disk."""
    prefect_home, hf_home = tmp_path / "prefect-home", tmp_path / "hf-home"
    env = {
        **os.environ,
        "HF_ENDPOINT": "",  # set below, once the fake Hub has a port
        "HF_TOKEN": TOKEN,
        "HF_HOME": str(hf_home),
        "HF_HUB_DISABLE_XET": "1",  # the fake Hub speaks LFS, not Xet
        "HF_HUB_OFFLINE": "0",  # the fake Hub is on loopback: the one Hub tests may reach
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "150",
    }
    env.pop("PREFECT_API_URL", None)
    with FakeHub() as hub:
        env["HF_ENDPOINT"] = hub.url
        args = ["push", "tiny", "--repo", "org/tiny", "--output-dir", str(folder.parent)]
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "flows.cli", *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
        finally:  # the command started the local Prefect server under prefect_home
            stop_server(prefect_home)
        state = hub.state
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "pushed 10 files to org/tiny@main" in proc.stdout
    assert set(state.files("org/tiny")) == {i.path_in_repo for i in upload_plan(folder)}
    api_calls = [r for r in state.requests if r["method"] == "POST"]
    assert {r["authorization"] for r in api_calls} == {f"Bearer {TOKEN}"}
    gets = [r["path"] for r in state.requests if r["method"] == "GET"]
    assert set(gets) <= {"/api/agent-harnesses"}  # huggingface_hub's telemetry registry
    assert any(prefect_home.rglob("*.db"))  # the flow's run records are there to be scanned
    assert _token_files(hf_home, folder, prefect_home) == []
    assert TOKEN not in proc.stdout + proc.stderr
