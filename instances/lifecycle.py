"""How a process of ours ends: on a signal, and for the children it starts.

- `Interrupted` is raised in the main thread on SIGTERM / SIGINT (see `flows/guard.py`), a
  `BaseException` so that no `except Exception` swallows it and every `finally` (temporary
  folders) runs; `STOP` tells work in other threads (template renders) to stop too.
- `die_with_parent` is a `preexec_fn` for servers we start: Linux sends the child SIGTERM when
  our process dies, even by SIGKILL, so no server outlives the build that started it.
"""

from __future__ import annotations

import ctypes
import signal
import sys
import threading

STOP = threading.Event()
_PR_SET_PDEATHSIG = 1


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
