"""Browsing Natural-Instructions task files: one line per task, one instance under an encoding,
the encodings (for `instructmix ni tasks`, `ni preview` and `ni encodings`)."""

from __future__ import annotations

from pathlib import Path

from generators.natural_instructions.encodings import (
    PAPER_ENCODINGS,
    EncodingError,
    instruction_blocks,
    missing_components,
    parse_encoding,
    render_prompt,
    shows_examples,
)
from generators.natural_instructions.generate import task_lang
from generators.natural_instructions.selection import EXCLUDED, available_tasks, default_splits
from generators.natural_instructions.task_file import parse_task_file
from instances import InstructmixError, SourceError


def task_lines(mirror: Path, split: str) -> list[str]:
    """One tab-separated line per task of the mirror in `split` (train, test, excluded or all):
    name, split, category, instances, lang, license."""
    if split not in ("train", "test", EXCLUDED, "all"):
        raise InstructmixError(f"--split {split!r}: use train, test, {EXCLUDED} or all")
    labels = default_splits(mirror, required=False)
    lines = []
    for name, path in available_tasks(mirror).items():
        label = labels.get(name, EXCLUDED)
        if split != "all" and label != split:
            continue
        task = parse_task_file(path)
        lines.append(
            f"{name}\t{label}\t{task.category or 'uncategorized'}\t{len(task.instances)}\t"
            f"{task_lang(task, str(path))}\t{task.license}"
        )
    return lines


def render_instance(
    mirror: Path, task_name: str, encoding_name: str, index: int
) -> tuple[str, str, str, list[str]]:
    """Instance `index` of a task under an encoding: (template name, prompt, first reference
    output, components the task file lacks)."""
    try:
        encoding = parse_encoding(encoding_name)
    except EncodingError as error:
        raise InstructmixError(str(error)) from error
    paths = available_tasks(mirror)
    if task_name not in paths:
        raise SourceError(f"no task {task_name!r} in the mirror ({len(paths)} tasks there)")
    task = parse_task_file(paths[task_name])
    if not 0 <= index < len(task.instances):
        raise InstructmixError(f"--index {index}: {task_name} has {len(task.instances)} instances")
    instance = task.instances[index]
    prompt = render_prompt(
        instruction_blocks(task, encoding), instance.input, shows_examples(task, encoding)
    )
    target = instance.output[0] if instance.output else ""
    return f"ni/{encoding.name}", prompt, target, missing_components(task, encoding)


def encoding_lines() -> list[str]:
    """The eight paper encodings (name, label), then the grammar of encoding names."""
    lines = [f"{name:16} {label}" for label, name in PAPER_ENCODINGS.items()]
    return [
        *lines,
        "names join parts with '+': prompt, def, avoid, emphasis, pos|posK, neg|negK, expl "
        "(Tk-Instruct default: def+pos2)",
    ]
