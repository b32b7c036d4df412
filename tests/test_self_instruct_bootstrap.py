"""The Self-Instruct loop end to end (one batch of a collection) against a scripted
OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from mirror_path import MIRROR
from scripted_llm import ScriptedLLM, synthetic_reply

from generators.registry import run_generator
from generators.self_instruct import filters
from generators.self_instruct.bootstrap import BootstrapConfig
from generators.self_instruct.generate import Config as PoolConfig
from generators.self_instruct.llm import LLMConfig
from generators.self_instruct.run import run_self_instruct, state_path_for
from generators.self_instruct.state import STATE_VERSION
from instances import InstructmixError
from instances.context import StageContext

ROOT = Path(__file__).resolve().parents[1]

SCRIPTED_ITEMS = (
    " Describe the picture of a cat in detail.\n"
    "10. Sort.\n"
    "11. Write a program to add two numbers together.\n"
    "12. - list three kinds of trees\n"
    "13. Émettez trois idées de cadeaux maintenant.\n"
    "14. Is there anything I can eat for a breakfast that doesn't include eggs, yet includes "
    "protein, and has roughly 700-1000 calories?\n"
    "15. Classify the sentiment of this tweet as happy or sad.\n"
    "16. Give me three tips for keeping a small garden alive."
)


def scripted(prompt: str) -> str | tuple[str, str]:
    """Exact replies: first generation call lists items for each filter, the second is cut off."""
    if prompt.startswith("Come up with a series of tasks:"):
        scripted.calls += 1
        if scripted.calls == 1:
            return SCRIPTED_ITEMS
        return " Name five animals that live in cold places.\n10. Tell me", "length"
    if prompt.rstrip().endswith("Is it classification?"):
        return " Yes" if "Classify" in prompt.rstrip().splitlines()[-2] else " No"
    if "Class label:" in prompt:
        return "Class label: Happy\nI won the race!\nClass label: Sad\nI lost my keys."
    return "Example 1\nOutput: Water it daily.\nExample 2\nOutput: Water it daily.\nExample 3"


def batch(collection: Path, number: int = 1) -> Path:
    return collection / "batches" / f"{number:04d}"


def kept_rows(collection: Path):
    return run_generator(PoolConfig(path=collection), StageContext()).kept


def run(server, out: Path, cache: Path, **overrides):
    llm = LLMConfig(
        base_url=server.base_url,
        model="scripted",
        concurrency=1,
        backoff_seconds=0.01,
        **overrides.pop("llm", {}),
    )
    config = BootstrapConfig(**overrides)
    return run_self_instruct(llm, config, out, mirror=MIRROR, cache_path=cache)


def test_filters_routing_and_batch_folder(tmp_path):
    scripted.calls = 0
    out = tmp_path / "run"
    with ScriptedLLM(scripted) as server:
        stats = run(server, out, tmp_path / "c.sqlite", n=2, request_batch_size=2)
    state_reasons = [s["dropped_by_reason"] for s in stats["funnel"]]
    assert state_reasons[0] == {
        filters.BLACKLISTED_KEYWORD: 1,
        filters.NON_ASCII_START: 1,
        filters.STARTS_WITH_PUNCTUATION: 1,
        filters.STARTS_WITH_WRITE_A_PROGRAM: 1,
        filters.TOO_SHORT: 1,
        filters.TOO_SIMILAR: 1,
        filters.TRUNCATED_RESPONSE: 1,
    }
    assert state_reasons[1] == {filters.DUPLICATE_INSTANCE: 1}
    assert sorted(p.name for p in batch(out).iterdir()) == [
        "funnel.json",
        "pool.jsonl",
        "rejected.jsonl",
        "stats.json",
    ]
    assert json.loads((batch(out) / "funnel.json").read_text()) == stats["funnel"]
    pool = [json.loads(line) for line in (batch(out) / "pool.jsonl").read_text().splitlines()]
    assert [(p["instruction"], p["is_classification"]) for p in pool] == [
        ("Classify the sentiment of this tweet as happy or sad.", True),
        ("Give me three tips for keeping a small garden alive.", False),
    ]
    rejected = [
        json.loads(line) for line in (batch(out) / "rejected.jsonl").read_text().splitlines()
    ]
    similar = next(r for r in rejected if "breakfast" in r["text"])
    assert similar["reason"] == "too_similar" and similar["max_rouge_l"] == 1.0
    # classification tasks get the output-first prompt, the others input-first
    instance_prompts = [r["prompt"] for r in server.requests if "Task:" in r["prompt"][-200:]]
    label_prompt = next(p for p in instance_prompts if p.startswith("For each classification"))
    assert label_prompt.endswith("Task: Classify the sentiment of this tweet as happy or sad.\n")
    kept = kept_rows(out)
    pairs = sorted((m[0]["content"], m[1]["content"]) for m in kept.column("messages").to_pylist())
    assert pairs == [
        ("Classify the sentiment of this tweet as happy or sad.\n\nI lost my keys.", "Sad"),
        ("Classify the sentiment of this tweet as happy or sad.\n\nI won the race!", "Happy"),
        ("Give me three tips for keeping a small garden alive.", "Water it daily."),
    ]
    paper = stats["paper_statistics"]
    assert (paper["instructions"], paper["classification_instructions"]) == (2, 1)
    assert (paper["instances"], paper["instances_with_empty_input"]) == (3, 1)
    assert paper["mean_output_words"] == pytest.approx((1 + 1 + 3) / 3, abs=0.01)
    meta = json.loads(kept.column("meta")[0].as_py())
    assert meta["generator_model"] == "scripted" and meta["sampling"]["presence_penalty"] == 2.0
    assert len(meta["in_context_seed_ids"]) == 8 and meta["max_rouge_l"] < 0.7
    assert not state_path_for(out).exists()


def test_second_run_is_served_from_the_cache(tmp_path):
    with ScriptedLLM(synthetic_reply) as server:
        first = run(server, tmp_path / "a", tmp_path / "c.sqlite", n=9, request_batch_size=2)
        sent = len(server.requests)
        second = run(server, tmp_path / "b", tmp_path / "c.sqlite", n=9, request_batch_size=2)
    assert sent > 0 and len(server.requests) == sent
    assert second["usage"]["requests"] == 0 and second["usage"]["cache_hits"] == sent
    assert first["paper_statistics"] == second["paper_statistics"]
    a = (batch(tmp_path / "a") / "pool.jsonl").read_bytes()
    assert a == (batch(tmp_path / "b") / "pool.jsonl").read_bytes()
    assert kept_rows(tmp_path / "a").equals(kept_rows(tmp_path / "b"))
    # machine instructions join the in-context examples after the first round
    later = [r["prompt"] for r in server.requests if r["prompt"].startswith("Come up")][-1]
    pool = {json.loads(line)["instruction"] for line in a.decode().splitlines()}
    assert sum(line[3:] in pool for line in later.splitlines()[1:9]) == 2


def test_token_budget_stops_cleanly_and_commits_what_was_done(tmp_path):
    out = tmp_path / "run"
    with ScriptedLLM(synthetic_reply) as server:
        # a round of one prompt costs about 1,100 tokens here
        budget = {"token_budget": 2000}
        stopped = run(server, out, tmp_path / "c.sqlite", n=9, request_batch_size=1, llm=budget)
        assert stopped["stopped"] == "token_budget"
        assert 0 < stopped["paper_statistics"]["instructions"] < 9
        assert not state_path_for(out).exists()  # committed: the next run is a new batch
        done = run(server, out, tmp_path / "c.sqlite", n=9, request_batch_size=1)
    assert done["stopped"] is None and done["paper_statistics"]["instructions"] == 9
    assert (done["batch"], done["batches"]) == ("0002", 2)
    manifest = json.loads((out / "collection.json").read_text())
    assert [b["stopped"] for b in manifest["batches"]] == ["token_budget", None]


def test_state_of_other_settings_is_refused(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    state_path_for(out).write_text(json.dumps({"version": STATE_VERSION, "fingerprint": "x"}))
    with ScriptedLLM(synthetic_reply) as server, pytest.raises(InstructmixError, match="delete it"):
        run(server, out, tmp_path / "c.sqlite", n=3)


CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from generators.self_instruct.bootstrap import BootstrapConfig
    from generators.self_instruct.llm import LLMConfig
    from generators.self_instruct.run import run_self_instruct
    base_url, out, cache, mirror = sys.argv[1:5]
    llm = LLMConfig(base_url=base_url, model="scripted", concurrency=1)
    run_self_instruct(llm, BootstrapConfig(n=12, request_batch_size=1), Path(out),
                      mirror=Path(mirror), cache_path=Path(cache))
    """
)


