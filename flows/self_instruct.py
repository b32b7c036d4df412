"""The Prefect flow `self_instruct`: bootstrap (retried, resuming its state) then write the run.

The LLM task retries: each retry resumes after the last completed round and replays earlier
requests from the cache, so a retry costs only the round that failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.settings import llm_cache_path
from generators.self_instruct.bootstrap import BootstrapConfig
from generators.self_instruct.llm import EndpointUnavailable, LLMConfig
from generators.self_instruct.output import summary
from generators.self_instruct.run import bootstrap_run, finish_run


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
    out_dir: Path,
    mirror: Path | None,
    seed_file: Path | None,
    cache_path: Path | None,
    show_progress: bool,
) -> dict[str, Any]:
    """Grow the instruction pool with the LLM (the network task, retried)."""
    state = bootstrap_run(
        llm,
        config,
        out_dir,
        mirror=mirror,
        seed_file=seed_file,
        cache_path=cache_path,
        show_progress=show_progress,
    )
    get_run_logger().info(
        "bootstrap: %d instructions in %d rounds (stopped: %s)",
        len(state["instructions"]),
        state["rounds_done"],
        state["stopped"],
    )
    return state


@task(name="self-instruct-write", cache_policy=NO_CACHE)
def write_task(
    state: dict[str, Any], llm: LLMConfig, config: BootstrapConfig, out_dir: Path
) -> dict[str, Any]:
    """Write the run folder (instances, rejected, pool, funnel, stats)."""
    stats = finish_run(state, llm, config, out_dir)
    get_run_logger().info("self-instruct run written to %s\n%s", out_dir, summary(stats))
    return stats


@flow(name="self-instruct")
def self_instruct(
    llm: LLMConfig,
    config: BootstrapConfig,
    out_dir: Path,
    mirror: Path | None = None,
    seed_file: Path | None = None,
    cache_path: Path | None = None,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Self-Instruct with an OpenAI-compatible endpoint into the run folder `out_dir`.

    `cache_path` is the request cache (default: the shared one under $INSTRUCTMIX_CACHE).
    """
    cache_path = cache_path if cache_path is not None else llm_cache_path()
    state = bootstrap_task(llm, config, out_dir, mirror, seed_file, cache_path, show_progress)
    return write_task(state, llm, config, out_dir)
