"""`instructmix inspect NAME [--rejected [--reason R]]`: look at a built mixture's rows.

Without `--rejected` the kept rows are shown (`--split`, `--contains`, `--offset`; `--by` counts
instead of showing rows); `--source`, `--task` and `--category` narrow either view. The showing
is data_cards/rows_view.py.
"""

from __future__ import annotations

from typing import Annotated

import typer

from data_cards.rows_view import inspect_mixture
from flows.options import DEFAULT_OUTPUT_DIR, OutputDir
from mixtures.folder import MixtureFolder


def inspect(
    name: Annotated[str, typer.Argument(help="mixture name (a folder under --output-dir)")],
    rejected: Annotated[bool, typer.Option("--rejected", help="show rejected rows")] = False,
    reason: Annotated[
        str | None,
        typer.Option(
            help="only this reject reason (a prefix before ':' matches, e.g. contaminated)"
        ),
    ] = None,
    source: Annotated[str | None, typer.Option(help="only rows of this source")] = None,
    task: Annotated[str | None, typer.Option(help="only rows of this task")] = None,
    category: Annotated[str | None, typer.Option(help="only rows of this category")] = None,
    limit: Annotated[int, typer.Option(min=1, help="show at most this many rows")] = 10,
    width: Annotated[int, typer.Option(min=20, help="characters shown per turn")] = 300,
    output_dir: OutputDir = DEFAULT_OUTPUT_DIR,
    split: Annotated[str | None, typer.Option(help="kept rows of this split only")] = None,
    contains: Annotated[str | None, typer.Option(help="kept rows whose text contains this")] = None,
    offset: Annotated[int, typer.Option(min=0, help="skip this many matching kept rows")] = 0,
    meta: Annotated[bool, typer.Option("--meta", help="show each row's meta whole")] = False,
    full: Annotated[bool, typer.Option("--full", help="do not cut long turns")] = False,
    by: Annotated[
        str | None,
        typer.Option(help="count kept rows by source/task/category/origin/template/lang/split"),
    ] = None,
) -> None:
    """Show rows of the built mixture NAME (rejected rows with --rejected).

    Kept rows: filter by --split/--source/--task/--category/--contains, page with
    --limit/--offset, or count them --by a column.
    """
    folder = MixtureFolder.resolve(name, output_dir).path
    inspect_mixture(
        folder,
        rejected=rejected,
        reason=reason,
        source=source,
        task=task,
        category=category,
        limit=limit,
        width=10**9 if full else width,
        split=split,
        contains=contains,
        offset=offset,
        full_meta=meta,
        by=by,
    )
