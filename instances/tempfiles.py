"""Temporary files and folders beside an output: named after their process, permissions that
follow the umask, and removal of the ones an earlier, dead process left behind.

A temporary name carries the PID of the process that made it (`.NAME.<pid>.<random>.tmp`,
`.NAME.old-<pid>`), so a later build can prove that its maker is gone before removing it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path


def current_umask() -> int:
    """The process's umask, read without changing it where Linux allows (else set and reset)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def follow_umask(path: str | Path) -> None:
    """Give `path` (and, for a folder, everything inside) the modes a plain create would have
    given under the umask: 0666 & ~umask for files, 0777 & ~umask for folders."""
    mask = current_umask()
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        os.chmod(path, 0o777 & ~mask)
        for root, dirs, files in os.walk(path):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o777 & ~mask)
            for name in files:
                file = os.path.join(root, name)
                if not os.path.islink(file):
                    os.chmod(file, 0o666 & ~mask)
    elif path.exists():
        os.chmod(path, 0o666 & ~mask)


def temp_file_beside(path: Path) -> tuple[int, str]:
    """`mkstemp` in `path`'s folder, named `.NAME.<pid>.<random>.tmp`: (fd, name)."""
    return tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)


# Temporary folders this process has made and not yet renamed or removed.
LIVE: set[Path] = set()


def temp_dir_beside(path: Path) -> Path:
    """`mkdtemp` in `path`'s folder, named `.NAME.<pid>.<random>.tmp` (registered in `LIVE`)."""
    made = Path(
        tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    )
    LIVE.add(made)
    return made


def remove_live_temporaries() -> None:
    """Remove every temporary folder this process still holds (on a forced exit)."""
    for path in list(LIVE):
        remove_tree(path)
        LIVE.discard(path)


def pid_alive(pid: int) -> bool:
    """Whether a process `pid` exists (one of another user counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _writable_retry(function, path, _excinfo) -> None:  # noqa: ANN001 (shutil's onerror)
    parent = os.path.dirname(path)
    with contextlib.suppress(OSError):
        os.chmod(parent, os.stat(parent).st_mode | stat.S_IWUSR | stat.S_IXUSR)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, os.stat(path).st_mode | stat.S_IWUSR | stat.S_IXUSR | stat.S_IRUSR)
    with contextlib.suppress(FileNotFoundError):
        function(path)


def remove_tree(path: str | Path) -> None:
    """Remove a folder (or file) of ours even where its contents were made read-only."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(path, onerror=_writable_retry)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def stale_temporaries(final: Path) -> list[Path]:
    """Temporaries of `final` (`.NAME.<pid>.*.tmp`, `.NAME.old-<pid>`) whose process is dead."""
    pattern = re.compile(rf"^\.{re.escape(final.name)}\.(?:(\d+)\..+\.tmp|old-(\d+))$")
    stale = []
    with contextlib.suppress(OSError):
        for entry in final.parent.iterdir():
            match = pattern.match(entry.name)
            if match and not pid_alive(int(match.group(1) or match.group(2))):
                stale.append(entry)
    return sorted(stale)


def remove_stale_temporaries(final: Path) -> list[Path]:
    """Remove the temporaries of `final` left by dead processes; return what was removed."""
    stale = stale_temporaries(final)
    for entry in stale:
        remove_tree(entry)
    return stale
