"""A folder's seal: `manifest.sha256` lists the sha256 of every file shipped in it.

The format is that of `sha256sum` (`<hex>  <path>` per line, paths relative to the folder,
sorted), so `sha256sum -c manifest.sha256` checks a downloaded copy without instructmix.
Hidden files (temporaries) and the seal itself are not listed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from instances.errors import InstructmixError

SEAL = "manifest.sha256"


class SealError(InstructmixError):
    """A sealed folder differs from its seal; the message names the first file that differs."""


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of one file's bytes (the one file hash: seals, locks, shards)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def shipped_files(folder: Path) -> list[str]:
    """Every regular, non-hidden file under `folder` but the seal, relative and sorted."""
    names = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith("."):
                continue
            relative = Path(root, name).relative_to(folder).as_posix()
            if relative != SEAL:
                names.append(relative)
    return sorted(names)


def render_seal(folder: Path, names: list[str]) -> str:
    """The text of a seal over `names` (relative to `folder`)."""
    return "".join(f"{file_sha256(folder / name)}  {name}\n" for name in sorted(names))


def write_seal(folder: Path, names: list[str] | None = None) -> Path:
    """Write `folder/manifest.sha256` over `names` (default: every shipped file)."""
    from instances.io import write_text_atomic

    names = shipped_files(folder) if names is None else names
    return write_text_atomic(render_seal(folder, names), folder / SEAL)


def read_seal(folder: Path) -> dict[str, str]:
    """The seal's entries, path -> sha256; a malformed seal is a `SealError` naming the line."""
    path = folder / SEAL
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SealError(f"{path}: not UTF-8 text; the seal is damaged") from None
    entries = {}
    for number, line in enumerate(text.splitlines(), start=1):
        digest, sep, name = line.partition("  ")
        if (
            not sep
            or len(digest) != 64
            or not name
            or any(c not in "0123456789abcdef" for c in digest)
        ):
            raise SealError(f"{path}: line {number} is not '<sha256>  <file>'; the seal is damaged")
        entries[name] = digest
    return entries


def first_unsealed_difference(folder: Path, entries: dict[str, str]) -> str | None:
    """The first file (in path order) that is missing or whose bytes differ from `entries`."""
    for name in sorted(entries):
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        actual = file_sha256(path)
        if actual != entries[name]:
            return f"{name} differs (sha256 {actual[:12]}…, sealed {entries[name][:12]}…)"
    return None


def refresh_seal(folder: Path, rewritten: tuple[str, ...] = ("README.md", "plots/")) -> Path | None:
    """Re-seal the files of `folder` under `rewritten` (a re-rendered card), keeping every other
    sealed digest as it was, so earlier damage to the data still shows. None without a seal."""
    if not (folder / SEAL).is_file():
        return None
    entries = {
        name: digest for name, digest in read_seal(folder).items() if not name.startswith(rewritten)
    }
    for name in shipped_files(folder):
        if name.startswith(rewritten):
            entries[name] = file_sha256(folder / name)
    text = "".join(f"{entries[name]}  {name}\n" for name in sorted(entries))
    from instances.io import write_text_atomic

    return write_text_atomic(text, folder / SEAL)