def test_resume_after_the_process_is_killed_mid_run(tmp_path):
    out, cache = tmp_path / "run", tmp_path / "c.sqlite"
    arrived = threading.Event()
    with ScriptedLLM(synthetic_reply) as server:
        # each round: 1 generation + 3 classification + 3 instance requests
        server.gate, server.hold_after = threading.Event(), 16
        server.on_request = lambda number: arrived.set() if number == 17 else None
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, server.base_url, str(out), str(cache), str(MIRROR)],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        # the 17th request arrives once the child holds 16 replies; it is held at the gate
        assert arrived.wait(60), "the child never sent its 17th request"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        server.hold_after = None
        server.gate.set()
        state = json.loads(state_path_for(out).read_text())
        assert state["rounds_done"] == 2 and len(state["instructions"]) == 6
        assert not (out / "collection.json").exists()  # nothing committed
        before = len(server.requests)
        resumed = run(server, out, cache, n=12, request_batch_size=1)
        resumed_requests = len(server.requests) - before
        run(server, tmp_path / "ref", tmp_path / "ref.sqlite", n=12, request_batch_size=1)
    # 4 rounds of 7 requests; the child got 16 replies: rounds 0-1 come from the state file,
    # round 2's two answered requests from the cache, the other 12 are sent again
    assert resumed["usage"]["cache_hits"] == 2
    assert resumed_requests == 12
    assert (batch(out) / "pool.jsonl").read_text() == (
        batch(tmp_path / "ref") / "pool.jsonl"
    ).read_text()
    assert [r["kept"] for r in resumed["rounds"]] == [3, 3, 3, 3]
    assert not state_path_for(out).exists()


