"""A Self-Instruct collection across runs: novelty against every earlier batch, the pool reader,
the persisted novelty index and the lock, against a scripted OpenAI-compatible server."""

from __future__ import annotations

import hashlib
import json
import random
import threading
from pathlib import Path

import pytest
from mirror_path import MIRROR
from rouge_score import rouge_scorer
from scripted_llm import WORDS, ScriptedLLM, synthetic_reply

from generators.registry import run_generator
from generators.self_instruct import collection as coll
from generators.self_instruct.bootstrap import BootstrapConfig
from generators.self_instruct.generate import Config as PoolConfig
from generators.self_instruct.llm import LLMConfig
from generators.self_instruct.run import run_self_instruct
from instances.context import StageContext

# Instructions every reply offers again (and near copies of them): only one run may keep each.
RECURRING = [
    "Write a limerick about a cat who learns to fly a kite.",
    "Explain why the sky looks red at sunset to a curious child.",
    "List five questions to ask before adopting a large dog.",
]


def recurring_reply(prompt: str) -> str:
    """Instruction prompts get the recurring items, a one-word edit of one, and 2 novel ones."""
    if not prompt.startswith("Come up with a series of tasks:"):
        return synthetic_reply(prompt)
    rng = random.Random(hashlib.sha256(prompt.encode()).hexdigest())
    edited = rng.choice(RECURRING).replace("five", "six").replace("cat", "dog")
    novel = [" ".join(rng.sample(WORDS, 8)) + "." for _ in range(2)]
    items = [*RECURRING, edited, *novel]
    return " " + "\n".join(f"{9 + i}. {item}" if i else item for i, item in enumerate(items))


def grow(server, collection: Path, cache: Path, n: int = 6, **kwargs) -> dict:
    llm = LLMConfig(base_url=server.base_url, model="scripted", concurrency=1)
    config = BootstrapConfig(n=n, request_batch_size=2)
    return run_self_instruct(llm, config, collection, mirror=MIRROR, cache_path=cache, **kwargs)


def batch_instructions(collection: Path) -> list[list[str]]:
    manifest = coll.read_manifest(collection)
    return [
        [
            r.instruction
            for r in coll.read_pool_file(coll.batch_dir(collection, b.name) / "pool.jsonl")
        ]
        for b in manifest.batches
    ]


def test_three_runs_never_repeat_an_earlier_batch(tmp_path):
    collection, cache = tmp_path / "grown", tmp_path / "c.sqlite"
    with ScriptedLLM(recurring_reply) as server:
        runs = [grow(server, collection, cache) for _ in range(3)]
    assert [r["batch"] for r in runs] == ["0001", "0002", "0003"]
    # the first run builds the index; the next ones load the persisted one
    assert [r["settings"]["index_rebuilt"] for r in runs] == [True, False, False]
    assert [r["settings"]["pool_before"] for r in runs] == [0, 6, 12]
    batches = batch_instructions(collection)
    assert [len(b) for b in batches] == [6, 6, 6]
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    for number, kept in enumerate(batches[1:], 1):
        earlier = [text for b in batches[:number] for text in b]
        for text in kept:
            top = max(scorer.score(text, old)["rougeL"].fmeasure for old in earlier)
            assert top <= 0.7, (text, number)
    union = [text for b in batches for text in b]
    assert len(set(union)) == len(union)
    assert sum(text.lower() in (r.lower() for r in RECURRING) for text in union) == 3
    # later batches offered the recurring items again and dropped them as too similar
    assert all(r["funnel"][0]["dropped_by_reason"].get("too_similar", 0) >= 3 for r in runs[1:])
    # the index on disk covers the seeds and every committed instruction
    index = json.loads((collection / coll.INDEX).read_text())
    assert index["texts"][-18:] == union and len(index["texts"]) == 175 + 18


