"""Parquet IO that never leaves a half-written artifact: write to a temporary path, then rename."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from instances.errors import ValidationError
from instances.schema import validate
from instances.tempfiles import (
    LIVE,
    follow_umask,
    remove_stale_temporaries,
    remove_tree,
    temp_dir_beside,
    temp_file_beside,
)


def write_parquet_atomic(
    table: pa.Table, path: str | Path, *, row_group_size: int = 10_000, compression: str = "zstd"
) -> Path:
    """Write `table` to `path` as Parquet via a temporary file in the same folder, then rename.

    The same table gives byte-identical files (zstd by default, no timestamps in the metadata).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = temp_file_beside(path)
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
        follow_umask(tmp_name)
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
    fd, tmp_name = temp_file_beside(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        follow_umask(tmp_name)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return path


def read_parquet_file(path: str | Path) -> pa.Table:
    """Read one Parquet file; a truncated or non-Parquet file is a `ValidationError` naming it."""
    try:
        return pq.read_table(path)
    except pa.ArrowException as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValidationError(f"{path}: not a readable Parquet file ({first})") from None


def read_instances(path: str | Path, *, check: bool = True) -> pa.Table:
    """Read formatted instances from a Parquet file or a folder of Parquet files, validated."""
    path = Path(path)
    if not path.exists():
        raise ValidationError(f"{path}: no such file or folder of instances")
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    if not files:
        raise ValidationError(f"{path}: folder holds no .parquet files")
    table = pa.concat_tables([read_parquet_file(file) for file in files])
    return validate(table, check_ids=check) if check else table


@contextlib.contextmanager
def atomic_directory(final: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside `final`: it replaces `final` on success, vanishes on error.

    Readers see either the old folder or the complete new one, never a half-written one.
    Temporary folders of earlier runs whose process is gone are removed first; the new
    folder and its files follow the umask (0755 / 0644 by default), not mkdtemp's 0700.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists() and not final.is_dir():
        raise NotADirectoryError(20, "output path exists and is not a folder", str(final))
    remove_stale_temporaries(final)
    tmp = temp_dir_beside(final)
    try:
        yield tmp
        follow_umask(tmp)
        old = None
        if final.exists():
            old = final.with_name(f".{final.name}.old-{os.getpid()}")
            remove_tree(old)
            os.replace(final, old)
        try:
            os.replace(tmp, final)
        except BaseException:
            if old is not None:  # put the earlier good folder back
                os.replace(old, final)
            raise
    except BaseException:
        remove_tree(tmp)
        raise
    finally:
        LIVE.discard(tmp)
    if old is not None:
        remove_tree(old)
