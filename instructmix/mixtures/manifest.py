"""The manifest: a lock of everything that decides a mixture's bytes, and its verification."""

from __future__ import annotations

import contextlib
import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from instructmix.instances import InstructmixError
from instructmix.instances.sources import file_sha256
from instructmix.mixtures.recipe import Recipe

LOCKED_PACKAGES = (
    "instructmix",
    "pyarrow",
    "polars",
    "datasets",
    "numpy",
    "pydantic",
    "datasketch",
    "rapidfuzz",
    "jinja2",
    "transformers",
    "trl",
    "prefect",
)


class ManifestMismatch(InstructmixError):
    """A rebuild differs from the lock; the message names the first difference."""


def recipe_hash(recipe: Recipe) -> str:
    """SHA-256 of the recipe's canonical JSON (defaults filled in, keys sorted)."""
    canonical = json.dumps(recipe.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape the output, plus Python's."""
    versions = {"python": platform.python_version()}
    for name in LOCKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def input_hashes(paths: list[Path], mirror: Path | None) -> dict[str, str]:
    """sha256 of every input file, keyed by its path inside the mirror (or absolute path)."""
    hashes = {}
    for path in sorted({Path(p).resolve() for p in paths}):
        key = str(path)
        if mirror is not None:
            with contextlib.suppress(ValueError):
                key = str(path.relative_to(Path(mirror).resolve()))
        hashes[key] = file_sha256(path)
    return dict(sorted(hashes.items()))


def output_hashes(folder: Path, names: list[str]) -> dict[str, str]:
    """sha256 of each output file named relative to `folder`."""
    return {name: file_sha256(folder / name) for name in sorted(names)}


def first_difference(
    locked: dict[str, Any], rebuilt: dict[str, Any], prefix: str = ""
) -> str | None:
    """The dotted path and values of the first difference between two manifests, or None."""
    for key in sorted(set(locked) | set(rebuilt)):
        where = f"{prefix}{key}"
        if key not in locked:
            return f"{where}: not in the lock, rebuilt has {rebuilt[key]!r}"
        if key not in rebuilt:
            return f"{where}: locked {locked[key]!r}, missing from the rebuild"
        a, b = locked[key], rebuilt[key]
        if isinstance(a, dict) and isinstance(b, dict):
            found = first_difference(a, b, f"{where}.")
            if found:
                return found
        elif a != b:
            return f"{where}: locked {a!r}, rebuilt {b!r}"
    return None
