"""`instructmix ni ...`: look at Natural-Instructions task files and preview encodings."""

from __future__ import annotations

from pathlib import Path

import typer

from flows.settings import resolve_mirror
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
from generators.natural_instructions.selection import (
    EXCLUDED,
    available_tasks,
    default_splits,
)
from generators.natural_instructions.task_file import parse_task_file
from instances import InstructmixError, SourceError

MIRROR_HELP = "local data mirror (default: $INSTRUCTMIX_MIRROR)"


def _mirror(option: str | None) -> Path:
    mirror = resolve_mirror(option)
    if mirror is None:
        raise SourceError("no mirror: pass --mirror PATH or set INSTRUCTMIX_MIRROR")
    return mirror


def list_tasks(mirror: Path, split: str) -> None:
    """Print one line per task of the mirror: name, split, category, instances, lang, license."""
    if split not in ("train", "test", EXCLUDED, "all"):
        raise InstructmixError(f"--split {split!r}: use train, test, {EXCLUDED} or all")
    labels = default_splits(mirror, required=False)
    shown = 0
    for name, path in available_tasks(mirror).items():
        label = labels.get(name, EXCLUDED)
        if split != "all" and label != split:
            continue
        task = parse_task_file(path)
        typer.echo(
            f"{name}\t{label}\t{task.category or 'uncategorized'}\t{len(task.instances)}\t"
            f"{task_lang(task, str(path))}\t{task.license}"
        )
        shown += 1
    typer.secho(f"{shown} task(s)", err=True)


def preview(mirror: Path, task_name: str, encoding_name: str, index: int) -> None:
    """Print instance `index` of a task rendered under an encoding, its target, what is missing."""
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
    typer.secho(f"--- user (template ni/{encoding.name}) ---", fg=typer.colors.CYAN)
    typer.echo(prompt)
    typer.secho("--- assistant (first reference output) ---", fg=typer.colors.CYAN)
    typer.echo(instance.output[0] if instance.output else "")
    missing = missing_components(task, encoding)
    if missing:
        typer.secho(f"missing in this task file: {', '.join(missing)}", fg=typer.colors.YELLOW)


ni_app = typer.Typer(
    help="Natural Instructions / Super-NaturalInstructions task files.", no_args_is_help=True
)


@ni_app.command("tasks")
def tasks_command(
    split: str = typer.Option("all", help="train, test, excluded or all"),
    mirror: str | None = typer.Option(None, help=MIRROR_HELP),
) -> None:
    """List the tasks, tab-separated: name, split, category, instances, lang, license."""
    list_tasks(_mirror(mirror), split)


@ni_app.command("preview")
def preview_command(
    task: str = typer.Argument(..., help="task name, e.g. task1146_country_capital"),
    encoding: str = typer.Option("def+pos2", help="encoding name, e.g. full, prompt+def"),
    index: int = typer.Option(0, help="which instance of the task"),
    mirror: str | None = typer.Option(None, help=MIRROR_HELP),
) -> None:
    """Show one instance rendered under an encoding, with its target."""
    preview(_mirror(mirror), task, encoding, index)


@ni_app.command("encodings")
def encodings_command() -> None:
    """List the eight paper encodings and the name grammar."""
    for label, name in PAPER_ENCODINGS.items():
        typer.echo(f"{name:16} {label}")
    typer.echo(
        "names join parts with '+': prompt, def, avoid, emphasis, pos|posK, neg|negK, expl "
        "(Tk-Instruct default: def+pos2)"
    )
