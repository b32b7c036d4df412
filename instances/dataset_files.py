"""Reading the rows a `DataLocation` names: local files (one, a glob or a folder) or a Hub dataset.

Files: `.json` (a list of objects, or one object such as a SuperNI task file), `.jsonl`,
`.parquet`, `.csv` and `.tsv`, each optionally `.gz` or `.zst` compressed. Decompression and
Parquet/CSV go through pyarrow and polars. JSON is decoded by the standard library's `json`, not
pyarrow's reader: pyarrow unifies each column's type over the whole file, so a single row with
`"content": 123` would fail the whole file (or, through polars, turn into the string "123"),
where a row with a wrong type must be rejected on its own, by reason, with its values untouched.
CSV/TSV cells are read as strings, as written.

A built mixture folder (it has `manifest.json` and `data/`) is read through its split files
(`data/*.parquet`), never its `rejected.parquet`. Hub datasets go through
`datasets.load_dataset(hub, config, split=..., revision=...)`.

Any file that cannot be read raises `SourceError` with one line naming the file.
"""

from __future__ import annotations

import glob
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from instances.dataset_spec import DataLocation
from instances.errors import SourceError

COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}
KINDS = (".json", ".jsonl", ".parquet", ".csv", ".tsv")
Row = dict[str, Any]


def file_kind(path: Path) -> tuple[str, str | None]:
    """The data suffix and compression of `path`: ('.jsonl', 'gzip') for `x.jsonl.gz`."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = COMPRESSIONS.get(suffixes[-1]) if suffixes else None
    if compression is not None:
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    return kind, compression


def is_data_file(path: Path) -> bool:
    """True when `path` is a file this reader understands (by its suffixes)."""
    return path.is_file() and file_kind(path)[0] in KINDS


def mixture_split_files(folder: Path, split: str | None = None) -> list[Path] | None:
    """The split files of a built mixture folder (`data/<split>-*.parquet`; every split when
    `split` is None), or None if `folder` is not one. `rejected.parquet` is never among them.

    (The same layout `MixtureFolder` owns in mixtures/; generators may not import mixtures/.)
    """
    if not ((folder / "manifest.json").is_file() and (folder / "data").is_dir()):
        return None
    pattern = "*.parquet" if split is None else f"{split}-*.parquet"
    return sorted((folder / "data").glob(pattern))


def local_files(path: str, split: str | None = None) -> list[Path]:
    """The data files `path` names: a file, a glob or a folder (recursively), sorted.

    A built mixture folder gives the files of its split `split` only (never rejected rows).
    Raises `SourceError` when none is found.
    """
    given = Path(path)
    if given.is_file():
        return [given]
    if given.is_dir():
        splits = mixture_split_files(given, split)
        if splits is not None:
            if not splits:
                found = sorted({p.name.split("-")[0] for p in (given / "data").glob("*.parquet")})
                raise SourceError(f"{path}: built mixture has no split {split!r}; it has {found}")
            files = splits
        else:
            files = sorted(p for p in given.rglob("*") if is_data_file(p))
    else:
        files = sorted(Path(p) for p in glob.glob(path, recursive=True) if is_data_file(Path(p)))
    if not files:
        what = "folder holds no" if given.is_dir() else "no such file, or the glob matches no"
        raise SourceError(f"{path}: {what} data files ({', '.join(KINDS)}, optionally .gz/.zst)")
    return files


def _raw_bytes(path: Path, compression: str | None) -> bytes:
    with pa.input_stream(str(path), compression=compression) as stream:
        return stream.read()


def _json_rows(path: Path, data: bytes) -> list[Row]:
    """The rows of a JSON document: a list of objects, or one object."""
    text = data.decode("utf-8")
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(
            f"{path}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error
    if not isinstance(loaded, list | dict):
        raise SourceError(
            f"{path}: holds {_json_type(loaded)}, expected a JSON list of rows (or one object)"
        )
    values = loaded if isinstance(loaded, list) else [loaded]
    for index, value in enumerate(values):
        if not isinstance(value, dict):
            raise SourceError(
                f"{path}: item {index} is {type(value).__name__}, expected an object (a row)"
            )
    return values


def _json_type(value: Any) -> str:
    """JSON's name for the type of a decoded value (`null`, `number`, `string`, ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else type(value).__name__


def _delimited_rows(path: Path, data: bytes, separator: str) -> list[Row]:
    import polars as pl

    frame = pl.read_csv(io.BytesIO(data), separator=separator, infer_schema=False)
    return frame.to_dicts()


@contextmanager
def errors_name_the_file(path: Path, kind: str = "") -> Iterator[None]:
    """Turn any failure to read `path` into one `SourceError` line that names the file."""
    try:
        yield
    except SourceError:
        raise
    except UnicodeDecodeError as error:
        raise SourceError(
            f"{path}: not UTF-8 text (byte {error.start}: {error.reason}); re-encode it as UTF-8"
        ) from error
    except RecursionError as error:
        raise SourceError(f"{path}: nested too deeply to read (JSON depth limit)") from error
    except Exception as error:  # Arrow's, polars' and the OS's errors alike
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SourceError(f"{path}: cannot read this {kind or 'file'} file: {detail}") from error


