"""The scheduled Self-Instruct batch flow against a scripted OpenAI-compatible endpoint."""

from __future__ import annotations

import pytest
import yaml
from scripted_llm import ScriptedLLM, synthetic_reply

from flows.concurrency import ensure_llm_limit
from flows.grow import grow_self_instruct
from flows.schedules import SCHEDULES_FILE
from generators.self_instruct import collection as coll


@pytest.mark.slow
def test_each_scheduled_run_grows_the_same_collection(tmp_path, mirror, prefect_harness):
    ensure_llm_limit(1)  # the batch asks for 2 requests at once; it may hold only 1 slot
    with ScriptedLLM(synthetic_reply) as server:
        runs = [
            grow_self_instruct(
                server.base_url,
                "scripted",
                step=6,
                collection="hourly",
                root=str(tmp_path),
                concurrency=2,
                mirror=str(mirror),
                cache_path=str(tmp_path / "requests.sqlite"),
            )
            for _ in range(2)
        ]
        prompts = [r["prompt"] for r in server.requests if r["prompt"].startswith("Come up")]
    manifest = coll.read_manifest(tmp_path / "hourly")
    assert [b.name for b in manifest.batches] == ["0001", "0002"]
    assert [r["settings"]["pool_before"] for r in runs] == [0, 6]
    first = [r.instruction for r in coll.read_records(tmp_path / "hourly")][:6]
    # the second run's first prompt already samples machine instructions of the first batch
    second_run_first_prompt = prompts[len(runs[0]["rounds"]) * 5]
    assert sum(text[:20] in second_run_first_prompt for text in first) == 2


def test_the_hourly_schedule_grows_one_collection():
    schedules = yaml.safe_load(SCHEDULES_FILE.read_text())
    hourly = next(d for d in schedules["deployments"] if d["name"] == "self-instruct-hourly")
    assert hourly["flow"] == "grow_self_instruct" and hourly["interval_seconds"] == 3600
    assert hourly["parameters"]["collection"] == "hourly"
    assert "runs_dir" not in hourly["parameters"]
