"""`instructmix verify NAME`: hash a built mixture's files against its lock, without rebuilding."""

from __future__ import annotations

from pathlib import Path

import typer

from mixtures.verify import verify_mixture


def mixture_folder(name: str, out: Path) -> Path:
    """The built folder of NAME: a path to a built folder, else OUT/NAME."""
    candidate = Path(name)
    if (candidate / "manifest.json").exists() or name.endswith("/"):
        return candidate
    return out / name


def register(app: typer.Typer) -> None:
    """Add the verify command to `app`."""

    @app.command()
    def verify(
        name: str = typer.Argument(..., help="mixture name (OUT/NAME) or a built folder"),
        out: Path = typer.Option(Path("artifacts/mixtures"), help="folder of built mixtures"),
    ) -> None:
        """Check every shipped file of built mixture NAME against its lock (exit 1 naming the
        first file that differs). Fast: hashes files, rebuilds nothing."""
        verified = verify_mixture(mixture_folder(name, out))
        note = "" if verified.sealed else " (no manifest.sha256: data files only; rebuild to seal)"
        typer.echo(f"verified {verified.folder}: {verified.files} files match the lock{note}")
