"""The Prefect flow `self_instruct`: lock the collection, bootstrap its next batch (retried,
resuming its state), then commit the batch.

The LLM task retries: each retry resumes after the last completed round and replays earlier
requests from the cache, so a retry costs only the round that failed. The collection's lock is
held around both tasks, so a second run on the same collection waits or fails with one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.settings import llm_cache_path
from generators.self_instruct.bootstrap import BootstrapConfig
from generators.self_instruct.collection import locked
from generators.self_instruct.llm import EndpointUnavailable, LLMConfig
from generators.self_instruct.run import bootstrap_batch, finish_batch
from generators.self_instruct.state import RunState


def worth_retrying(task: Any, task_run: Any, state: Any) -> bool:
    """Retry the LLM task when the endpoint was unavailable, not when it refused or on bad input."""
    return isinstance(state.data, EndpointUnavailable | OSError)


@task(
    name="self-instruct-bootstrap",
    retries=2,
    retry_delay_seconds=10,
    retry_condition_fn=worth_retrying,
    cache_policy=NO_CACHE,
)
def bootstrap_task(
    llm: LLMConfig,
    config: BootstrapConfig,
    collection: Path,
    mirror: Path | None,
    seed_file: Path | None,
    cache_path: Path | None,
    show_progress: bool,
) -> RunState:
    """Grow the collection's next batch with the LLM (the network task, retried)."""
    state = bootstrap_batch(
        llm,
        config,
        collection,
        mirror=mirror,
        seed_file=seed_file,
        cache_path=cache_path,
        show_progress=show_progress,
    )
    get_run_logger().info(state.summary())
    return state


@task(name="self-instruct-commit", cache_policy=NO_CACHE)
def commit_task(
    state: RunState,
    llm: LLMConfig,
    config: BootstrapConfig,
    collection: Path,
    mirror: Path | None,
    seed_file: Path | None,
) -> dict[str, Any]:
    """Write the batch folder, the novelty index and the manifest (the commit)."""
    stats = finish_batch(state, llm, config, collection, mirror=mirror, seed_file=seed_file)
    paper = stats["paper_statistics"]
    get_run_logger().info(
        "batch %s committed to %s: %d instructions, %d instances",
        state.batch,
        collection,
        paper["instructions"],
        paper["instances"],
    )
    return stats


@flow(name="self-instruct")
def self_instruct(
    llm: LLMConfig,
    config: BootstrapConfig,
    collection: Path,
    mirror: Path | None = None,
    seed_file: Path | None = None,
    cache_path: Path | None = None,
    show_progress: bool = False,
    wait_seconds: float = 0.0,
) -> dict[str, Any]:
    """Add a Self-Instruct batch made with an OpenAI-compatible endpoint to `collection`.

    `cache_path` is the request cache (default: the shared one under $INSTRUCTMIX_CACHE).
    """
    cache_path = cache_path if cache_path is not None else llm_cache_path()
    with locked(collection, wait_seconds):
        state = bootstrap_task(
            llm, config, collection, mirror, seed_file, cache_path, show_progress
        )
        return commit_task(state, llm, config, collection, mirror, seed_file)
