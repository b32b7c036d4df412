"""Process guards for long commands: signals always stop a build, children die with it.

`signal_guard` makes SIGTERM and SIGINT raise `Interrupted` in the main thread (so
`finally` blocks remove temporary folders and atexit stops Prefect's temporary server) and
ask other threads to stop; a second signal removes this process's temporaries and exits at
once. `children_die_with_us` makes the Prefect temporary server a child that Linux kills when
this process dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import types
from collections.abc import Iterator
from typing import Any

from instances.lifecycle import Interrupted, clear_stop, death_signal_preexec, request_stop
from instances.tempfiles import remove_live_temporaries

GRACE_SECONDS = 20.0  # after a signal, how long the main thread may take to unwind


def stop_child_servers() -> None:
    """Stop Prefect's temporary API server(s) started by this process, if any."""
    module = sys.modules.get("prefect.server.api.server")
    servers = getattr(getattr(module, "SubprocessASGIServer", None), "_instances", {}) or {}
    for server in list(servers.values()):
        with contextlib.suppress(Exception):
            server.stop()


def hard_exit(status: int) -> None:
    """End the process now: stop child servers, remove our temporaries, flush, `os._exit`.

    Used once an interrupt has been reported: Prefect's at-exit hooks can wait forever on a
    server that is already gone, and an interrupted command must end.
    """
    stop_child_servers()
    remove_live_temporaries()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


_state: dict[str, Any] = {"seen": False, "timer": None}


def _arm_grace(signum: int) -> None:
    """Ask every thread to stop, and end the process if it has not unwound in GRACE_SECONDS."""
    request_stop(signum)
    if _state["timer"] is None:
        timer = threading.Timer(GRACE_SECONDS, hard_exit, args=(128 + signum,))
        timer.daemon = True
        timer.start()
        _state["timer"] = timer


def _on_signal(signum: int, _frame: Any) -> None:
    if _state["seen"]:  # the second signal: no more waiting
        hard_exit(128 + signum)
    _state["seen"] = True
    _arm_grace(signum)
    raise Interrupted(signum)


@contextlib.contextmanager
def signal_guard() -> Iterator[None]:
    """For the block: SIGTERM and SIGINT raise `Interrupted` in the main thread (a second one
    exits at once); the previous handlers come back afterwards. A no-op off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    for signum in previous:
        signal.signal(signum, _on_signal)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if _state["timer"] is not None:
            _state["timer"].cancel()
        _state.update(seen=False, timer=None)
        clear_stop()


@contextlib.contextmanager
def threads_stop_on_sigterm() -> Iterator[None]:
    """Inside a Prefect flow run: SIGTERM also asks the task threads to stop.

    While a flow runs, Prefect's engine holds SIGTERM: its handler raises `TerminationSignal`
    in the main thread, which then waits for the task threads before passing the signal on to
    `signal_guard`'s handler. A task thread rendering rows never heard of it, so the build
    waited for every row. Here the stop request (and the grace timer) come first, then
    Prefect's handler runs as before. A no-op off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    engine_handler = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: Any) -> None:
        _arm_grace(signum)
        if callable(engine_handler):
            engine_handler(signum, frame)
        else:
            _on_signal(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, engine_handler)


def _popen_dying_with_us(*args: Any, **kwargs: Any) -> subprocess.Popen:
    kwargs.setdefault("preexec_fn", death_signal_preexec())
    return subprocess.Popen(*args, **kwargs)


def children_die_with_us() -> None:
    """Start Prefect's temporary API server (if it is started) as a child that dies with us."""
    try:
        from prefect.server.api import server as prefect_server
    except ImportError:  # pragma: no cover - a Prefect without the embedded server
        return
    if isinstance(prefect_server.subprocess, types.SimpleNamespace):
        return
    shim = types.SimpleNamespace(**vars(subprocess))
    shim.Popen = _popen_dying_with_us
    prefect_server.subprocess = shim
