"""`instructmix verify NAME`: hash a built mixture's files against its lock, without rebuilding."""

from __future__ import annotations

import typer

from flows.options import DEFAULT_OUTPUT_DIR, MixtureName, OutputDir
from mixtures.folder import MixtureFolder
from mixtures.verify import verify_mixture


def verify(name: MixtureName, output_dir: OutputDir = DEFAULT_OUTPUT_DIR) -> None:
    """Check every shipped file of built mixture NAME against its lock (exit 1 naming the
    first file that differs). Fast: hashes files, rebuilds nothing."""
    verified = verify_mixture(MixtureFolder.resolve(name, output_dir).path)
    note = "" if verified.sealed else " (no manifest.sha256: data files only; rebuild to seal)"
    typer.echo(f"verified {verified.folder}: {verified.files} files match the lock{note}")
