"""`tasks_dir:` any folder of SuperNI task files, with its own `splits/` if it has one.

Layout: task files in the folder itself or in its `tasks/`; split lists in
`splits/default/{train,test}_tasks.txt` or `splits/{train,test}_tasks.txt`. Without split
lists every task counts as a train task. Tasks of the official SuperNI test split (the folder's
own test list, and the mirror's when one is given) are never read for `split: train`: naming
one in `tasks:` is an error, and they are left out otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from generators.natural_instructions import selection
from generators.natural_instructions.task_file import TaskFile, parse_task_file, read_task_list
from instances import SourceError

if TYPE_CHECKING:
    from generators.natural_instructions.config import Config


def task_files(folder: Path) -> dict[str, Path]:
    """Task name -> file for every `*.json` task file of `folder` (or of its `tasks/`)."""
    root = folder / "tasks" if (folder / "tasks").is_dir() else folder
    if not root.is_dir():
        raise SourceError(f"{folder}: tasks_dir is not a folder")
    found = {path.stem: path for path in sorted(root.glob("*.json"))}
    if not found:
        raise SourceError(f"{root}: no SuperNI task files (*.json) in tasks_dir")
    return found


def split_lists(folder: Path) -> dict[str, Path]:
    """The folder's own split lists: 'train'/'test' -> file (empty when it has none)."""
    for base in (folder / "splits" / "default", folder / "splits"):
        found = {s: base / f"{s}_tasks.txt" for s in selection.SPLITS}
        if any(path.is_file() for path in found.values()):
            return {s: path for s, path in found.items() if path.is_file()}
    return {}


def official_test(folder: Path, mirror: Path | None) -> set[str]:
    """Names of test-split tasks: the folder's own test list and the mirror's official one."""
    names: set[str] = set()
    own = split_lists(folder).get("test")
    if own is not None:
        names.update(read_task_list(own))
    if mirror is not None and selection.split_file(mirror, "test").is_file():
        names.update(read_task_list(selection.split_file(mirror, "test")))
    return names


def _labels(folder: Path, names: list[str]) -> dict[str, str]:
    lists = split_lists(folder)
    if not lists:
        return dict.fromkeys(names, "train")
    labels: dict[str, str] = {}
    for split, path in lists.items():
        for name in read_task_list(path):
            labels[name] = split
    return labels


def selected_names(config: Config, folder: Path, mirror: Path | None) -> list[str]:
    """The task names of `folder` that `config` reads (see the module docstring)."""
    files = task_files(folder)
    names = list(files)
    if config.tasks is not None:
        unknown = sorted(set(config.tasks) - set(files))
        if unknown:
            raise SourceError(f"{folder}: no task file for {unknown} ({len(files)} task files)")
        names = [name for name in names if name in set(config.tasks)]
    labels = _labels(folder, names)
    if config.split_by == "default" and config.split != "all":
        names = [name for name in names if labels.get(name, selection.EXCLUDED) == config.split]
    if config.split != "test":
        refused = official_test(folder, mirror)
        named = sorted(set(config.tasks or ()) & refused)
        if named:
            raise SourceError(
                f"tasks {named} belong to the official SuperNI test split: they are for "
                "evaluation and are never read for training"
            )
        names = [name for name in names if name not in refused]
    return names


def folder_tasks(
    config: Config, folder: Path, mirror: Path | None, show_progress: bool = False
) -> list[tuple[TaskFile, str, str]]:
    """(task, its split label, file path) for every task of `folder` that `config` selects."""
    files = task_files(folder)
    names = selected_names(config, folder, mirror)
    labels = _labels(folder, names)
    parsed = [
        (parse_task_file(files[name]), labels.get(name, selection.EXCLUDED), str(files[name]))
        for name in tqdm(names, desc="natural_instructions tasks", disable=not show_progress)
    ]
    if config.split_by == "category":
        parsed = selection.held_out(config, parsed)
    if not parsed:
        raise SourceError(
            f"{folder}: no task selected (split {config.split!r}, tasks {config.tasks})"
        )
    return parsed


def folder_inputs(config: Config, folder: Path, mirror: Path | None) -> list[Path]:
    """The split lists and task files `folder_tasks` reads."""
    files = task_files(folder)
    lists = list(split_lists(folder).values())
    return lists + [files[name] for name in selected_names(config, folder, mirror)]
