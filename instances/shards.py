"""Parquet shard manifests: the contract stages exchange instead of tables.

A stage's output is a folder of Parquet shard files and a `ShardManifest` naming each shard
(its path relative to the manifest's folder, sha256 and row count). Shards are written
atomically (temporary file, then rename) and the manifest last, so a folder whose manifest
exists is complete; a shard file whose sha256 matches its record can be reused by a rerun.

    >>> import tempfile, pyarrow as pa
    >>> folder = Path(tempfile.mkdtemp())
    >>> tables = [pa.table({"x": [1, 2, 3]}), pa.table({"x": [4]})]
    >>> manifest = write_shards(tables, folder, rows_per_shard=2)
    >>> [s.rows for s in manifest.shards], [t.num_rows for t in iter_tables(manifest, folder)]
    ([2, 2], [2, 2])
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field

from instances.checksums import file_sha256
from instances.errors import ValidationError
from instances.io import write_parquet_atomic, write_text_atomic

MANIFEST_NAME = "manifest.json"


class ShardFile(BaseModel):
    """One Parquet shard: its path (relative to the manifest's folder), sha256 and rows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    rows: int = Field(ge=0)

    def matches(self, folder: Path) -> bool:
        """True when the file exists under `folder` and its sha256 is the recorded one."""
        file = folder / self.path
        return file.is_file() and file_sha256(file) == self.sha256


class ShardManifest(BaseModel):
    """The shards of one table, in row order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shards: list[ShardFile] = Field(default_factory=list)

    @property
    def rows(self) -> int:
        """Rows over all shards."""
        return sum(shard.rows for shard in self.shards)

    def offsets(self) -> list[int]:
        """The global row position of each shard's first row."""
        out, total = [], 0
        for shard in self.shards:
            out.append(total)
            total += shard.rows
        return out

    def save(self, path: Path) -> Path:
        """Write the manifest as JSON, atomically."""
        return write_text_atomic(self.model_dump_json(indent=1) + "\n", path)

    @classmethod
    def load(cls, path: Path) -> ShardManifest:
        """Read a manifest written by `save` (a clear error naming the file when it is bad)."""
        try:
            return cls.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            raise ValidationError(f"{path}: not a shard manifest ({error})") from error


# Shards are working files, read back once or twice: fast compression beats small files.
SHARD_COMPRESSION = "lz4"


def write_shard(table: pa.Table, folder: Path, name: str) -> ShardFile:
    """Write one shard `folder/name` atomically (lz4) and return its record."""
    path = write_parquet_atomic(table, Path(folder) / name, compression=SHARD_COMPRESSION)
    return ShardFile(path=name, sha256=file_sha256(path), rows=table.num_rows)


def rebatch(tables: Iterable[pa.Table], rows: int) -> Iterator[pa.Table]:
    """The rows of `tables`, in order, cut into tables of exactly `rows` (the last may be short).

    Only one output table's worth of rows (plus one input table) is held at a time.
    """
    if rows < 1:
        raise ValueError(f"rows per shard must be at least 1, got {rows}")
    pending: list[pa.Table] = []
    held = 0
    for table in tables:
        while table.num_rows:
            take = min(rows - held, table.num_rows)
            pending.append(table.slice(0, take))
            held += take
            table = table.slice(take)
            if held == rows:
                yield pa.concat_tables(pending).combine_chunks()
                pending, held = [], 0
    if held:
        yield pa.concat_tables(pending).combine_chunks()


def write_shards(
    tables: Iterable[pa.Table],
    folder: Path,
    *,
    rows_per_shard: int,
    prefix: str = "part",
    schema: pa.Schema | None = None,
) -> ShardManifest:
    """Write a stream of tables into shards of `rows_per_shard` rows under `folder`.

    The manifest (`folder/manifest.json`) is written last. An empty stream gives one empty
    shard in `schema` (when given) so that readers still learn the columns.
    """
    folder = Path(folder)
    shards = []
    for number, table in enumerate(rebatch(tables, rows_per_shard)):
        shards.append(write_shard(table, folder, f"{prefix}-{number:05d}.parquet"))
    if not shards and schema is not None:
        shards.append(write_shard(schema.empty_table(), folder, f"{prefix}-00000.parquet"))
    manifest = ShardManifest(shards=shards)
    manifest.save(folder / MANIFEST_NAME)
    return manifest


def finished(folder: Path) -> ShardManifest | None:
    """The manifest of `folder` when it is complete (every shard present with its sha256)."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return None
    manifest = ShardManifest.load(path)
    return manifest if all(s.matches(Path(folder)) for s in manifest.shards) else None


def iter_tables(
    manifest: ShardManifest, folder: Path, columns: list[str] | None = None
) -> Iterator[pa.Table]:
    """Each shard's table (only `columns` when given), one shard at a time, in order."""
    for shard in manifest.shards:
        yield pq.read_table(Path(folder) / shard.path, columns=columns)


def read_all(manifest: ShardManifest, folder: Path, columns: list[str] | None = None) -> pa.Table:
    """Every shard concatenated into one table (for narrow columns or small tables)."""
    tables = list(iter_tables(manifest, folder, columns))
    if not tables:
        raise ValidationError(f"{folder}: manifest lists no shards")
    return pa.concat_tables(tables).combine_chunks()