def test_pool_generator_is_registered_and_reads_the_run(tmp_path):
    with ScriptedLLM(synthetic_reply) as server:
        stats = run(server, tmp_path / "run", tmp_path / "c.sqlite", n=3)
    config = PoolConfig(collection="run", root=tmp_path)
    result = run_generator(config, StageContext(mirror=MIRROR))
    assert result.report.balanced() and result.kept.num_rows == 6
    assert result.report.extras["self_instruct_statistics"] == stats["paper_statistics"]
    assert set(result.kept.column("origin").to_pylist()) == {"self_instruct"}
    one_batch = run_generator(PoolConfig(path=batch(tmp_path / "run")), StageContext())
    assert one_batch.kept.equals(result.kept)
    with pytest.raises(InstructmixError, match="no Self-Instruct collection or pool here"):
        run_generator(PoolConfig(path=tmp_path / "missing"), StageContext())
    absent = PoolConfig(collection="missing", root=tmp_path, missing_ok=True)
    assert run_generator(absent, StageContext()).kept.num_rows == 0
    with pytest.raises(ValueError, match="exactly one of"):
        PoolConfig(collection="a", path=tmp_path)


def test_a_recipe_mixes_a_self_instruct_run(tmp_path):
    from mixtures.build import run_stages
    from mixtures.recipe import Recipe

    with ScriptedLLM(synthetic_reply) as server:
        run(server, tmp_path / "run", tmp_path / "c.sqlite", n=6)
    recipe = Recipe.model_validate(
        {
            "name": "si",
            "sources": [
                {
                    "name": "self_instruct",
                    "generator": {
                        "kind": "self_instruct_pool",
                        "collection": "run",
                        "root": str(tmp_path),
                    },
                    "count": 5,
                }
            ],
            "filters": [{"kind": "exact_dedup", "fields": "prompt"}],
        }
    )
    result = run_stages(recipe, StageContext(mirror=MIRROR, seed=1))
    rows = sum(table.num_rows for table in result.splits.values())
    assert rows == 5


def test_the_answer_layout_asks_for_an_input_then_the_model_s_answer(tmp_path):
    with ScriptedLLM(synthetic_reply) as server:
        stats = run(server, tmp_path / "c", tmp_path / "c.sqlite", n=3, layout="answer")
        chats = [r["messages"] for r in server.requests if "messages" in r]
    pool = [
        json.loads(line) for line in (batch(tmp_path / "c") / "pool.jsonl").read_text().splitlines()
    ]
    plain = [p for p in pool if not p["is_classification"]]
    assert len(plain) == 2 and all(len(p["instances"]) == 5 for p in plain)
    instance = plain[0]["instances"][0]
    # the input came from an input-only conversation, the output from the plain question
    asked = [m for m in chats if m[0]["content"].startswith("You write one input")]
    assert len(asked) == 10 and asked[0][-1]["content"] == f"Task: {plain[0]['instruction']}"
    question = {"role": "user", "content": f"{plain[0]['instruction']}\n\n{instance['input']}"}
    assert [question] in chats
    assert stats["paper_statistics"]["instances"] > 0
