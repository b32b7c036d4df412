"""Interrupts: SIGTERM and SIGINT stop a build that is rendering a hostile template (exit
128 + signal, one line, no temporary left, the earlier mixture unchanged); SIGKILL of a build
leaves no child running but the one local Prefect server, which ends with its owner. The
test waits on the build's own progress output (a row rendered) and on process exit (pidfds),
never on sleeps.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from corpus import Outcome, judge, tally_judged, tree_digest
from test_bad_templates import hostile_mirror

NESTED = """dataset: glue
subset: sst2
templates:
  11111111-1111-1111-1111-111111111111: !Template
    answer_choices: negative ||| positive
    id: 11111111-1111-1111-1111-111111111111
    jinja: '{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}
      {{sentence}}
      ||| {{ answer_choices[label] }}'
    metadata: !TemplateMetadata
      choices_in_prompt: true
      languages: [en]
      metrics: [Accuracy]
      original_task: true
    name: hang
    reference: ''
"""
RECIPE = (
    "name: tiny\nsources:\n  - name: sst2\n"
    "    generator: {kind: templated, tasks: [sst2], max_rows_per_task: 500}\n"
)
ROW_RENDERED = re.compile(rb"\|\s*[1-9]\d*/\d+")


def start_build(tmp_path: Path, out: Path, mirror: Path, env: dict[str, str]) -> subprocess.Popen:
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(RECIPE)
    fake = hostile_mirror(tmp_path, mirror, NESTED)
    command = [
        sys.executable,
        "-m",
        "flows.cli",
        "build",
        str(recipe),
        "--output-dir",
        str(out),
        "--mirror",
        str(fake),
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)


def wait_for_a_rendered_row(process: subprocess.Popen) -> bytes:
    """Read the build's output until its progress bar shows a row rendered (the barrier)."""
    seen = b""
    while not ROW_RENDERED.search(seen):
        chunk = os.read(process.stdout.fileno(), 4096)
        assert chunk, f"the build ended before rendering: {seen[-2000:]!r}"
        seen += chunk
    return seen


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_gone(pid: int, timeout: float) -> bool:
    """Whether process `pid` ends within `timeout` seconds (waits on a pidfd, no polling)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)


@pytest.fixture
def harness_env(prefect_harness) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ, PREFECT_API_URL=str(PREFECT_API_URL.value()), HF_HUB_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    return env


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_a_rendering_build(signum, tmp_path, workspace, mirror, harness_env):
    process = start_build(tmp_path, workspace.out, mirror, harness_env)
    try:
        before = wait_for_a_rendered_row(process)
        process.send_signal(signum)
        rest, _ = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = (before + rest).decode(errors="replace")
    lines = [line for line in text.splitlines() if line.startswith("error:")]
    outcome = Outcome(process.returncode, text, "", lines)
    judge(f"interrupt:{signum.name}", outcome, [signum.name], workspace, code=128 + signum)


def descendants_of(pid: int) -> list[int]:
    """`pid`'s children, their children, and so on."""
    found, todo = [], [pid]
    while todo:
        children = children_of(todo.pop())
        found += children
        todo += children
    return found


@pytest.mark.slow
def test_sigkill_leaves_no_server_but_the_owned_local_one(tmp_path, workspace, mirror):
    """The CLI runs flows against one long-lived local Prefect server (flows/server.py), not a
    temporary server per command. SIGKILL of a build leaves no child of it running but that
    server, recorded under its PREFECT_HOME for the next command; and that server ends with the
    process that owns it (INSTRUCTMIX_PREFECT_SERVER_OWNER), so nothing is orphaned."""
    from flows.server import OWNER_VARIABLE, PID_FILE, stop_server

    home = tmp_path / "prefect-home"
    owner = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(HF_HUB_OFFLINE="1", PYTHONPATH=os.pathsep.join(sys.path), PREFECT_HOME=str(home))
    env[OWNER_VARIABLE] = str(owner.pid)
    try:
        process = start_build(tmp_path, workspace.out, mirror, env)
        try:
            wait_for_a_rendered_row(process)
            children = children_of(process.pid)
            server = int((home / PID_FILE).read_text())
            assert server in children, "the build started no local Prefect server"
            server_tree = [server, *descendants_of(server)]
            process.kill()
            process.wait()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        survivors = [pid for pid in children if pid != server and not wait_gone(pid, 60)]
        assert not survivors, f"children outlived the killed build: {survivors}"
        assert not wait_gone(server, 0), "the local server did not outlive a build it serves"
        owner.kill()  # its owner gone, the server and its own children stop
        owner.wait()
        left = [pid for pid in server_tree if not wait_gone(pid, 60)]
        assert not left, f"the local Prefect server outlived its owner: {left}"
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        stop_server(home)
    # What SIGKILL leaves (a hidden temporary, if any) the next build removes: its PID is dead.
    shutil.rmtree(tmp_path / "mirror")
    assert tree_digest(workspace.good) == workspace.digest
    tally_judged("interrupt:SIGKILL_children")
