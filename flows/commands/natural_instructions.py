"""`instructmix ni ...`: look at Natural-Instructions task files and preview encodings."""

from __future__ import annotations

from pathlib import Path

import typer

from flows.settings import resolve_mirror
from generators.natural_instructions.browse import encoding_lines, render_instance, task_lines
from instances import SourceError

MIRROR_HELP = "local data mirror (default: $INSTRUCTMIX_MIRROR)"


def _mirror(option: str | None) -> Path:
    mirror = resolve_mirror(option)
    if mirror is None:
        raise SourceError("no mirror: pass --mirror PATH or set INSTRUCTMIX_MIRROR")
    return mirror


ni_app = typer.Typer(
    help="Natural Instructions / Super-NaturalInstructions task files.", no_args_is_help=True
)


@ni_app.command("tasks")
def tasks_command(
    split: str = typer.Option("all", help="train, test, excluded or all"),
    mirror: str | None = typer.Option(None, help=MIRROR_HELP),
) -> None:
    """List the tasks, tab-separated: name, split, category, instances, lang, license."""
    lines = task_lines(_mirror(mirror), split)
    for line in lines:
        typer.echo(line)
    typer.secho(f"{len(lines)} task(s)", err=True)


@ni_app.command("preview")
def preview_command(
    task: str = typer.Argument(..., help="task name, e.g. task1146_country_capital"),
    encoding: str = typer.Option("def+pos2", help="encoding name, e.g. full, prompt+def"),
    index: int = typer.Option(0, help="which instance of the task"),
    mirror: str | None = typer.Option(None, help=MIRROR_HELP),
) -> None:
    """Show one instance rendered under an encoding, with its target."""
    template, prompt, target, missing = render_instance(_mirror(mirror), task, encoding, index)
    typer.secho(f"--- user (template {template}) ---", fg=typer.colors.CYAN)
    typer.echo(prompt)
    typer.secho("--- assistant (first reference output) ---", fg=typer.colors.CYAN)
    typer.echo(target)
    if missing:
        typer.secho(f"missing in this task file: {', '.join(missing)}", fg=typer.colors.YELLOW)


@ni_app.command("encodings")
def encodings_command() -> None:
    """List the eight paper encodings and the name grammar."""
    for line in encoding_lines():
        typer.echo(line)
