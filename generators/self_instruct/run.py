"""One Self-Instruct run end to end: seeds -> bootstrap (resumable) -> the next batch of a
collection.

A `BatchRun` says what a run needs; `run_self_instruct` holds the collection's lock for the
whole run, so two runs never sample from or gate against a pool the other is changing; the
flow in flows/ does the same around its two tasks (`bootstrap_batch`, retried, then
`finish_batch`). The resume state is the collection's `pending.state.json`; the request cache
is shared between runs (`<cache_dir>/llm_cache.sqlite`), so a rerun of the same requests costs
nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from tqdm.auto import tqdm

from generators.self_instruct import collection as coll
from generators.self_instruct.bootstrap import BootstrapConfig, bootstrap
from generators.self_instruct.llm import LLMClient, LLMConfig
from generators.self_instruct.seeds import SeedTask, load_seeds
from generators.self_instruct.state import RoundStats, RunState


class BatchRun(BaseModel):
    """What a run adding one batch to a collection needs: the endpoint, the bootstrap settings,
    the collection's folder, where the seeds come from and the request cache."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    llm: LLMConfig
    config: BootstrapConfig
    collection: Path = Field(description="the collection's folder")
    mirror: Path | None = Field(None, description="the seeds' mirror; None: the Hub")
    seed_file: Path | None = Field(None, description="seed tasks JSONL instead of the 175")
    cache_path: Path | None = Field(None, description="request cache file; None: no cache")

    def seeds(self) -> list[SeedTask]:
        """The seed tasks of the run."""
        return load_seeds(self.mirror, self.seed_file)


def state_path_for(collection: Path) -> Path:
    """Where a run growing `collection` keeps its resume state."""
    return Path(collection) / coll.PENDING


def bootstrap_batch(run: BatchRun, show_progress: bool = False) -> RunState:
    """Grow the collection's next batch (resuming its pending state); call with the lock held."""
    seeds = run.seeds()
    manifest = coll.read_manifest(run.collection)
    prior = coll.read_records(run.collection, manifest)
    index, rebuilt = coll.load_index(run.collection, [s.instruction for s in seeds], prior)
    client = LLMClient(run.llm, run.cache_path)
    bar = tqdm(total=run.config.n, desc="instructions", unit="instr", disable=not show_progress)
    try:

        def advance(stats: RoundStats) -> None:
            bar.update(stats.pool - bar.n)
            bar.set_postfix(round=stats.round, kept=stats.kept, items=stats.items)

        state = bootstrap(
            client,
            seeds,
            run.config,
            state_path_for(run.collection),
            advance,
            batch=coll.next_batch(manifest),
            prior=prior,
            index=index,
        )
    finally:
        bar.close()
        client.close()
    state.seeds, state.index_rebuilt = len(seeds), rebuilt
    return state


def finish_batch(state: RunState, run: BatchRun) -> dict[str, Any]:
    """Commit `state` as the collection's next batch (with the lock held); return its stats."""
    prior = coll.read_records(run.collection)
    index, _ = coll.load_index(run.collection, [s.instruction for s in run.seeds()], prior)
    for machine in state.instructions:
        index.add(machine.instruction)
    settings = {
        "model": run.llm.model,
        "base_url": run.llm.base_url,
        "api": run.llm.api,
        "bootstrap": run.config.model_dump(mode="json"),
        "seeds": state.seeds,
        "index_rebuilt": state.index_rebuilt,
        "pool_before": len(prior),
    }
    return coll.commit_batch(
        run.collection,
        state,
        index,
        model=run.llm.model,
        sampling=run.config.generation.model_dump(mode="json"),
        settings=settings,
    )


def run_self_instruct(
    llm: LLMConfig,
    config: BootstrapConfig,
    collection: Path,
    *,
    mirror: Path | None,
    seed_file: Path | None = None,
    cache_path: Path | None = None,
    show_progress: bool = False,
    wait_seconds: float = 0.0,
) -> dict[str, Any]:
    """Add a batch of `config.n` instructions made with `llm` to the collection folder.

    Holds the collection's lock (waiting up to `wait_seconds`, else `CollectionBusy`);
    resumes the collection's pending state when a run with the same settings was killed.
    Returns the batch's stats (paper statistics, per-round stats, funnel, usage, stop reason).
    """
    run = BatchRun(
        llm=llm,
        config=config,
        collection=collection,
        mirror=mirror,
        seed_file=seed_file,
        cache_path=cache_path,
    )
    with coll.locked(collection, wait_seconds):
        return finish_batch(bootstrap_batch(run, show_progress), run)
