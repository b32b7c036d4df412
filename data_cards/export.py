"""Export a built mixture's card (README.md and plots/*.png) into a folder, safely.

The folder may be new, empty, or hold other files: the export writes its own files inside it
and deletes nothing else. It refuses a folder whose README.md is not an earlier export of the
same mixture's card (it would be overwritten), and a destination that is a file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import yaml

from data_cards.metadata import MIXTURE_KEY, pretty_name, split_front_matter
from instances import InstructmixError
from instances.tempfiles import follow_umask, temp_file_beside

PLOTS = "plots"


class ExportError(InstructmixError):
    """The export destination cannot take the card; the message names it and why."""


def _front_matter(readme: Path) -> dict:
    try:
        metadata, _ = split_front_matter(readme.read_text(encoding="utf-8"))
        loaded = yaml.safe_load(metadata) if metadata else None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def card_name(readme: Path) -> str | None:
    """The mixture name an instructmix card records in its front matter (`MIXTURE_KEY`), or None."""
    name = _front_matter(readme).get(MIXTURE_KEY)
    return name if isinstance(name, str) else None


def is_export_of(readme: Path, name: str) -> bool:
    """Whether `readme` is an earlier export of mixture `name`'s card.

    The card records the mixture name under `MIXTURE_KEY`; a card from before that key is
    recognised by its `pretty_name`, the readable title (or the bare name) it was given then.
    """
    front = _front_matter(readme)
    if MIXTURE_KEY in front:
        return front[MIXTURE_KEY] == name
    return front.get("pretty_name") in (name, pretty_name(name))


def _copy_atomic(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_file_beside(target)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        follow_umask(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def export_files(folder: Path, dest: Path, name: str) -> list[Path]:
    """Copy `folder`'s README.md and plots/*.png into `dest`; return them relative to `dest`.

    An earlier export of the card of `name` is updated in place (its old plots that the new
    card no longer has are removed); any other file in `dest` is left alone.
    """
    readme = folder / "README.md"
    if not readme.is_file():
        raise ExportError(f"{readme}: no card to export; build the mixture first")
    if dest.exists() and not dest.is_dir():
        raise ExportError(f"{dest}: is a file; export into a folder")
    existing = dest / "README.md"
    earlier = existing.is_file() and is_export_of(existing, name)
    if (existing.exists() or existing.is_symlink()) and not earlier:
        raise ExportError(
            f"{existing}: exists and is not an earlier export of {name!r}'s card; "
            "export into an empty or new folder"
        )
    sources = [readme, *sorted((folder / PLOTS).glob("*.png"))]
    for source in sources[1:]:
        target = dest / source.relative_to(folder)
        if (target.exists() or target.is_symlink()) and not earlier:
            raise ExportError(f"{target}: exists; export into an empty or new folder")
    dest.mkdir(parents=True, exist_ok=True)
    for source in sources[1:] + sources[:1]:  # the card last: it names the export as complete
        _copy_atomic(source, dest / source.relative_to(folder))
    if earlier:
        fresh = {source.name for source in sources[1:]}
        for old in sorted((dest / PLOTS).glob("*.png")):
            if old.name not in fresh:
                old.unlink()
    return [source.relative_to(folder) for source in sources]
