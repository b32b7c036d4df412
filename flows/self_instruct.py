"""The Prefect flow `self_instruct`: add one batch to a Self-Instruct collection, run by
`instructmix self-instruct` or on a schedule (flows/schedules.yaml).

The flow locks the collection, bootstraps its next batch (retried, resuming its state), then
commits the batch. The LLM task holds as many slots of the global `llm` limit as it sends
requests at once, so every run, by hand or scheduled, stays under the limit with all other LLM
work. Each retry resumes after the last completed round and replays earlier requests from the
cache, so a retry costs only the round that failed. A second run on the same collection waits
up to `wait_seconds`, then fails with one line; a batch that keeps no instance is committed,
then the run fails (`NoInstanceKept`) naming the filters that took them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.concurrency import hold_llm_slots
from flows.settings import llm_cache_path, resolve_mirror
from generators.self_instruct.bootstrap import BootstrapConfig
from generators.self_instruct.collection import DEFAULT_ROOT, collection_path, locked
from generators.self_instruct.llm import EndpointUnavailable, LLMConfig
from generators.self_instruct.output import batch_line, require_instances
from generators.self_instruct.run import BatchRun, bootstrap_batch, finish_batch
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
def bootstrap_task(run: BatchRun, show_progress: bool) -> RunState:
    """Grow the collection's next batch with the LLM (the network task, retried), holding the
    run's `llm` slots."""
    logger = get_run_logger()
    logger.info("batch of %d instructions into %s", run.config.n, run.collection)
    with hold_llm_slots(run.llm.concurrency):
        state = bootstrap_batch(run, show_progress)
    logger.info(state.summary())
    return state


@task(name="self-instruct-commit", cache_policy=NO_CACHE)
def commit_task(state: RunState, run: BatchRun) -> dict[str, Any]:
    """Write the batch folder, the novelty index and the manifest (the commit)."""
    stats = finish_batch(state, run)
    get_run_logger().info(batch_line(stats))
    return stats


@flow(name="self-instruct")
def self_instruct(
    llm: LLMConfig,
    config: BootstrapConfig,
    collection: str,
    root: Path = DEFAULT_ROOT,
    mirror: str | None = None,
    seed_file: Path | None = None,
    cache_path: Path | None = None,
    show_progress: bool = False,
    wait_seconds: float = 0.0,
) -> dict[str, Any]:
    """Add a batch of `config.n` instructions made with the endpoint `llm` to the collection
    `collection` under `root` (a name with a slash is a folder); return the batch's stats.

    `mirror`: the seeds' mirror (default: $INSTRUCTMIX_MIRROR, else the Hub); `cache_path`: the
    request cache (default: the shared one under $INSTRUCTMIX_CACHE).
    """
    run = BatchRun(
        llm=llm,
        config=config,
        collection=collection_path(collection, root).resolve(),
        mirror=resolve_mirror(mirror),
        seed_file=seed_file,
        cache_path=cache_path or llm_cache_path(),
    )
    with locked(run.collection, wait_seconds):
        stats = commit_task(bootstrap_task(run, show_progress), run)
    return require_instances(stats)
