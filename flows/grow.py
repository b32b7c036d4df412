"""The scheduled Self-Instruct batch: each run adds STEP new machine instructions to one
collection.

Every run grows the same collection (`ROOT/COLLECTION`): it samples in-context examples from
the seeds plus every instruction already there, gates candidates against all of them (the
persisted novelty index), and commits its batch. It holds as many slots of the global `llm`
limit as it sends requests at once, so scheduled batches and other LLM work together stay under
the limit. A run finding the collection busy (the previous batch still running) waits up to
`wait_seconds`, then fails with one line; a run that keeps no instance fails after committing
its batch, naming the filter that took them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from flows.concurrency import llm_limit, llm_slot
from flows.self_instruct import self_instruct
from flows.settings import resolve_mirror
from generators.self_instruct.bootstrap import BootstrapConfig
from generators.self_instruct.collection import collection_path
from generators.self_instruct.llm import LLMConfig
from generators.self_instruct.output import empty_result
from instances import InstructmixError


def slots_for(concurrency: int, limit: int | None) -> int:
    """How many `llm` slots a run sending `concurrency` requests at once holds (<= the limit)."""
    return max(1, min(concurrency, limit)) if limit else max(1, concurrency)


@flow(name="grow-self-instruct")
def grow_self_instruct(
    base_url: str,
    model: str,
    step: int = 100,
    collection: str = "hourly",
    root: str = "artifacts/self_instruct",
    concurrency: int = 4,
    mirror: str | None = None,
    cache_path: str | None = None,
    wait_seconds: float = 0.0,
    seed: int = 0,
) -> dict[str, Any]:
    """Add STEP new instructions made with the model at BASE_URL to the collection
    ROOT/COLLECTION (CACHE_PATH: the request cache file; default: the Self-Instruct default)."""
    logger = get_run_logger()
    folder = collection_path(collection, Path(root))
    llm = LLMConfig(base_url=base_url, model=model, concurrency=concurrency)
    config = BootstrapConfig(n=step, seed=seed)
    slots = slots_for(concurrency, llm_limit())
    logger.info("batch of %d instructions into %s (holding %d llm slots)", step, folder, slots)
    with llm_slot(occupy=slots):
        stats = self_instruct(
            llm,
            config,
            folder,
            mirror=resolve_mirror(mirror),
            cache_path=Path(cache_path) if cache_path else None,
            wait_seconds=wait_seconds,
        )
    empty = empty_result(stats)
    if empty is not None:
        raise InstructmixError(f"{folder} batch {stats['batch']}: {empty}")
    return stats
