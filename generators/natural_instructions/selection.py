"""Which task files of the mirror a config selects: task names, official splits, held-out category.

Mirror layout (as `../shared/data/natural_instructions`): `tasks/<task>.json` and
`splits/default/{train,test}_tasks.txt`. Tasks in neither list are the official "excluded" ones.
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from generators.natural_instructions.config import Config
from generators.natural_instructions.task_file import (
    TaskFile,
    parse_task_file,
    read_task_list,
)
from instances import SourceError

MIRROR_DIR = "natural_instructions"
SPLITS = ("train", "test")
EXCLUDED = "excluded"


def tasks_dir(mirror: Path) -> Path:
    """The folder of task files inside `mirror`."""
    return Path(mirror) / MIRROR_DIR / "tasks"


def split_file(mirror: Path, split: str) -> Path:
    """The official task list of `split` ('train' or 'test') inside `mirror`."""
    return Path(mirror) / MIRROR_DIR / "splits" / "default" / f"{split}_tasks.txt"


def available_tasks(mirror: Path) -> dict[str, Path]:
    """Task name -> task file, for every `*.json` in the mirror's tasks folder (sorted)."""
    folder = tasks_dir(mirror)
    if not folder.is_dir():
        raise SourceError(f"{folder}: Natural-Instructions task folder not found in the mirror")
    found = {path.stem: path for path in sorted(folder.glob("*.json"))}
    if not found:
        raise SourceError(f"{folder}: no task files (*.json) in the mirror")
    return found


def default_splits(mirror: Path, required: bool) -> dict[str, str]:
    """Task name -> 'train' or 'test' from the official lists; empty if absent and not required."""
    labels: dict[str, str] = {}
    for split in SPLITS:
        path = split_file(mirror, split)
        if not path.is_file() and not required:
            continue
        for name in read_task_list(path):
            if labels.get(name, split) != split:
                raise SourceError(f"{path}: task {name!r} is in both the train and test lists")
            labels[name] = split
    return labels


def _needs_split_lists(config: Config) -> bool:
    return config.split_by == "default" and config.split != "all"


def candidate_names(config: Config, mirror: Path) -> list[str]:
    """Task names to read: the mirror's files, narrowed by `config.tasks` and the official split.

    Leave-one-category-out needs every candidate's Categories, so it narrows after parsing.
    """
    available = available_tasks(mirror)
    names = list(available)
    if config.tasks is not None:
        unknown = sorted(set(config.tasks) - set(available))
        if unknown:
            raise SourceError(
                f"{tasks_dir(mirror)}: no task file for {unknown} "
                f"({len(available)} task files there)"
            )
        names = [name for name in names if name in set(config.tasks)]
    if _needs_split_lists(config):
        labels = default_splits(mirror, required=True)
        if config.tasks is not None:
            elsewhere = sorted(n for n in names if labels.get(n, EXCLUDED) != config.split)
            if elsewhere:
                raise SourceError(
                    f"tasks {elsewhere} are not in the official {config.split} split "
                    f"({split_file(mirror, config.split)}); use split: all to read them"
                )
        names = [name for name in names if labels.get(name) == config.split]
    return names


def _held_out(
    config: Config, parsed: list[tuple[TaskFile, str, str]]
) -> list[tuple[TaskFile, str, str]]:
    wanted = (config.held_out_category or "").strip().lower()
    categories = sorted({task.category or "uncategorized" for task, _, _ in parsed})
    if wanted not in {category.lower() for category in categories}:
        raise SourceError(
            f"held_out_category {config.held_out_category!r} is not a category of the selected "
            f"tasks; categories there: {categories}"
        )
    test_side = config.split == "test"
    return [
        item
        for item in parsed
        if ((item[0].category or "uncategorized").lower() == wanted) == test_side
    ]


held_out = _held_out  # the leave-one-category-out narrowing, shared with folder.py


def mirror_tasks(
    config: Config, mirror: Path, show_progress: bool = False
) -> list[tuple[TaskFile, str, str]]:
    """(task, its official split or 'excluded', file path) for each task `config` selects.

    Every selected file is parsed and validated; a bad one raises `SourceError` naming it.
    """
    paths = available_tasks(mirror)
    labels = default_splits(mirror, required=_needs_split_lists(config))
    names = candidate_names(config, mirror)
    parsed = []
    for name in tqdm(names, desc="natural_instructions tasks", disable=not show_progress):
        path = paths[name]
        parsed.append((parse_task_file(path), labels.get(name, EXCLUDED), str(path)))
    if config.split_by == "category":
        parsed = _held_out(config, parsed)
    if not parsed:
        raise SourceError(
            f"{tasks_dir(mirror)}: no task selected (split {config.split!r}, "
            f"split_by {config.split_by!r}, tasks {config.tasks})"
        )
    return parsed


def mirror_inputs(config: Config, mirror: Path) -> list[Path]:
    """The split lists and task files `mirror_tasks` reads for `config`."""
    lists = [split_file(mirror, split) for split in SPLITS if split_file(mirror, split).is_file()]
    paths = available_tasks(mirror)
    return lists + [paths[name] for name in candidate_names(config, mirror)]
