"""Verify a built mixture against its lock without rebuilding it.

Two records are checked: `manifest.sha256` (the seal: sha256 of every shipped file, the lock
`manifest.json` and the card included) and `manifest.json`'s own `outputs` (the data shards and
`rejected.parquet`). A flipped byte, a deleted split, an emptied
`rejected.parquet`, an extra shard under `data/` or an edited lock fail, naming the file.
`check_rebuild` (`build --check`) goes further: it rebuilds and compares the manifests.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from instances import InstructmixError
from instances.checksums import (
    SEAL,
    SealError,
    first_unsealed_difference,
    read_seal,
    shipped_files,
)
from instances.context import StageContext
from mixtures.build import recipe_inputs
from mixtures.folder import MixtureFolder
from mixtures.manifest import ManifestMismatch, check_message, input_hashes, precheck
from mixtures.recipe import Recipe

T = TypeVar("T")


class VerifyError(InstructmixError):
    """A built mixture differs from its lock; the message names the first file that differs."""


@dataclass(frozen=True)
class Verified:
    """A mixture that matched its lock: how many files were hashed and whether it had a seal."""

    folder: Path
    files: int
    sealed: bool


def load_lock(folder: Path) -> dict:
    """The parsed `manifest.json` of `folder`; missing or corrupt is a `VerifyError` naming it."""
    path = folder / "manifest.json"
    if not path.is_file():
        raise VerifyError(f"{path}: missing; this folder is not a built mixture (or was damaged)")
    try:
        lock = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        detail = getattr(error, "msg", None) or type(error).__name__
        raise VerifyError(f"{path}: corrupt lock ({detail}); rebuild the mixture") from None
    if not isinstance(lock, dict) or not isinstance(lock.get("outputs"), dict):
        raise VerifyError(f"{path}: corrupt lock (no 'outputs' table); rebuild the mixture")
    return lock


def _fail(folder: Path, difference: str) -> VerifyError:
    return VerifyError(f"{folder}: {difference}; the mixture does not match its lock")


def verify_mixture(folder: str | Path) -> Verified:
    """Hash every shipped file of the built mixture in `folder` against its lock.

    Raises `VerifyError` naming the first file that is missing, differs, or is an extra shard
    under `data/` (which `load_dataset` would read).
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise VerifyError(f"{folder}: is a file, not a built mixture folder")
    if not folder.is_dir():
        raise VerifyError(f"{folder}: no built mixture here; build it first")
    sealed = (folder / SEAL).is_file()
    entries: dict[str, str] = {}
    if sealed:
        try:
            entries = read_seal(folder)
        except SealError as error:
            raise VerifyError(str(error)) from None
        if "manifest.json" not in entries:
            raise _fail(folder, f"{SEAL} does not list manifest.json")
        difference = first_unsealed_difference(folder, {"manifest.json": entries["manifest.json"]})
        if difference:
            raise _fail(folder, difference)
    lock = load_lock(folder)
    outputs = {str(k): str(v) for k, v in lock["outputs"].items()}
    for name, digest in outputs.items():
        if sealed and entries.get(name) not in (None, digest):
            raise _fail(folder, f"{SEAL} and manifest.json disagree about {name}")
    difference = first_unsealed_difference(folder, {**outputs, **entries})
    if difference:
        raise _fail(folder, difference)
    listed = set(outputs) | set(entries)
    extra = [n for n in shipped_files(folder) if n.startswith("data/") and n not in listed]
    if extra:
        raise _fail(folder, f"{extra[0]} is not in the lock (an extra data file)")
    return Verified(folder, len(listed), sealed)


def check_rebuild(
    folder: Path, recipe: Recipe, ctx: StageContext, rebuild: Callable[[Path], T]
) -> T:
    """`build --check`: rebuild `recipe` into a scratch folder beside the mixture built in
    `folder` and compare the rebuild's manifest with `folder`'s lock; returns what
    `rebuild(output_dir)` returned (it builds the recipe into `output_dir/<name>`).

    The checks that need no rebuild run first: a manifest exists, the recipe and its input
    files are unchanged, and the shipped bytes match the lock. Any difference raises
    `ManifestMismatch` (or `VerifyError`) naming it.
    """
    locked_path = MixtureFolder(folder).manifest_path
    if not locked_path.is_file():
        raise ManifestMismatch(f"{locked_path}: no manifest to check against; build first")
    locked = MixtureFolder(folder).manifest()
    inputs = input_hashes(recipe_inputs(recipe, ctx), ctx.mirror)
    early = precheck(locked, recipe, inputs)
    if early:
        raise ManifestMismatch(f"{recipe.name!r} does not match {locked_path}: {early}")
    verify_mixture(folder)  # the shipped bytes: fast, names the first that differs
    with tempfile.TemporaryDirectory(prefix=".check-", dir=folder.parent) as scratch:
        result = rebuild(Path(scratch))
        rebuilt = MixtureFolder(Path(scratch) / recipe.name).manifest()
    message = check_message(recipe.name, locked, rebuilt)
    if message:
        raise ManifestMismatch(message)
    return result
