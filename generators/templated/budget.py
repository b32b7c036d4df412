"""Bounds on one template render: wall time and the size of every string it builds.

The sandbox stops templates reaching Python internals, but not from looping for hours
(`range(99999)` nested) or building gigabytes (`~` doubling in a loop, `|center(3000000000)`,
`|replace` on every character). This module gives the renderer:

- `Watchdog`: one daemon thread that raises `RenderTimeout` inside a render that runs past its
  deadline (CPython's per-thread asynchronous exception, delivered between bytecodes: Jinja
  templates are compiled Python, so every loop is interruptible).
- size checks used before an operation that could build a huge value (`check_size`,
  `check_args`, `replace_size`) and after it (`check_result`).

Over-budget renders become rejected rows with reason `render_budget`.
"""

from __future__ import annotations

import ctypes
import re
import threading
import time
from typing import Any

MAX_CHARS = 1_000_000  # the largest string, list or rendered output one render may build
MAX_SECONDS = 2.0  # wall time one render may take


class RenderBudgetExceeded(Exception):
    """A render went over its size budget (raised inside the template's code)."""


class RenderTimeout(BaseException):
    """Raised asynchronously inside a render that passed its deadline.

    A `BaseException`, so the template's own code (and Jinja's) cannot swallow it.
    """


def check_size(size: int, what: str) -> None:
    """Refuse an operation whose result would have `size` items (over `MAX_CHARS`)."""
    if size > MAX_CHARS:
        raise RenderBudgetExceeded(f"{what} would build {size:,} characters (limit {MAX_CHARS:,})")


def check_args(name: str, args: tuple, kwargs: dict) -> None:
    """Refuse a call with an integer argument above `MAX_CHARS` (a width, a fill count)."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_CHARS:
            raise RenderBudgetExceeded(f"{name}({value:,}) is above the size limit {MAX_CHARS:,}")


def replace_size(text: Any, old: Any, new: Any, count: Any = -1) -> int:
    """Length of `text.replace(old, new, count)`, computed without building it."""
    if not (isinstance(text, str) and isinstance(old, str) and isinstance(new, str)):
        return 0
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * (len(new) - len(old))


# Operations whose output can be much larger than their input (checked before they run).
GROWING = frozenset(
    {"replace", "indent", "wordwrap", "expandtabs", "translate", "format", "format_map", "join"}
)
_BIG_NUMBER = re.compile(r"\d{" + str(len(str(MAX_CHARS))) + ",}")


def _width(value: Any) -> int:
    return len(value) if isinstance(value, str) else value if isinstance(value, int) else 0


def estimated_size(name: str, subject: Any, args: tuple, kwargs: dict) -> int:
    """The size of `subject.<name>(*args)` (a str method or the Jinja filter of that name),
    estimated without running it, for the operations that can multiply their input; 0 when
    the operation cannot grow its input beyond what `check_args` bounds."""
    if not isinstance(subject, str) and name != "join":
        return 0
    if name == "replace" and len(args) >= 2:
        return replace_size(subject, *args[:3])
    if name == "indent":
        width = _width(args[0] if args else kwargs.get("width", 4))
        return len(subject) + (subject.count("\n") + 1) * width
    if name == "wordwrap":
        width = max(1, _width(args[0] if args else kwargs.get("width", 79)))
        wrap = args[2] if len(args) > 2 else kwargs.get("wrapstring") or "\n"
        return len(subject) * 2 + (len(subject) // width + 1) * len(str(wrap))
    if name == "expandtabs":
        return len(subject) + subject.count("\t") * _width(args[0] if args else 8)
    if name == "translate" and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        return len(subject) * longest
    if name in ("format", "format_map") and _BIG_NUMBER.search(subject):
        return MAX_CHARS + 1  # a width or precision of millions inside the format string
    if name == "join":
        separator, items = (
            (subject, args[0])
            if isinstance(subject, str)
            else (
                args[0] if args else "",
                subject,
            )
        )
        count = len(items) if hasattr(items, "__len__") else 0
        return count * len(str(separator))
    return 0


def check_format_string(text: Any, what: str) -> None:
    """Refuse a `%`/format string with a width or precision in the millions."""
    if isinstance(text, str) and _BIG_NUMBER.search(text):
        check_size(MAX_CHARS + 1, what)


def check_result(value: Any, what: str) -> Any:
    """Return `value`, or refuse it when it is a string or sequence over `MAX_CHARS`."""
    if isinstance(value, str | list | tuple) and len(value) > MAX_CHARS:
        check_size(len(value), what)
    return value


def bounded_concat(parts: tuple) -> str:
    """Jinja's `~` operator with the size check: the joined text of `parts`."""
    texts = [part if isinstance(part, str) else str(part) for part in parts]
    check_size(sum(len(text) for text in texts), "'~'")
    return "".join(texts)


_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)


class Watchdog:
    """Raises `RenderTimeout` in threads whose armed deadline has passed (one daemon thread)."""

    def __init__(self) -> None:
        self._deadlines: dict[int, float] = {}
        self._fired: set[int] = set()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._wake_at: float | None = None

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for ident, deadline in list(self._deadlines.items()):
                    if deadline <= now and ident not in self._fired:
                        self._fired.add(ident)
                        _set_async_exc(ident, RenderTimeout)
                pending = [d for i, d in self._deadlines.items() if i not in self._fired]
                self._wake_at = min(pending) if pending else None
                self._cond.wait(timeout=max(0.0, self._wake_at - now) if pending else None)

    def arm(self, seconds: float) -> None:
        """Start the calling thread's deadline, `seconds` from now."""
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="render-watchdog")
                self._thread.daemon = True
                self._thread.start()
            ident = threading.get_ident()
            self._fired.discard(ident)
            deadline = time.monotonic() + seconds
            self._deadlines[ident] = deadline
            if self._wake_at is None or deadline < self._wake_at:
                self._cond.notify()  # else the watchdog wakes early enough on its own

    def disarm(self) -> bool:
        """End the calling thread's deadline; True when it had fired (a pending timeout that
        was not yet raised is cancelled, so it cannot land outside the render)."""
        ident = threading.get_ident()
        with self._cond:
            self._deadlines.pop(ident, None)
            fired = ident in self._fired
            if fired:
                self._fired.discard(ident)
                _set_async_exc(ident, ctypes.py_object())  # NULL: clears it if not raised yet
            return fired


WATCHDOG = Watchdog()
