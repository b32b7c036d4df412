"""The manifest: a lock of everything that decides a mixture's bytes, and its verification."""

from __future__ import annotations

import contextlib
import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from instances import InstructmixError
from instances.checksums import file_sha256
from mixtures.recipe import Recipe

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
    """SHA-256 of the recipe's canonical JSON (defaults filled in, keys sorted).

    The `train:` section is left out: it decides how a model is trained on the mixture, not
    the mixture's bytes, so changing it must not break `build --check` against the lock.
    """
    data = recipe.model_dump(mode="json", exclude={"train"})
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
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


CODE_SUFFIXES = (".py", ".yaml", ".yml", ".j2", ".json")
PACKAGES = ("instances", "generators", "filters", "mixtures", "train", "data_cards", "flows")


def code_hash(root: Path | None = None) -> str:
    """SHA-256 over the source files of instructmix's packages under `root` (default: the
    folder holding them, a checkout or site-packages), paths and bytes, sorted.

    Only the seven packages count: not a checkout's .venv, artifacts or caches, nor the other
    packages beside them in site-packages. Recorded in the lock as context, not compared on
    its own: a code change that leaves the output bytes alone passes `--check`; one that
    changes them is named beside the difference.
    """
    root = root or Path(__file__).resolve().parents[1]
    files = [p for package in PACKAGES for p in (root / package).rglob("*")]
    digest = hashlib.sha256()
    for path in sorted(p for p in files if p.suffix in CODE_SUFFIXES and p.is_file()):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


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


# Top-level keys in the order a difference is reported: causes (recipe, inputs, packages)
# before their effects (counts, splits, output bytes). `code_hash` is context only.
CHECK_ORDER = (
    "name",
    "recipe_hash",
    "recipe",
    "seed",
    "inputs",
    "packages",
    "tokenizer",
    "counts",
    "splits",
    "sources",  # rows and tokens per recipe source
)
CONTEXT_KEYS = ("code_hash",)


def _ordered_keys(locked: dict[str, Any], rebuilt: dict[str, Any], top: bool) -> list[str]:
    keys = sorted(set(locked) | set(rebuilt))
    if not top:
        return keys
    rank = {key: index for index, key in enumerate(CHECK_ORDER)}
    return sorted(keys, key=lambda key: (rank.get(key, len(rank)), key))


def first_difference(
    locked: dict[str, Any], rebuilt: dict[str, Any], prefix: str = ""
) -> str | None:
    """The dotted path and values of the first difference between two manifests, or None.

    Causes come first: a changed recipe, input file or package version is named before the
    counts and output hashes it changed.
    """
    for key in _ordered_keys(locked, rebuilt, top=not prefix):
        if not prefix and key in CONTEXT_KEYS:
            continue
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


def check_message(name: str, locked: dict[str, Any], rebuilt: dict[str, Any]) -> str | None:
    """The `--check` failure line for two manifests (None when they match), noting a change
    of the instructmix source since the build as the likely cause."""
    difference = first_difference(locked, rebuilt)
    if difference is None:
        return None
    message = f"rebuild of {name!r} differs from the lock: {difference}"
    if locked.get("code_hash") and locked.get("code_hash") != rebuilt.get("code_hash"):
        message += " (the instructmix source code changed since the build)"
    return message


def precheck(locked: dict[str, Any], recipe: Recipe, inputs: dict[str, str]) -> str | None:
    """Before rebuilding: the first difference in recipe hash or input files, or None."""
    current = {"recipe_hash": recipe_hash(recipe), "inputs": inputs}
    expected = {key: locked.get(key) for key in current}
    difference = first_difference(expected, current)
    if difference and difference.startswith("inputs"):
        return f"input file changed: {difference}"
    if difference:
        return f"recipe changed since the build: {difference}"
    return None
