"""A local Prefect server, started once in the background and reused by every later command.

Without a configured API, Prefect starts a temporary server inside each process (about 8 s per
command). Instead the CLI starts `prefect server start` once, detached, with its SQLite database
and log under PREFECT_HOME (the project's `.prefect/` unless set), and points each later command
at it once `/api/health` answers. An explicit PREFECT_API_URL (another server, Prefect Cloud) is
used as it is and nothing is started. `instructmix server stop` (or `prefect server stop`: the
PID file is Prefect's own) ends it.

    with prefect_api(Path(".prefect")) as url:   # starts or reuses the server
        build_flow(...)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import typer

from instances import InstructmixError, daemon
from instances.tempfiles import pid_alive

PID_FILE = "server.pid"  # the name `prefect server stop` reads
URL_FILE = "server.url"
LOG_FILE = "server.log"
LOCK_FILE = "server.lock"
START_TIMEOUT_SECONDS = 120.0
OWNER_VARIABLE = "INSTRUCTMIX_PREFECT_SERVER_OWNER"


class ServerError(InstructmixError):
    """The local Prefect server did not start; the message points at its log."""


def healthy(url: str, timeout: float = 2.0) -> bool:
    """True when the Prefect API at `url` answers its health check."""
    return daemon.responds(f"{url}/health", timeout)


def recorded_url(home: Path) -> str | None:
    """The API URL of the server recorded under `home` when its process still runs."""
    pid = daemon.read_pid(home / PID_FILE)
    if pid is None or not pid_alive(pid) or not (home / URL_FILE).is_file():
        return None
    return (home / URL_FILE).read_text().strip() or None


def start_server(home: Path, owner: int | None = None) -> str:
    """Start `prefect server start` detached on a free loopback port; return its API URL.

    With `owner` (a process id), the server is watched and stopped once that process ends
    (the test suite sets one, so that a killed session leaves no server behind).
    """
    port = daemon.free_port()
    url = f"http://{daemon.HOST}:{port}/api"
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", daemon.HOST]
    if owner is not None:
        command = [sys.executable, "-m", "instances.daemon", str(owner), *command]
    env = {"PREFECT_HOME": str(home), "PREFECT_API_URL": None}
    pid = daemon.start_detached([*command, "--port", str(port)], home / LOG_FILE, env)
    (home / PID_FILE).write_text(str(pid))  # survives this command; `server stop` ends it
    (home / URL_FILE).write_text(url)
    return url


def wait_healthy(home: Path, url: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Wait until the server at `url` is healthy (its first start migrates the database)."""
    pid = daemon.read_pid(home / PID_FILE)
    if not daemon.wait_until_responds(f"{url}/health", lambda: pid_alive(pid or 0), timeout):
        raise ServerError(
            f"the local Prefect server at {url} did not start; see {home / LOG_FILE} "
            "(or set PREFECT_API_URL to a running server)"
        )


def ensure_server(
    home: Path, timeout: float = START_TIMEOUT_SECONDS, owner: int | None = None
) -> str:
    """The API URL of the server under `home`, started first when none runs there (see
    `start_server` for `owner`)."""
    home = Path(home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    with open(home / LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent commands start one server, not two
        url = recorded_url(home)
        if url is None:
            url = start_server(home, owner)
        wait_healthy(home, url, timeout)
    return url


def stop_server(home: Path, timeout: float = 30.0) -> bool:
    """Stop the server recorded under `home` (SIGTERM, then wait); False when none ran."""
    home = Path(home).resolve()
    pid = daemon.read_pid(home / PID_FILE)
    for name in (PID_FILE, URL_FILE):
        (home / name).unlink(missing_ok=True)
    return daemon.stop_pid(pid, timeout)


@contextlib.contextmanager
def prefect_api(home: Path | None = None, owner: int | None = None) -> Iterator[str]:
    """Run the block against PREFECT_API_URL when one is configured, else the local server
    under `home` (default: PREFECT_HOME), started when needed; yields the API URL.

    `owner` (default: $INSTRUCTMIX_PREFECT_SERVER_OWNER, set by the tests): a process id the
    server lives no longer than."""
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    configured = PREFECT_API_URL.value()
    if configured:
        yield configured
        return
    if owner is None and os.environ.get(OWNER_VARIABLE):
        owner = int(os.environ[OWNER_VARIABLE])
    url = ensure_server(Path(home or PREFECT_HOME.value()), owner=owner)
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield url


@contextlib.contextmanager
def command_session(ctx: typer.Context | None = None) -> Iterator[str]:
    """For a command's flow runs: Prefect's console output filtered as its --verbose and
    --debug say (`flows.quiet`), against the API `prefect_api` gives; yields its URL.

    Enter it after importing the flow (Prefect sets up its log handlers on import)."""
    from flows.quiet import quiet_prefect

    quiet_prefect(ctx)
    with prefect_api() as url:
        yield url
