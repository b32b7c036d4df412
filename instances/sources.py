"""Public sources: each declares its Hub id and its path in a local mirror, and how to read it.

Mirror given → read the file there; otherwise `datasets.load_dataset(hub_id)`. A declared
`columns` mapping renames the file's columns to the Hub schema, so both paths give the same rows.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from instances.dataset_files import COMPRESSIONS, jsonl_batches
from instances.errors import SourceError

FileFormat = Literal["json", "jsonl", "tsv", "csv", "parquet", "text"]


class PublicSource(BaseModel):
    """One public dataset file: where it lives on the Hub and in the mirror, and its license."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="short stable name, e.g. 'stanford_alpaca'")
    hub_id: str = Field(description="Hugging Face dataset id, e.g. 'tatsu-lab/alpaca'")
    hub_config: str | None = None
    hub_split: str = "train"
    mirror_path: str = Field(description="path of the file inside the mirror folder")
    format: FileFormat
    license: str
    columns: dict[str, str] = Field(
        default_factory=dict, description="file column -> Hub column, where the file differs"
    )
    fieldnames: tuple[str, ...] | None = Field(
        default=None, description="header for TSV/CSV files that have none"
    )

    def mirror_file(self, mirror: Path) -> Path:
        """The file of this source inside `mirror`."""
        return Path(mirror) / self.mirror_path


def _read_json(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SourceError(
            f"{path}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error
    if isinstance(data, dict):
        data = data.get("data", data.get("rows", [data]))
    if not isinstance(data, list):
        raise SourceError(f"{path}: expected a JSON list of objects, got {type(data).__name__}")
    for index, row in enumerate(data):
        if not isinstance(row, dict):
            raise SourceError(f"{path}: item {index} is {type(row).__name__}, expected an object")
    return data


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    batches = jsonl_batches(path, COMPRESSIONS.get(path.suffix), 10_000)
    return [row for batch in batches for row in batch]


def _read_delimited(path: Path, delimiter: str, fieldnames: tuple[str, ...] | None) -> list[dict]:
    csv.field_size_limit(1 << 27)
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(
            handle,
            delimiter=delimiter,
            fieldnames=list(fieldnames) if fieldnames else None,
            quoting=csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL,
        )
        rows = []
        for number, row in enumerate(reader, start=2 if fieldnames is None else 1):
            if None in row or any(value is None for value in row.values()):
                expected = reader.fieldnames or []
                found = sum(v is not None for k, v in row.items() if k is not None)
                found += len(row.get(None) or [])
                raise SourceError(
                    f"{path}: line {number} has {found} fields, "
                    f"expected {len(expected)} ({', '.join(expected)})"
                )
            rows.append(row)
    return rows


def read_file(
    path: Path, file_format: FileFormat, fieldnames: tuple[str, ...] | None = None
) -> list[dict]:
    """Read one data file as a list of row dicts; errors name the file and the line.

    OS and decoding failures (not UTF-8, nested too deeply, unreadable, not Parquet) become a
    `SourceError` naming the file.
    """
    if path.is_dir():
        raise SourceError(f"{path}: is a folder, expected a {file_format} file")
    if not path.is_file():
        raise SourceError(f"{path}: file not found in the mirror")
    try:
        return _read_by_format(path, file_format, fieldnames)
    except UnicodeDecodeError as error:
        raise SourceError(
            f"{path}: not UTF-8 text (byte {error.start}: {error.reason}); re-encode it as UTF-8"
        ) from None
    except RecursionError:
        raise SourceError(f"{path}: nested too deeply to read (JSON depth limit)") from None
    except OSError as error:
        raise SourceError(f"{path}: cannot read ({error.strerror or error})") from None
    except Exception as error:
        import pyarrow as pa

        if isinstance(error, pa.ArrowException):
            first = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise SourceError(f"{path}: not a readable Parquet file ({first})") from None
        raise


def _read_by_format(
    path: Path, file_format: FileFormat, fieldnames: tuple[str, ...] | None
) -> list[dict]:
    if file_format == "json":
        return _read_json(path)
    if file_format == "jsonl":
        return _read_jsonl(path)
    if file_format in ("tsv", "csv"):
        return _read_delimited(path, "\t" if file_format == "tsv" else ",", fieldnames)
    if file_format == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).to_pylist()
    return [{"text": line.rstrip("\n")} for line in path.read_text(encoding="utf-8").splitlines()]


def _rename(rows: list[dict], columns: dict[str, str]) -> list[dict]:
    if not columns:
        return rows
    return [{columns.get(key, key): value for key, value in row.items()} for row in rows]


def load_rows(source: PublicSource, mirror: Path | None) -> list[dict[str, Any]]:
    """Return the rows of `source`: from the mirror when one is given, else from the Hub.

    Raises `SourceError` naming the file (and line) for a missing or malformed mirror file.
    """
    if mirror is not None:
        path = source.mirror_file(mirror)
        return _rename(read_file(path, source.format, source.fieldnames), source.columns)
    return load_hub_rows(source)


def load_hub_rows(source: PublicSource) -> list[dict[str, Any]]:
    """Download `source` with `datasets.load_dataset` and return its rows."""
    import datasets

    try:
        dataset = datasets.load_dataset(source.hub_id, source.hub_config, split=source.hub_split)
    except Exception as error:  # network, auth, missing dataset: one clear line
        raise SourceError(
            f"source {source.name!r}: could not load {source.hub_id!r} from the Hugging Face Hub "
            f"({type(error).__name__}: {error}); set INSTRUCTMIX_MIRROR to read a local mirror"
        ) from error
    return [dict(row) for row in dataset]
