"""A Self-Instruct collection: one folder holding a growing pool as a list of batches.

    NAME/
      collection.json       the manifest: name and the committed batches, in order
      batches/0001/ ...     one batch folder per run (see `output.py`)
      novelty.json          the novelty index over seeds + every committed instruction
      pending.state.json    the resume state of a run in progress (or killed)
      .lock                 the lock a growing run holds (fcntl.flock), with its pid

A run takes the lock, reads the committed instructions (in-context candidates) and loads the
persisted novelty index, bootstraps its batch, then commits: the batch folder (renamed into
place), the index, and last the manifest. The manifest is the commit point: readers see only
the batches it lists; an index written by a run that died before its manifest is cut back to
the committed instructions on load. A second run on the same collection waits up to
`wait_seconds` for the lock, then fails with `CollectionBusy`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from generators.self_instruct.novelty import NoveltyIndex
from generators.self_instruct.output import POOL_FILE, write_batch
from generators.self_instruct.state import MachineInstruction, RunState
from instances import InstructmixError, SourceError
from instances.io import write_text_atomic

DEFAULT_ROOT = Path("artifacts/self_instruct")
MANIFEST = "collection.json"
INDEX = "novelty.json"
PENDING = "pending.state.json"
LOCK = ".lock"


class CollectionBusy(InstructmixError):
    """Another run holds the collection's lock."""


class BatchEntry(BaseModel):
    """One committed batch."""

    model_config = ConfigDict(extra="forbid")

    name: str
    instructions: int = Field(ge=0)
    instances: int = Field(ge=0)
    stopped: str | None = None
    model: str = ""
    committed: str = Field(description="UTC time of the commit, ISO 8601")


