"""`instructmix card` and `instructmix push`: read and publish a built mixture's card.

(`instructmix inspect`, which browses rows, is in commands/inspect.py.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from data_cards.card_view import print_plan, show_card
from flows.options import DEFAULT_OUTPUT_DIR, MixtureName, OutputDir
from mixtures.folder import MixtureFolder


def _folder(name: str, output_dir: Path) -> Path:
    return MixtureFolder.resolve(name, output_dir).require_built().path


def card(
    name: MixtureName,
    output_dir: OutputDir = DEFAULT_OUTPUT_DIR,
    html: Annotated[bool, typer.Option("--html", help="write NAME/card.html (with the plots)")] = (
        False
    ),
    refresh: Annotated[
        bool, typer.Option("--refresh", help="re-render README.md and plots/ from the built data")
    ] = False,
    export: Annotated[
        Path | None,
        typer.Option(
            help="copy README.md and plots/ into this folder (e.g. data_cards/examples/NAME)"
        ),
    ] = None,
) -> None:
    """Print the data card of built mixture NAME (or write it as a static HTML page)."""
    show_card(_folder(name, output_dir), html=html, refresh=refresh, export=export)


def push(
    ctx: typer.Context,
    name: MixtureName,
    repo: Annotated[str, typer.Option(help="Hub dataset repository, org/name")],
    private: Annotated[bool, typer.Option("--private", help="create the repository private")] = (
        False
    ),
    revision: Annotated[str | None, typer.Option(help="branch to commit to (default main)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="list the files; upload nothing")] = (
        False
    ),
    include_rejected: Annotated[
        bool, typer.Option("--include-rejected", help="also upload rejected.parquet")
    ] = False,
    output_dir: OutputDir = DEFAULT_OUTPUT_DIR,
) -> None:
    """Upload built mixture NAME (card, Parquet shards, plots, lock) to a Hub dataset repo.

    Uses HF_ENDPOINT (default https://huggingface.co) and HF_TOKEN (or your saved login);
    the token is passed to the client only, never written anywhere.
    """
    from data_cards import hub

    hub.check_repo_id(repo)
    folder = _folder(name, output_dir)
    if dry_run:
        print_plan(hub.upload_plan(folder, include_rejected), repo)
        return
    from flows.publish import publish  # Prefect is slow to import
    from flows.server import command_session

    with command_session(ctx):
        result = publish(folder.name, repo, private, revision, include_rejected, folder.parent)
    typer.echo(f"pushed {len(result.files)} files to {repo}@{result.revision}")
    typer.echo(result.commit_url)
