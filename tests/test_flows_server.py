"""The local Prefect server the CLI shares: started once, reused, honours PREFECT_API_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows import server


@pytest.mark.slow
def test_started_once_reused_then_stopped(tmp_path, monkeypatch):
    home = tmp_path / "prefect-home"
    monkeypatch.setenv("HF_TOKEN", "hf_notForTheServer")
    try:
        url = server.ensure_server(home)
        pid = (home / server.PID_FILE).read_text()
        environ = Path(f"/proc/{pid}/environ").read_bytes().decode()
        assert "hf_notForTheServer" not in environ and f"PREFECT_HOME={home}" in environ
        assert server.healthy(url)
        assert server.ensure_server(home) == url  # the second command reuses it
        assert (home / server.PID_FILE).read_text() == pid
        assert any(home.glob("*.db"))  # its state is under the given home
    finally:
        stopped = server.stop_server(home)
    assert stopped and not server.healthy(url)
    assert not server.pid_alive(int(pid))  # stopped and reaped, not left behind
    assert server.recorded_url(home) is None
    assert server.stop_server(home) is False


def test_an_explicit_api_url_is_used_and_nothing_started(tmp_path, monkeypatch):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = tmp_path / "prefect-home"
    api = "http://127.0.0.1:9/api"
    with temporary_settings(updates={PREFECT_API_URL: api}), server.prefect_api(home) as url:
        assert url == api
    assert not home.exists()


def test_a_dead_server_is_reported_with_its_log(tmp_path, monkeypatch):
    home = tmp_path / "prefect-home"
    home.mkdir()
    (home / server.PID_FILE).write_text("999999999")  # no such process
    (home / server.URL_FILE).write_text("http://127.0.0.1:9/api")
    assert server.recorded_url(home) is None
    with pytest.raises(server.ServerError, match="server.log"):
        server.wait_healthy(home, "http://127.0.0.1:9/api", timeout=5)


@pytest.mark.slow
def test_a_watched_server_ends_with_its_owner(tmp_path):
    home = tmp_path / "prefect-home"
    owner = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=-1)
    try:
        url = server.ensure_server(home, owner=owner.pid)
        assert server.healthy(url)
        watcher = int((home / server.PID_FILE).read_text())
    finally:
        owner.communicate(b"")  # the owner ends: its server follows
    os.waitpid(watcher, 0)  # the watcher (a child of this process) exits
    assert not server.pid_alive(watcher) and not server.healthy(url)
    assert server.recorded_url(home) is None