def read_file(path: Path) -> list[Row]:
    """The rows of one data file, values as stored; `SourceError` naming the file if unreadable."""
    kind, compression = file_kind(path)
    with errors_name_the_file(path, kind):
        if kind == ".parquet" and compression is None:
            return pq.read_table(path).to_pylist()
        if kind == ".jsonl":
            return [row for batch in jsonl_batches(path, compression, 10_000) for row in batch]
        data = _raw_bytes(path, compression)
        if kind == ".parquet":
            return pq.read_table(pa.BufferReader(data)).to_pylist()
        if kind == ".json":
            return _json_rows(path, data)
        if kind in (".csv", ".tsv"):
            return _delimited_rows(path, data, "\t" if kind == ".tsv" else ",")
    raise SourceError(f"{path}: unknown data file type; expected one of {', '.join(KINDS)}")


def read_local(location: DataLocation) -> list[tuple[Path, list[Row]]]:
    """Each file of `location.path` with its rows, in file order."""
    return [(file, read_file(file)) for file in local_files(location.path or "", location.split)]


def read_hub(location: DataLocation) -> list[Row]:
    """The rows of a Hub dataset (or a local dataset folder) through `datasets.load_dataset`."""
    import datasets

    try:
        dataset = datasets.load_dataset(
            location.hub, location.config, split=location.split, revision=location.revision
        )
    except Exception as error:  # network, auth, missing dataset or split: one clear line
        first = str(error).splitlines()[0] if str(error) else ""
        at = f"@{location.revision}" if location.revision else ""
        raise SourceError(
            f"hub dataset {location.hub}{at} (config {location.config}, split "
            f"{location.split}): could not load it ({type(error).__name__}: {first})"
        ) from error
    return [dict(row) for row in dataset]


def read_location(location: DataLocation) -> list[tuple[str, list[Row]]]:
    """Every row `location` names, grouped by where it was read (file path or Hub id)."""
    if location.hub is not None:
        return [(location.hub, read_hub(location))]
    return [(str(file), rows) for file, rows in read_local(location)]


def location_files(location: DataLocation) -> list[Path]:
    """The local files a location reads (for the lock's sha256); empty for a Hub dataset."""
    if location.hub is not None:
        return []
    try:
        return local_files(location.path or "", location.split)
    except SourceError:
        return [Path(location.path or "")]


def jsonl_batches(path: Path, compression: str | None, rows: int) -> Iterator[list[Row]]:
    """A JSON Lines file's rows (`compression`: None, or Arrow's name, e.g. "gzip"), `rows` at a
    time, read line by line; a bad line raises `SourceError` naming the file and the line."""
    batch: list[Row] = []
    with pa.input_stream(str(path), compression=compression) as raw:
        for number, encoded in enumerate(io.BufferedReader(raw), start=1):
            try:
                line = encoded.decode("utf-8")
            except UnicodeDecodeError as error:
                raise SourceError(
                    f"{path}: line {number} is not UTF-8 text (byte {error.start} of the line); "
                    "re-encode it as UTF-8"
                ) from error
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                raise SourceError(
                    f"{path}: line {number} is not valid JSON ({error.msg} at column {error.colno})"
                ) from error
            if not isinstance(value, dict):
                raise SourceError(
                    f"{path}: line {number} is {type(value).__name__}, expected an object (a row)"
                )
            batch.append(value)
            if len(batch) == rows:
                yield batch
                batch = []
    if batch:
        yield batch


def _file_batches(path: Path, rows: int) -> Iterator[list[Row]]:
    kind, compression = file_kind(path)
    if kind == ".parquet" and compression is None:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            yield batch.to_pylist()
    elif kind == ".jsonl":
        yield from jsonl_batches(path, compression, rows)
    else:  # a JSON document, CSV or compressed Parquet: read whole, handed on in slices
        whole = read_file(path)
        for start in range(0, len(whole), rows):
            yield whole[start : start + rows]


def file_batches(path: Path, rows: int) -> Iterator[list[Row]]:
    """The rows of one data file, at most `rows` at a time: Parquet by record batches and
    JSON Lines line by line, so a large file is never all in memory (other kinds are read
    whole, then sliced). Errors are `read_file`'s: one `SourceError` line naming the file."""
    with errors_name_the_file(path):
        yield from _file_batches(path, rows)


def location_batches(location: DataLocation, rows: int) -> Iterator[tuple[str, list[Row]]]:
    """Like `read_location`, but a local file's rows come `rows` at a time (several pieces per
    file, each with the file's name); a Hub dataset is read whole."""
    if location.hub is not None:
        yield location.hub, read_hub(location)
        return
    for file in local_files(location.path or "", location.split):
        for batch in file_batches(file, rows):
            yield str(file), batch
