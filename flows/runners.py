"""Choosing where a flow's tasks run: threads here (default), or a Dask cluster.

>>> flow.with_options(task_runner=task_runner(dask_workers=2))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from prefect.task_runners import ThreadPoolTaskRunner

from instances import InstructmixError


def task_runner(
    dask_address: str | None = None, dask_workers: int | None = None, threads: int | None = None
) -> Any:
    """A Prefect task runner: Dask at `dask_address`, a local Dask cluster of `dask_workers`
    single-threaded worker processes, or (neither given) a thread pool of `threads` workers.
    """
    if dask_address and dask_workers:
        raise InstructmixError(
            "give either --dask-address (an existing cluster) or --dask-workers (a local one)"
        )
    if dask_workers is not None and dask_workers < 1:
        raise InstructmixError(f"--dask-workers must be at least 1, got {dask_workers}")
    if not (dask_address or dask_workers):
        return ThreadPoolTaskRunner(max_workers=threads)
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as error:
        raise InstructmixError(
            "the Dask task runner needs prefect-dask: pip install 'instructmix[dask]'"
        ) from error
    if dask_address:
        return DaskTaskRunner(address=dask_address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={
            "n_workers": dask_workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        },
    )


def describe(dask_address: str | None = None, dask_workers: int | None = None) -> str:
    """One line naming the task runner the options select (for logs and summaries)."""
    if dask_address:
        return f"Dask cluster at {dask_address}"
    if dask_workers:
        return f"local Dask cluster of {dask_workers} worker processes"
    return "local threads"