def test_the_pool_reader_returns_the_union_of_every_batch(tmp_path):
    collection, cache = tmp_path / "grown", tmp_path / "c.sqlite"
    with ScriptedLLM(synthetic_reply) as server:
        for _ in range(3):
            grow(server, collection, cache, n=3)
    whole = run_generator(PoolConfig(collection="grown", root=tmp_path), StageContext())
    parts = [
        run_generator(PoolConfig(path=coll.batch_dir(collection, b)), StageContext())
        for b in ("0001", "0002", "0003")
    ]
    assert whole.kept.num_rows == sum(p.kept.num_rows for p in parts) > 0
    assert sorted(whole.kept.column("id").to_pylist()) == sorted(
        i for p in parts for i in p.kept.column("id").to_pylist()
    )
    assert whole.report.balanced()
    stats = whole.report.extras["self_instruct_statistics"]
    assert stats["instructions"] == 9 and stats["instances"] == whole.kept.num_rows
    metas = [json.loads(m) for m in whole.kept.column("meta").to_pylist()]
    assert {m["batch"] for m in metas} == {"0001", "0002", "0003"}


def test_an_index_of_an_uncommitted_batch_is_cut_back(tmp_path):
    collection, cache = tmp_path / "grown", tmp_path / "c.sqlite"
    with ScriptedLLM(synthetic_reply) as server:
        grow(server, collection, cache, n=3)
        # a run that died after writing its index but before its manifest
        index = json.loads((collection / coll.INDEX).read_text())
        stale = coll.NoveltyIndex.load(index)
        stale.add("An instruction of a batch that was never committed.")
        coll.save_index(collection, stale)
        second = grow(server, collection, cache, n=3)
    assert second["settings"]["index_rebuilt"] is False
    texts = json.loads((collection / coll.INDEX).read_text())["texts"]
    assert "An instruction of a batch that was never committed." not in texts
    assert len(texts) == 175 + 6


def held_reply(started: threading.Event, release: threading.Event):
    """synthetic_reply, but the first request waits for `release` (its run holds the lock)."""

    def reply(prompt: str) -> str:
        if not started.is_set():
            started.set()
            assert release.wait(60)
        return synthetic_reply(prompt)

    return reply


def test_a_second_run_fails_clearly_while_the_first_grows(tmp_path):
    collection, cache = tmp_path / "grown", tmp_path / "c.sqlite"
    started, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}
    with ScriptedLLM(held_reply(started, release)) as server:
        first = threading.Thread(
            target=lambda: results.update(first=grow(server, collection, cache, n=3))
        )
        first.start()
        assert started.wait(60)  # the first run holds the lock and waits for its reply
        with pytest.raises(coll.CollectionBusy, match="another run is growing this collection"):
            grow(server, collection, cache, n=3)
        release.set()
        first.join(60)
        second = grow(server, collection, cache, n=3)
    assert results["first"]["batch"] == "0001" and second["batch"] == "0002"
    assert [len(b) for b in batch_instructions(collection)] == [3, 3]
    assert not (collection / coll.PENDING).exists()


def test_concurrent_runs_that_wait_commit_one_after_the_other(tmp_path):
    collection, cache = tmp_path / "grown", tmp_path / "c.sqlite"
    started, release = threading.Event(), threading.Event()
    results: dict[str, dict] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            results[name] = grow(server, collection, cache, n=4, wait_seconds=60)
        except BaseException as error:  # surfaced below
            errors.append(error)

    with ScriptedLLM(held_reply(started, release)) as server:
        threads = [threading.Thread(target=worker, args=(name,)) for name in ("a", "b", "c")]
        for thread in threads:
            thread.start()
        assert started.wait(60)  # one of them holds the lock; the others wait for it
        release.set()
        for thread in threads:
            thread.join(120)
    assert not errors
    assert sorted(r["batch"] for r in results.values()) == ["0001", "0002", "0003"]
    manifest = coll.read_manifest(collection)
    assert [b.name for b in manifest.batches] == ["0001", "0002", "0003"]
    union = [text for b in batch_instructions(collection) for text in b]
    assert len(union) == 12 and len(set(union)) == 12
    index = json.loads((collection / coll.INDEX).read_text())
    assert index["texts"][175:] == union
    assert not list(collection.rglob("*.tmp")) and not (collection / coll.PENDING).exists()
