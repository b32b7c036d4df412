"""Instances already on disk (Parquet file or folder): a Self-Instruct run, an earlier mixture.

Reject reasons: none; a file that is not in the instance schema fails with its path.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from instances import Report, SourceError, StageResult, ValidationError, empty_table
from instances import read_instances as read_parquet_instances
from instances.context import StageContext
from instances.dataset_files import mixture_split_files
from instances.schema import REJECTED_SCHEMA

STAGE = "generate"


class Config(BaseModel):
    """Read formatted instances from a Parquet file or folder."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["instances_file"] = "instances_file"
    path: Path = Field(description="Parquet file or folder of formatted instances")
    license: str = Field(default="unknown", description="license of these rows, for the card")


def read_instances(path: Path) -> pa.Table:
    """Instances of a Parquet file, a folder of them, or a built mixture's splits (never its
    rejected rows); any other file is one error line pointing at `kind: dataset`."""
    path = Path(path)
    if path.is_file() and path.suffix != ".parquet":
        raise SourceError(
            f"{path}: instances_file reads Parquet in the instance schema; for {path.suffix} "
            "files use kind: dataset with a format (docs/bring_your_own_data.md)"
        )
    splits = mixture_split_files(path) if path.is_dir() else None
    if splits:
        return pa.concat_tables([read_parquet_instances(file) for file in splits])
    try:
        return read_parquet_instances(path)
    except (OSError, pa.ArrowException) as error:
        raise SourceError(f"{path}: cannot read it as Parquet instances: {error}") from error


def generate(config: Config, ctx: StageContext) -> StageResult:
    """The instances stored at `config.path`, validated against the schema."""
    started = time.perf_counter()
    try:
        table = read_instances(config.path)
    except ValidationError as error:
        raise ValidationError(f"{config.path}: {error}") from error
    report = Report(
        stage=STAGE,
        rows_in=table.num_rows,
        rows_out=table.num_rows,
        seconds=time.perf_counter() - started,
    )
    return StageResult(table, empty_table(REJECTED_SCHEMA), report)


def inputs(config: Config, ctx: StageContext) -> list[Path]:
    """The Parquet files read."""
    path = Path(config.path)
    splits = mixture_split_files(path) if path.is_dir() else None
    if splits:
        return splits
    return sorted(path.rglob("*.parquet")) if path.is_dir() else [path]


def licenses(config: Config) -> list[str]:
    """The license the recipe declares for these rows."""
    return [config.license]
