"""Local background services: a free loopback port, a health probe, a detached start that
outlives the command, a stop by process id, and a watcher that ends a service with its owner.

The local Prefect server (flows/server.py) is started this way once and reused by later
commands; the embedded LLM endpoint uses the port and the probe.

    python -m instances.daemon OWNER_PID COMMAND...   # run COMMAND until OWNER_PID is gone
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from instances.tempfiles import pid_alive

HOST = "127.0.0.1"


def responds(url: str, timeout: float = 2.0) -> bool:
    """True when a GET of `url` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_until_responds(
    url: str, alive: Callable[[], bool], timeout: float, interval: float = 0.1
) -> bool:
    """Poll `url` until it answers 200 (True); False once `alive()` says the service has
    died or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    while not responds(url):
        if not alive() or time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def read_pid(path: Path) -> int | None:
    """The process id in the file `path`, or None when it is missing or not a number."""
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def _secret(name: str) -> bool:
    """True for variables a service must not inherit (HF_TOKEN, OPENAI_API_KEY, ...)."""
    return any(part in name.upper() for part in ("TOKEN", "KEY", "SECRET", "PASSWORD"))


def start_detached(command: list[str], log: Path, env: dict[str, str | None]) -> int:
    """Start `command` in its own session (it survives this process), its output appended to
    `log`, with this environment less secrets, `env` applied (None: removed); its pid."""
    environment = {key: value for key, value in os.environ.items() if not _secret(key)}
    for key, value in env.items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    with open(log, "ab") as output:
        process = subprocess.Popen(
            command,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid


def stop_pid(pid: int | None, timeout: float = 30.0) -> bool:
    """Stop process `pid` (SIGTERM, then SIGKILL after `timeout` s); False when none ran."""
    if pid is None or not pid_alive(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it when this process started it
        time.sleep(0.05)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    return True


def watch(owner: int, command: list[str]) -> int:
    """Run `command` until it ends, SIGTERM arrives, or process `owner` is gone."""
    process = subprocess.Popen(command)
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    while process.poll() is None:
        if not pid_alive(owner):
            process.terminate()
            break
        time.sleep(0.5)
    return process.wait()


if __name__ == "__main__":  # python -m instances.daemon OWNER_PID COMMAND...
    raise SystemExit(watch(int(sys.argv[1]), sys.argv[2:]))
