"""Where shard tasks run: a local process pool (the default) or a Ray cluster.

Both run the same top-level functions on the same small task arguments (paths and configs;
the data moves through shard files), so their outputs are byte-identical. A Ray cluster's
nodes must see the work folder at the same path (a shared filesystem).

    >>> with LocalExecutor(workers=1) as run:
    ...     sorted(run.map(abs, [-2, 1]))
    [(0, 2), (1, 1)]
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Protocol

from instances.errors import InstructmixError

# Modules a forked pool worker should have imported already (import once, in the server).
PRELOAD = ["filters.minhash", "filters.registry", "mixtures.shard_tasks"]


class Executor(Protocol):
    """Runs `fn(item)` for every item; yields (index, result) as each finishes."""

    name: str

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Run `fn` on each item; yield (index of the item, its result) in completion order."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class LocalExecutor:
    """A pool of `workers` processes on this machine (forkserver); 1 worker runs inline."""

    def __init__(self, workers: int = 2) -> None:
        if workers < 1:
            raise InstructmixError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.name = f"local ({workers} processes)" if workers > 1 else "local (inline)"
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
        return self._pool

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Run `fn` over `items` (inline with one worker or one item)."""
        if self.workers == 1 or len(items) <= 1:
            for index, item in enumerate(items):
                yield index, fn(item)
            return
        pool = self._get_pool()
        futures = {pool.submit(fn, item): index for index, item in enumerate(items)}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=futures.__getitem__):
                    yield futures[future], future.result()
        finally:
            for future in pending:
                future.cancel()


class RayExecutor:
    """Ray tasks on the cluster at `address` (a local one of `num_cpus` CPUs when None).

    Starts Ray only if this process has not already; shuts down only what it started.
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError as error:  # pragma: no cover - ray is a declared dependency
            raise InstructmixError("the Ray executor needs ray: pip install 'ray[data]'") from error
        self._ray = ray
        self.address = address
        self.num_cpus = num_cpus
        self.name = f"Ray cluster at {address}" if address else "local Ray cluster"
        self._started = False
        self._remote: dict[Callable, Any] = {}

    def __enter__(self) -> RayExecutor:
        if not self._ray.is_initialized():
            options: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "configure_logging": False,
            }
            try:
                if self.address:
                    self._ray.init(address=self.address, **options)
                else:
                    self._ray.init(num_cpus=self.num_cpus, **options)
            except (ConnectionError, RuntimeError, ValueError) as error:
                where = f"the Ray cluster at {self.address}" if self.address else "a local Ray"
                raise InstructmixError(f"could not start or reach {where}: {error}") from error
            self._started = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._started:
            self._ray.shutdown()
            self._started = False

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Submit one Ray task per item; yield results as they finish."""
        remote = self._remote.get(fn)
        if remote is None:
            remote = self._remote[fn] = self._ray.remote(num_cpus=1, max_retries=2)(fn)
        refs = {remote.remote(item): index for index, item in enumerate(items)}
        pending = list(refs)
        while pending:
            done, pending = self._ray.wait(pending, num_returns=1)
            for ref in done:
                yield refs[ref], self._ray.get(ref)


def make_executor(
    kind: str = "local", *, workers: int = 2, ray_address: str | None = None
) -> LocalExecutor | RayExecutor:
    """The executor `kind` names: "local" (a pool of `workers`) or "ray" (at `ray_address`,
    else a local cluster of `workers` CPUs)."""
    if kind == "local":
        if ray_address:
            raise InstructmixError("--ray-address needs --executor ray")
        return LocalExecutor(workers)
    if kind == "ray":
        return RayExecutor(ray_address, None if ray_address else workers)
    raise InstructmixError(f"unknown executor {kind!r}: use 'local' or 'ray'")
