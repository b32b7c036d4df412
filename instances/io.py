"""Parquet IO that never leaves a half-written artifact: write to a temporary path, then rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from instances.errors import ValidationError
from instances.schema import validate


def write_parquet_atomic(
    table: pa.Table, path: str | Path, *, row_group_size: int = 10_000, compression: str = "zstd"
) -> Path:
    """Write `table` to `path` as Parquet via a temporary file in the same folder, then rename.

    The same table gives byte-identical files (zstd by default, no timestamps in the metadata).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(
            table,
            tmp_name,
            compression=compression,
            row_group_size=row_group_size,
            store_schema=True,
            write_statistics=True,
        )
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return path


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write `text` (UTF-8) to `path` via a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return path


def read_instances(path: str | Path, *, check: bool = True) -> pa.Table:
    """Read formatted instances from a Parquet file or a folder of Parquet files, validated."""
    path = Path(path)
    if not path.exists():
        raise ValidationError(f"{path}: no such file or folder of instances")
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    if not files:
        raise ValidationError(f"{path}: folder holds no .parquet files")
    table = pa.concat_tables([pq.read_table(file) for file in files])
    return validate(table, check_ids=check) if check else table


@contextlib.contextmanager
def atomic_directory(final: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside `final`: it replaces `final` on success, vanishes on error.

    Readers see either the old folder or the complete new one, never a half-written one.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
