"""`instructmix card` and `instructmix push`: read and publish a built mixture's card.

(`instructmix inspect`, which browses rows, is in commands/inspect.py.)
"""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from data_cards import hub
from data_cards.card import CardError, export_card, write_card
from data_cards.stats import load_json
from flows.quiet import quiet_user_errors
from generators.registry import generator_licenses
from instances import InstructmixError
from mixtures.manifest import recipe_hash
from mixtures.recipe import RECIPES_DIR, load_recipe, parse_recipe

OUT_HELP = "folder of built mixtures"
MIXTURES = Path("artifacts/mixtures")


def _folder(name: str, out: Path) -> Path:
    candidate = Path(name)
    folder = candidate if (candidate / "data").is_dir() else out / name
    if not (folder / "data").is_dir():
        raise CardError(f"{folder}: no built mixture here; run `instructmix build {name}` first")
    return folder


def card_inputs(folder: Path) -> tuple[str, list[str]]:
    """The recipe text and declared licenses to re-render the card of a built `folder`.

    The named recipe file when its hash matches the build's lock, else the locked recipe as YAML.
    """
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise CardError(f"{manifest_path}: missing; rebuild the mixture (instructmix build)")
    manifest = load_json(folder, "manifest.json")  # corrupt: one line naming the file
    locked = manifest.get("recipe") or {}
    text = yaml.safe_dump(locked, sort_keys=False, allow_unicode=True)
    path = RECIPES_DIR / f"{manifest.get('name', '')}.yaml"
    try:
        if path.is_file() and recipe_hash(load_recipe(str(path))) == manifest.get("recipe_hash"):
            text = path.read_text(encoding="utf-8")
        sources = parse_recipe(locked, f"{folder}/manifest.json").sources
        licenses = sorted({lic for s in sources for lic in generator_licenses(s.generator)})
    except InstructmixError:  # a generator this checkout lacks: rows' meta still has licenses
        licenses = []
    return text, licenses


def _print_card(folder: Path, console: Console) -> None:
    from data_cards.html import split_front_matter

    metadata, body = split_front_matter((folder / "README.md").read_text(encoding="utf-8"))
    if metadata:
        console.print(Panel(Syntax(metadata, "yaml"), title="Hub metadata", expand=False))
    console.print(Markdown(body))


def register(app: typer.Typer) -> None:
    """Add the card and push commands to `app`."""

    @app.command()
    def card(
        name: str = typer.Argument(..., help="mixture name (OUT/NAME) or a built folder"),
        out: Path = typer.Option(MIXTURES, help=OUT_HELP),
        html: bool = typer.Option(False, "--html", help="write NAME/card.html (with the plots)"),
        refresh: bool = typer.Option(
            False, "--refresh", help="re-render README.md and plots/ from the built data first"
        ),
        export: Path | None = typer.Option(
            None, help="copy README.md and plots/ into this folder (e.g. data_cards/examples/NAME)"
        ),
    ) -> None:
        """Print the data card of built mixture NAME (or write it as a static HTML page)."""
        folder = _folder(name, out)
        if refresh or not (folder / "README.md").is_file():
            write_card(folder, *card_inputs(folder))
            typer.echo(f"rendered {folder / 'README.md'} and {folder / 'plots'}/", err=True)
        if export is not None:
            copied = export_card(folder, export)
            typer.echo(f"exported {len(copied)} files to {export}")
            return
        if html:
            from data_cards.html import write_card_html

            typer.echo(f"wrote {write_card_html(folder)}")
            return
        _print_card(folder, Console())

    @app.command()
    def push(
        ctx: typer.Context,
        name: str = typer.Argument(..., help="mixture name (OUT/NAME) or a built folder"),
        repo: str = typer.Option(..., help="Hub dataset repository, org/name"),
        private: bool = typer.Option(False, "--private", help="create the repository private"),
        revision: str | None = typer.Option(None, help="branch to commit to (default main)"),
        dry_run: bool = typer.Option(False, "--dry-run", help="list the files; upload nothing"),
        include_rejected: bool = typer.Option(
            False, "--include-rejected", help="also upload rejected.parquet"
        ),
        out: Path = typer.Option(MIXTURES, help=OUT_HELP),
    ) -> None:
        """Upload built mixture NAME (card, Parquet shards, plots, lock) to a Hub dataset repo.

        Uses HF_ENDPOINT (default https://huggingface.co) and HF_TOKEN (or your saved login);
        the token is passed to the client only, never written anywhere.
        """
        hub.check_repo_id(repo)
        folder = _folder(name, out)
        plan = hub.upload_plan(folder, include_rejected)
        if dry_run:
            table = Table(title=f"dry run: would upload to datasets/{repo}", title_justify="left")
            table.add_column("path in repo")
            table.add_column("bytes", justify="right")
            for item in plan:
                table.add_row(item.path_in_repo, f"{item.size:,}")
            table.add_row(f"{len(plan)} files", f"{sum(i.size for i in plan):,}", style="bold")
            Console(width=120).print(table)
            return
        from flows.publish import publish  # Prefect is slow to import

        quiet_user_errors(ctx)
        result = publish(folder.name, repo, private, revision, include_rejected, folder.parent)
        typer.echo(f"pushed {len(result.files)} files to {repo}@{result.revision}")
        typer.echo(result.commit_url)
