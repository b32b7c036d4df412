"""The scheduled Self-Instruct batch: each run adds STEP new machine instructions.

A run writes a new Self-Instruct run folder `RUNS_DIR/<UTC time>` (seeded by that time, so
each batch samples different in-context tasks) through the `self_instruct` flow, holding as many
slots of the global `llm` limit as it sends requests at once, so scheduled batches and other
LLM work together stay under the limit.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from flows.concurrency import llm_limit, llm_slot
from flows.self_instruct import self_instruct
from flows.settings import resolve_mirror
from generators.self_instruct.bootstrap import BootstrapConfig
from generators.self_instruct.llm import LLMConfig


def batch_folder(runs_dir: Path, now: dt.datetime) -> Path:
    """The run folder of the batch started at `now` (UTC, sortable by name)."""
    return Path(runs_dir) / now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def slots_for(concurrency: int, limit: int | None) -> int:
    """How many `llm` slots a run sending `concurrency` requests at once holds (<= the limit)."""
    return max(1, min(concurrency, limit)) if limit else max(1, concurrency)


@flow(name="grow-self-instruct")
def grow_self_instruct(
    base_url: str,
    model: str,
    step: int = 100,
    runs_dir: str = "artifacts/self_instruct/batches",
    concurrency: int = 4,
    mirror: str | None = None,
    cache_path: str | None = None,
) -> dict[str, Any]:
    """Generate STEP new instructions with the model at BASE_URL into a new batch folder
    (CACHE_PATH: the request cache file; default: the Self-Instruct default)."""
    logger = get_run_logger()
    now = dt.datetime.now(dt.UTC)
    out_dir = batch_folder(Path(runs_dir), now)
    llm = LLMConfig(base_url=base_url, model=model, concurrency=concurrency)
    config = BootstrapConfig(n=step, seed=int(now.timestamp()))
    slots = slots_for(concurrency, llm_limit())
    logger.info("batch of %d instructions into %s (holding %d llm slots)", step, out_dir, slots)
    with llm_slot(occupy=slots):
        return self_instruct(
            llm,
            config,
            out_dir,
            mirror=resolve_mirror(mirror),
            cache_path=Path(cache_path) if cache_path else None,
        )