class Manifest(BaseModel):
    """collection.json."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    name: str
    batches: list[BatchEntry] = Field(default_factory=list)


def collection_path(name: str, root: Path = DEFAULT_ROOT) -> Path:
    """The folder of collection `name` under `root`; a NAME with a slash is a path itself."""
    if "/" in name or name in (".", ".."):
        return Path(name)
    return Path(root) / name


def read_manifest(path: Path) -> Manifest:
    """The manifest of the collection at `path` (an empty one when there is none yet)."""
    file = Path(path) / MANIFEST
    if not file.is_file():
        return Manifest(name=Path(path).name)
    try:
        return Manifest.model_validate_json(file.read_text(encoding="utf-8"))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(file)"
        raise SourceError(f"{file}: field {where}: {first['msg']}") from error


def is_collection(path: Path) -> bool:
    """True when `path` is a collection folder (it has a manifest)."""
    return (Path(path) / MANIFEST).is_file()


def batch_dir(path: Path, batch: str) -> Path:
    """The folder of batch `batch` of the collection at `path`."""
    return Path(path) / "batches" / batch


def pool_files(path: Path, manifest: Manifest | None = None) -> list[Path]:
    """The pool.jsonl of every committed batch, in order."""
    manifest = manifest or read_manifest(path)
    return [batch_dir(path, entry.name) / POOL_FILE for entry in manifest.batches]


def read_pool_file(file: Path) -> list[MachineInstruction]:
    """The machine instructions of one pool.jsonl; errors name the file, line and field."""
    if not file.is_file():
        raise SourceError(f"{file}: no Self-Instruct pool here (run `instructmix self-instruct`)")
    records = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        try:
            records.append(MachineInstruction.model_validate_json(line))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(line)"
            raise SourceError(f"{file}: line {number}: field {where}: {first['msg']}") from error
    return records


def read_records(path: Path, manifest: Manifest | None = None) -> list[MachineInstruction]:
    """Every committed machine instruction of the collection, batch by batch."""
    return [record for file in pool_files(path, manifest) for record in read_pool_file(file)]


@contextlib.contextmanager
def locked(path: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the collection's lock (creating the folder) for a `with` block.

    Waits up to `wait_seconds` for a run that holds it, then raises `CollectionBusy` naming
    that run's pid. The lock dies with its process, so a killed run never blocks the next.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    handle = open(path / LOCK, "a+", encoding="utf-8")  # noqa: SIM115 - held for the block
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise CollectionBusy(
                        f"{path}: another run is growing this collection ({holder}); "
                        "try again when it ends, or wait for it (--wait SECONDS)"
                    ) from None
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, since {_now()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_index(
    path: Path, seeds: Sequence[str], records: Sequence[MachineInstruction]
) -> tuple[NoveltyIndex, bool]:
    """The persisted novelty index of the collection, checked against seeds + `records`.

    Returns (index, rebuilt): the saved index is loaded as it is (cut back when it holds
    instructions of an uncommitted batch); it is rebuilt only when missing or not matching.
    """
    expected = [*seeds, *(r.instruction for r in records)]
    file = Path(path) / INDEX
    if file.is_file():
        try:
            index = NoveltyIndex.load(json.loads(file.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError):
            index = None
        if index is not None and index.texts[: len(expected)] == expected:
            index.truncate(len(expected))
            return index, False
    return NoveltyIndex(expected), True


def save_index(path: Path, index: NoveltyIndex) -> None:
    """Write the novelty index atomically."""
    write_text_atomic(json.dumps(index.dump(), ensure_ascii=False), Path(path) / INDEX)


def next_batch(manifest: Manifest) -> str:
    """The name of the next batch: its number, zero-padded (sorts by name)."""
    return f"{len(manifest.batches) + 1:04d}"


def commit_batch(
    path: Path,
    state: RunState,
    index: NoveltyIndex,
    *,
    model: str,
    sampling: dict,
    settings: dict,
) -> dict[str, Any]:
    """Write `state` as the collection's next batch, the index, then the manifest (the commit
    point); drop the resume state. Call with the lock held. Returns the batch's stats."""
    path = Path(path)
    manifest = read_manifest(path)
    if state.batch != next_batch(manifest):
        raise InstructmixError(
            f"{path}: batch {state.batch} is not the next one ({next_batch(manifest)}): "
            "another run committed meanwhile; delete pending.state.json and run again"
        )
    stats = write_batch(
        state, batch_dir(path, state.batch), model=model, sampling=sampling, settings=settings
    )
    save_index(path, index)
    manifest.batches.append(
        BatchEntry(
            name=state.batch,
            instructions=stats["paper_statistics"]["instructions"],
            instances=stats["paper_statistics"]["instances"],
            stopped=state.stopped,
            model=model,
            committed=_now(),
        )
    )
    write_text_atomic(manifest.model_dump_json(indent=2) + "\n", path / MANIFEST)
    (path / PENDING).unlink(missing_ok=True)
    return {**stats, "collection": str(path), "batches": len(manifest.batches)}


def collection_statistics(
    name: str | None, root: Path = DEFAULT_ROOT, released: Path | None = None
) -> tuple[str, dict[str, Any]]:
    """The Self-Instruct paper's statistics of collection `name` under `root` (every batch), or
    of a released JSON/JSONL file of instruction/input/output rows; with what was read."""
    from generators.self_instruct.statistics import paper_statistics, released_statistics
    from instances.sources import read_file

    if (name is None) == (released is None):
        raise InstructmixError("give a collection NAME or --released FILE (one of them)")
    if released is not None:
        fmt = "jsonl" if released.suffix == ".jsonl" else "json"
        return str(released), released_statistics(read_file(released, fmt))
    folder = collection_path(name, root)
    if not is_collection(folder):
        raise InstructmixError(f"{folder}: no Self-Instruct collection here")
    manifest = read_manifest(folder)
    table = paper_statistics(read_records(folder, manifest))
    return f"{folder} ({len(manifest.batches)} batches)", table


def statistics_text(
    name: str | None,
    root: Path = DEFAULT_ROOT,
    released: Path | None = None,
    as_json: bool = False,
) -> str:
    """What `self-instruct stats` prints for `collection_statistics(name, root, released)`:
    JSON, or what was read and the table beside the paper's figures."""
    from generators.self_instruct.statistics import PAPER, statistics_table

    where, table = collection_statistics(name, root, released)
    if as_json:
        return json.dumps(table, indent=2)
    return f"{where}\n\n{statistics_table(table, PAPER)}"
