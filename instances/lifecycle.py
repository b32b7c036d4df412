"""How a process of ours ends: on a signal, and for the children it starts.

- `Interrupted` is raised in the main thread on SIGTERM / SIGINT (under `signal_guard`), a
  `BaseException` so that no `except Exception` swallows it and every `finally` (temporary
  folders) runs; `STOP` tells work in other threads (template renders) to stop too. A second
  signal, or a main thread that has not unwound in GRACE_SECONDS, ends the process at once
  (`hard_exit`), removing this process's temporaries.
- `die_with_parent` is a `preexec_fn` for servers we start: Linux sends the child SIGTERM when
  our process dies, even by SIGKILL, so no server outlives the build that started it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from instances.tempfiles import remove_live_temporaries

STOP = threading.Event()
_PR_SET_PDEATHSIG = 1
GRACE_SECONDS = 20.0  # after a signal, how long the main thread may take to unwind


class Interrupted(BaseException):
    """The process was asked to stop (SIGTERM, SIGINT); `signum` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum


def check_stop() -> None:
    """Raise `Interrupted` when a stop was requested (call between units of work)."""
    if STOP.is_set():
        raise Interrupted(getattr(STOP, "signum", signal.SIGTERM))


def request_stop(signum: int) -> None:
    """Ask every thread of this process to stop at its next check."""
    STOP.signum = signum  # type: ignore[attr-defined]
    STOP.set()


def clear_stop() -> None:
    """Forget a stop request (the command that got it has ended)."""
    STOP.clear()


def die_with_parent() -> None:
    """In a child process (a `preexec_fn`): get SIGTERM when the parent dies (Linux only)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def death_signal_preexec():  # noqa: ANN201 - a preexec_fn or None
    """`die_with_parent` when called from the main thread, else None.

    Linux ties the death signal to the thread that forked, not the process: a child started
    from a worker thread would be killed when that thread ends, so only the main thread uses it.
    """
    return die_with_parent if threading.current_thread() is threading.main_thread() else None


def hard_exit(status: int) -> None:
    """End the process now: remove our temporaries, flush, `os._exit`.

    Used once an interrupt has been reported: at-exit hooks can wait forever on a server that is
    already gone, and an interrupted command must end.
    """
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
