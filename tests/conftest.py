"""Shared fixtures: the public-data mirror, an isolated Prefect home, a Prefect test harness.

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
    """One Prefect test server for the whole session (started on first use)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
