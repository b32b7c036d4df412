"""Scheduled runs for real: a Prefect server, `instructmix serve`, a completed run, clean stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from pipeline_support import make_mini_mirror, mini_recipe, write_recipe

REPO = Path(__file__).resolve().parents[1]
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Watched:
    """A started process whose output a thread copies into a log file. `news` is set at each
    line it prints and when it exits: waits wake on the process's own output, not on a clock."""

    def __init__(self, command: list[str], log: Path, news: threading.Event, **options):
        self.log = log
        self.news = news
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **options
        )
        self.copier = threading.Thread(target=self._copy, daemon=True)
        self.copier.start()

    def _copy(self) -> None:
        with self.log.open("wb") as out:
            for line in self.process.stdout:
                out.write(line)
                out.flush()
                self.news.set()
        self.process.wait()
        self.news.set()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _wait_for(check, what: str, watched: list[Watched], news: threading.Event, timeout: float):
    """Re-check `check()` whenever a watched process prints a line (at least each second, for a
    server that prints nothing more); fail at once when one exits. `timeout` only bounds a hang:
    it is far above the time a loaded machine needs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        news.clear()
        for one in watched:
            if one.process.poll() is not None:
                raise AssertionError(f"{what}: a process exited early:\n{one.tail()}")
        with contextlib.suppress(httpx.HTTPError):
            value = check()
            if value:
                return value
        news.wait(1.0)
    raise AssertionError(f"gave up after {timeout:.0f}s waiting for {what}")


def _stop(process: subprocess.Popen, timeout: float = 90) -> int | None:
    """SIGTERM, then wait; the whole process group is killed only if it does not stop."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
            return None
    return process.returncode


@pytest.mark.slow
def test_serve_runs_a_scheduled_pipeline_on_a_real_server(tmp_path, mirror):
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    base_env = {key: value for key, value in os.environ.items() if not key.startswith("PREFECT_")}
    base_env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    server_env = dict(
        base_env,
        PREFECT_UI_ENABLED="false",
        PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2",
        # Services this test does not need: less for 2 shared cores to do.
        **{
            f"PREFECT_SERVER_SERVICES_{name}_ENABLED": "false"
            for name in [
                "CANCELLATION_CLEANUP",
                "EVENT_LOGGER",
                "FOREMAN",
                "LATE_RUNS",
                "PAUSE_EXPIRATIONS",
                "TRIGGERS",
            ]
        },
    )
    serve_env = dict(base_env, PREFECT_API_URL=api, PREFECT_RUNNER_POLL_FREQUENCY="1")

    mini = make_mini_mirror(mirror, tmp_path / "mirror")
    recipe = write_recipe(tmp_path, mini_recipe("served"))
    schedules = tmp_path / "schedules.yaml"
    parameters = {
        "recipe": str(recipe),
        "mirror": str(mini),
        "output_dir": str(tmp_path / "artifacts" / "mixtures"),
        "result_cache": str(tmp_path / "cache"),
    }
    schedules.write_text(
        yaml.safe_dump(
            {
                "llm_limit": 3,
                "deployments": [
                    {
                        "name": "served-every-10s",
                        "flow": "build",
                        "interval_seconds": 10,
                        "parameters": parameters,
                    }
                ],
            }
        )
    )
    prefect = Path(sys.executable).with_name("prefect")
    news = threading.Event()
    server = serve = None
    try:
        server = Watched(
            [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            tmp_path / "server.log",
            news,
            env=server_env,
            cwd=tmp_path,
            start_new_session=True,
        )
        _wait_for(
            lambda: httpx.get(f"{api}/health", timeout=5).status_code == 200,
            "the server's /api/health",
            [server],
            news,
            timeout=600,
        )
        serve = Watched(
            [sys.executable, "-m", "flows.cli", "serve", "--schedules", str(schedules)],
            tmp_path / "serve.log",
            news,
            env=serve_env,
            cwd=tmp_path,
            start_new_session=True,
        )

        def finished_run():
            response = httpx.post(
                f"{api}/flow_runs/filter",
                json={"flow_runs": {"state": {"type": {"any_": sorted(FINAL)}}}},
                timeout=10,
            )
            runs = response.json()
            return runs[0] if runs else None

        run = _wait_for(finished_run, "a finished scheduled flow run", [server, serve], news, 600)
        assert run["state"]["type"] == "COMPLETED", (run["state"], serve.tail())
        assert run["deployment_id"] is not None
        assert run["parameters"]["recipe"] == str(recipe)
        assert (tmp_path / "artifacts" / "mixtures" / "served" / "README.md").is_file()

        limit = httpx.get(f"{api}/v2/concurrency_limits/llm", timeout=10).json()
        assert limit["limit"] == 3
        keys = [a["key"] for a in httpx.post(f"{api}/artifacts/filter", json={}, timeout=10).json()]
        assert {"served-funnel", "served-composition", "served-card"} <= set(keys)
    finally:
        stopped_serve = _stop(serve.process) if serve is not None else 0
        stopped_server = _stop(server.process) if server is not None else 0
    # Both stopped on SIGTERM, serve first, without being killed.
    for one in (serve, server):
        one.copier.join(30)  # the copy of its output is complete
    assert stopped_serve is not None, serve.tail()
    assert stopped_server is not None, server.tail()
