"""`instructmix sources` (every source and its template count) and `instructmix preview`."""

from __future__ import annotations

import typer
from rich.console import Console

from flows.options import Mirror
from flows.settings import resolve_mirror
from generators.catalog import preview_result, print_preview, render_check_table, source_table
from instances.context import StageContext


def sources(
    mirror: Mirror = None,
    check: int = typer.Option(
        0, "--check", min=0, max=100_000, help="also render every template on N rows per task"
    ),
) -> None:
    """List every source with its category and template count (--check N: render shares)."""
    resolved = resolve_mirror(mirror)
    console = Console()
    console.print(source_table(resolved))
    if check:
        console.print(render_check_table(resolved, check))


def preview(
    source: str = typer.Argument(..., help="a source name from `instructmix sources`"),
    n: int = typer.Option(5, "--n", min=1, max=1000, help="instances to print"),
    variant: list[str] = typer.Option(
        ["zs_noopt"], "--variant", help="zs_opt, zs_noopt, fs or cot (repeatable)"
    ),
    k: int = typer.Option(3, "--k", min=1, max=16, help="exemplars for the fs variant"),
    seed: int = typer.Option(0, "--seed", help="sampling seed"),
    mirror: Mirror = None,
) -> None:
    """Print N rendered instances of SOURCE (one random template per row)."""
    ctx = StageContext(mirror=resolve_mirror(mirror), seed=seed)
    print_preview(preview_result(source, n, variant, k, ctx), n, Console())
