"""The scheduled Self-Instruct batch (the `self_instruct` flow with the parameters of
schedules.yaml) against a scripted OpenAI-compatible endpoint."""

from __future__ import annotations

import pytest
import yaml
from scripted_llm import ScriptedLLM, synthetic_reply

from flows.concurrency import LLM_LIMIT, ensure_llm_limit
from flows.schedules import SCHEDULES_FILE
from flows.self_instruct import self_instruct
from generators.self_instruct import collection as coll


def hourly_entry() -> dict:
    schedules = yaml.safe_load(SCHEDULES_FILE.read_text())
    return next(d for d in schedules["deployments"] if d["name"] == "self-instruct-hourly")


@pytest.mark.slow
def test_each_scheduled_run_grows_the_same_collection(tmp_path, mirror, prefect_harness):
    from prefect.client.orchestration import get_client

    ensure_llm_limit(1)  # the batch asks for 2 requests at once; it may hold only 1 slot
    held = []

    def reply(prompt: str) -> str:
        with get_client(sync_client=True) as client:
            held.append(client.read_global_concurrency_limit_by_name(LLM_LIMIT).active_slots)
        return synthetic_reply(prompt)

    scheduled = hourly_entry()["parameters"]
    with ScriptedLLM(reply) as server:
        # the schedule's parameters as a deployment passes them (plain dicts), for this test
        llm = {**scheduled["llm"], "base_url": server.base_url, "model": "scripted"}
        parameters = {
            **scheduled,
            "llm": {**llm, "concurrency": 2},
            "config": {**scheduled["config"], "n": 6},
            "root": str(tmp_path),
            "mirror": str(mirror),
            "cache_path": str(tmp_path / "requests.sqlite"),
        }
        runs = [self_instruct(**self_instruct.validate_parameters(parameters)) for _ in range(2)]
        prompts = [r["prompt"] for r in server.requests if r["prompt"].startswith("Come up")]
    assert set(held) == {1}  # every request was sent while the run held its one slot
    manifest = coll.read_manifest(tmp_path / "hourly")
    assert [b.name for b in manifest.batches] == ["0001", "0002"]
    assert [r["settings"]["pool_before"] for r in runs] == [0, 6]
    first = [r.instruction for r in coll.read_records(tmp_path / "hourly")][:6]
    # the second run's first prompt already samples machine instructions of the first batch
    second_run_first_prompt = prompts[len(runs[0]["rounds"]) * 5]
    assert sum(text[:20] in second_run_first_prompt for text in first) == 2


def test_the_hourly_schedule_grows_one_collection():
    hourly = hourly_entry()
    assert hourly["flow"] == "self_instruct" and hourly["interval_seconds"] == 3600
    assert hourly["parameters"]["collection"] == "hourly"
    checked = self_instruct.validate_parameters(hourly["parameters"])
    assert checked["config"].n == 100 and checked["llm"].concurrency == 4
