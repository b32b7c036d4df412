"""LLM concurrency that holds across tasks, flows and processes: a Prefect global limit.

The server counts slots of the global limit named `llm`. A task that calls an LLM holds as
many slots as it sends requests at once (at most the whole limit) while it runs, so all LLM
work sharing the server stays under the limit; `instructmix serve` creates it.

    ensure_llm_limit(4)          # once (serve; or the limit set in the UI)
    with hold_llm_slots(8):      # waits for 4 free slots, holds them for the block
        run_llm_task()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

LLM_LIMIT = "llm"
DEFAULT_LLM_LIMIT = 4


def ensure_llm_limit(limit: int = DEFAULT_LLM_LIMIT, name: str = LLM_LIMIT) -> None:
    """Create (or update to `limit` slots) the global concurrency limit `name` on the API."""
    if limit < 1:
        raise ValueError(f"an LLM concurrency limit needs at least 1 slot, got {limit}")
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(name, limit)


def llm_limit(name: str = LLM_LIMIT) -> int | None:
    """The slot count of the global limit `name`, or None when it does not exist."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            return client.read_global_concurrency_limit_by_name(name).limit
        except ObjectNotFound:
            return None


@contextmanager
def llm_slot(
    occupy: int = 1, timeout_seconds: float | None = None, name: str = LLM_LIMIT
) -> Iterator[None]:
    """Hold `occupy` slots of the LLM limit while the block runs (waits for free slots).

    Without a limit on the server (no `ensure_llm_limit` yet) the block runs unlimited.
    """
    from prefect.concurrency.sync import concurrency

    with concurrency(name, occupy=occupy, timeout_seconds=timeout_seconds, strict=False):
        yield


def hold_llm_slots(wanted: int) -> AbstractContextManager:
    """Hold `wanted` slots of the `llm` limit (at most the whole limit) for a `with` block;
    nothing when `wanted` is 0 or the server has no such limit (Prefect would warn each time)."""
    limit = llm_limit() if wanted else None
    return llm_slot(occupy=min(wanted, limit)) if limit else nullcontext()
