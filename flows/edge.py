"""The CLI's edge: turn what escapes a command into one line naming the file, or an exit code.

OS errors (permission denied, read-only folder, disk full, a path that is a file), decoding
errors and interrupts end here; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import errno

from pydantic import ValidationError as PydanticValidationError

from instances.lifecycle import Interrupted

_HINTS = {
    errno.ENOSPC: "no space left on the device; free some space and build again",
    errno.EDQUOT: "disk quota exceeded; free some space and build again",
    errno.EROFS: "the file system is read-only; choose another output folder (--out)",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOTDIR: "a path component is a file, not a folder",
    errno.EISDIR: "is a folder, not a file",
    errno.EEXIST: "already exists",
    errno.ENAMETOOLONG: "file name too long",
    errno.ENOENT: "no such file or folder",
}


def os_error_line(error: OSError) -> str:
    """One line for an OS error: the file(s) it concerns, what went wrong and what to do."""
    what = _HINTS.get(error.errno or 0) or error.strerror or type(error).__name__
    names = [str(n) for n in (error.filename, error.filename2) if n is not None]
    if not names:
        return f"{what} ({error})" if str(error) and what not in str(error) else what
    return f"{' -> '.join(names)}: {what}"


def interrupted_exit(error: Interrupted) -> int:
    """The exit status of a command stopped by a signal: 128 + the signal number."""
    return 128 + error.signum


def exit_status_for(error: BaseException) -> int:
    """1 for a user or OS error; 128 + signal for an interrupt."""
    if isinstance(error, Interrupted):
        return interrupted_exit(error)
    if isinstance(error, KeyboardInterrupt):
        return 128 + 2
    return 1


def describe(error: BaseException) -> str:
    """The one line the CLI prints for an error that reached the edge."""
    if isinstance(error, OSError):
        return os_error_line(error)
    if isinstance(error, UnicodeDecodeError):
        return f"input is not UTF-8 text ({error.reason} at byte {error.start})"
    if isinstance(error, RecursionError):
        return "input nested too deeply to read"
    if isinstance(error, MemoryError):
        return "out of memory"
    if isinstance(error, PydanticValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or error.title
        return f"{where}: {first['msg'].removeprefix('Value error, ')}"
    if isinstance(error, Interrupted | KeyboardInterrupt):
        return f"{error or 'interrupted'}; temporary files removed, earlier outputs unchanged"
    return str(error)


EDGE_ERRORS = (OSError, UnicodeDecodeError, RecursionError, MemoryError, PydanticValidationError)
