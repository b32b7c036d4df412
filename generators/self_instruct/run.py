"""One Self-Instruct run end to end: seeds -> bootstrap (resumable) -> the next batch of a
collection.

`run_self_instruct` holds the collection's lock for the whole run, so two runs never sample
from or gate against a pool the other is changing; the flow in flows/ does the same around
its two tasks (`bootstrap_batch`, retried, then `finish_batch`). The resume state is the
collection's `pending.state.json`; the request cache is shared between runs
(`<cache_dir>/llm_cache.sqlite`), so a rerun of the same requests costs nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from generators.self_instruct import collection as coll
from generators.self_instruct.bootstrap import BootstrapConfig, bootstrap
from generators.self_instruct.llm import LLMClient, LLMConfig
from generators.self_instruct.seeds import load_seeds
from generators.self_instruct.state import RoundStats, RunState


def state_path_for(collection: Path) -> Path:
    """Where a run growing `collection` keeps its resume state."""
    return Path(collection) / coll.PENDING


def bootstrap_batch(
    llm: LLMConfig,
    config: BootstrapConfig,
    collection: Path,
    *,
    mirror: Path | None,
    seed_file: Path | None = None,
    cache_path: Path | None = None,
    show_progress: bool = False,
) -> RunState:
    """Grow the collection's next batch (resuming its pending state); call with the lock held."""
    seeds = load_seeds(mirror, seed_file)
    manifest = coll.read_manifest(collection)
    prior = coll.read_records(collection, manifest)
    index, rebuilt = coll.load_index(collection, [s.instruction for s in seeds], prior)
    client = LLMClient(llm, cache_path)  # None: no request cache (flows pass the default one)
    bar = tqdm(total=config.n, desc="instructions", unit="instr", disable=not show_progress)
    try:

        def advance(stats: RoundStats) -> None:
            bar.update(stats.pool - bar.n)
            bar.set_postfix(round=stats.round, kept=stats.kept, items=stats.items)

        state = bootstrap(
            client,
            seeds,
            config,
            state_path_for(collection),
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


def finish_batch(
    state: RunState,
    llm: LLMConfig,
    config: BootstrapConfig,
    collection: Path,
    *,
    mirror: Path | None,
    seed_file: Path | None = None,
) -> dict[str, Any]:
    """Commit `state` as the collection's next batch (with the lock held); return its stats."""
    seeds = load_seeds(mirror, seed_file)
    prior = coll.read_records(collection)
    index, _ = coll.load_index(collection, [s.instruction for s in seeds], prior)
    for machine in state.instructions:
        index.add(machine.instruction)
    settings = {
        "model": llm.model,
        "base_url": llm.base_url,
        "api": llm.api,
        "bootstrap": config.model_dump(mode="json"),
        "seeds": state.seeds,
        "index_rebuilt": state.index_rebuilt,
        "pool_before": len(prior),
    }
    return coll.commit_batch(
        collection,
        state,
        index,
        model=llm.model,
        sampling=config.generation.model_dump(mode="json"),
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
    with coll.locked(collection, wait_seconds):
        state = bootstrap_batch(
            llm,
            config,
            collection,
            mirror=mirror,
            seed_file=seed_file,
            cache_path=cache_path,
            show_progress=show_progress,
        )
        return finish_batch(state, llm, config, collection, mirror=mirror, seed_file=seed_file)
