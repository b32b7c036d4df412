"""Scheduled runs for real: a Prefect server, `instructmix serve`, a completed run, clean stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
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


def _wait_for(check, timeout: float, what: str, processes=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process, log in processes:
            if process.poll() is not None:
                raise AssertionError(f"{what}: a process exited early:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            value = check()
            if value:
                return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _stop(process: subprocess.Popen, timeout: float = 30) -> int | None:
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
    server_log, serve_log = tmp_path / "server.log", tmp_path / "serve.log"
    server = serve = None
    try:
        with server_log.open("w") as log:
            server = subprocess.Popen(
                [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                env=server_env,
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_for(
            lambda: httpx.get(f"{api}/health", timeout=5).status_code == 200,
            120,
            "the server's /api/health",
            [(server, server_log)],
        )
        with serve_log.open("w") as log:
            serve = subprocess.Popen(
                [sys.executable, "-m", "flows.cli", "serve", "--schedules", schedules],
                env=serve_env,
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
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

        watched = [(server, server_log), (serve, serve_log)]
        run = _wait_for(finished_run, 150, "a finished scheduled flow run", watched)
        assert run["state"]["type"] == "COMPLETED", (run["state"], serve_log.read_text()[-3000:])
        assert run["deployment_id"] is not None
        assert run["parameters"]["recipe"] == str(recipe)
        assert (tmp_path / "artifacts" / "mixtures" / "served" / "README.md").is_file()

        limit = httpx.get(f"{api}/v2/concurrency_limits/llm", timeout=10).json()
        assert limit["limit"] == 3
        keys = [a["key"] for a in httpx.post(f"{api}/artifacts/filter", json={}, timeout=10).json()]
        assert {"served-funnel", "served-composition", "served-card"} <= set(keys)
    finally:
        stopped_serve = _stop(serve) if serve is not None else 0
        stopped_server = _stop(server) if server is not None else 0
    # Both stopped on SIGTERM, serve first, without being killed.
    assert stopped_serve is not None, serve_log.read_text()[-3000:]
    assert stopped_server is not None, server_log.read_text()[-3000:]
