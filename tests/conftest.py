"""Shared fixtures: the public-data mirror, an isolated Prefect home, one Prefect server.

The whole session is offline: Hugging Face libraries are forced offline and any socket to a
host other than this machine raises (tests/loopback_only.py), before anything is imported.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import loopback_only
import pytest
from mirror_path import MIRROR

loopback_only.install()

# --doctest-modules would import the two conftest.py files as one module named `conftest`
# (pytest itself loads them apart): their fixtures have no doctests to collect.
collect_ignore = ["conftest.py", "bad_inputs/conftest.py"]

# Prefect reads its settings at import: isolate it before anything imports prefect (never the
# project's .prefect/, whose server the session's end would otherwise stop).
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="instructmix-prefect-")
# A local Prefect server a test starts (flows/server.py) ends with this process, even a killed one.
os.environ["INSTRUCTMIX_PREFECT_SERVER_OWNER"] = str(os.getpid())
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
# One torch thread unless told otherwise (read when torch is imported, in this process and in the
# commands the tests start): on 2 shared cores, two OpenMP threads spin against each other and
# the other load (measured on the SmolLM2 test, load 6.5: 3 training steps 42 s -> 12 s,
# 12 generated tokens 11 s -> 0.9 s, the same losses).
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The local mirror of public data (INSTRUCTMIX_MIRROR, else ../shared/data beside the repo)."""
    path = MIRROR
    if not path.is_dir():
        pytest.skip(f"no public-data mirror at {path}; set INSTRUCTMIX_MIRROR")
    return path


@pytest.fixture(scope="session", autouse=True)
def _stop_local_prefect_server():
    """CLI runs in the tests start the local Prefect server under the session's PREFECT_HOME
    (flows/server.py); stop it when the session ends, so that none is left running."""
    yield
    from flows.server import stop_server

    stop_server(Path(os.environ["PREFECT_HOME"]))


@pytest.fixture
def hub_online(monkeypatch):
    """For a test that talks to the fake Hub on loopback (tests/hub_loopback.py): turn
    huggingface_hub's offline switch off; the socket guard still refuses anything else."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")


@pytest.fixture(scope="session")
def prefect_harness():
    """The session's one Prefect server (started on first use): the local server the CLI itself
    starts under the session's PREFECT_HOME (flows/server.py). Flows run in this process talk to
    it, and so do the CLI commands the tests start (same PREFECT_HOME): one server start for the
    whole session instead of a test server plus a local one. It ends with the session (above)."""
    from prefect.context import _temporary_global_settings_context, get_settings_context
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.server import ensure_server

    # a first start migrates a new database: allow a heavily loaded machine far more than 120 s
    url = ensure_server(Path(os.environ["PREFECT_HOME"]), timeout=600, owner=os.getpid())
    # As prefect_test_harness does, the settings also become the process-global ones, for code
    # in a context copied before this point (the second context is made once the first is in).
    with (
        temporary_settings(updates={PREFECT_API_URL: url}),
        _temporary_global_settings_context(get_settings_context()),
    ):
        yield url
        _drain_prefect_workers()


def _drain_prefect_workers() -> None:
    """Send the logs and events still queued in this process while the server is up (as
    prefect_test_harness does before it stops its server)."""
    import inspect

    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.utilities.asyncutils import run_coro_as_sync

    async def drain() -> None:
        try:
            pending = APILogWorker.instance().drain()
            if inspect.isawaitable(pending):
                await pending
        except RuntimeError:  # never started
            pass
        pending = EventsWorker.drain_all()
        if inspect.isawaitable(pending):
            await pending

    run_coro_as_sync(drain())
