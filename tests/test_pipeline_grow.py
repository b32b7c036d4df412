"""The scheduled Self-Instruct batch flow against a scripted OpenAI-compatible endpoint."""

from __future__ import annotations

import json

import pytest
import scripted_llm


@pytest.mark.slow
def test_each_batch_adds_step_instructions_in_its_own_folder(tmp_path, mirror, prefect_harness):
    from flows.concurrency import ensure_llm_limit
    from flows.grow import grow_self_instruct

    ensure_llm_limit(1)  # the batch asks for 2 requests at once; it may hold only 1 slot
    with scripted_llm.ScriptedLLM(scripted_llm.synthetic_reply) as server:
        stats = grow_self_instruct(
            server.base_url,
            "scripted",
            step=6,
            runs_dir=str(tmp_path / "batches"),
            concurrency=2,
            mirror=str(mirror),
            cache_path=str(tmp_path / "requests.sqlite"),
        )
    batches = sorted((tmp_path / "batches").iterdir())
    assert len(batches) == 1
    pool = (batches[0] / "pool.jsonl").read_text().splitlines()
    assert len(pool) >= 6 and all(json.loads(line) for line in pool)
    assert (batches[0] / "instances.parquet").is_file() and stats is not None
