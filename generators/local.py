"""Instances already on disk (Parquet file or folder): a Self-Instruct run, an earlier mixture.

Reject reasons: none; a file that is not in the instance schema fails with its path.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from instances import Report, StageResult, ValidationError, empty_table, read_instances
from instances.context import StageContext
from instances.schema import REJECTED_SCHEMA

STAGE = "generate"


class Config(BaseModel):
    """Read formatted instances from a Parquet file or folder."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["instances_file"] = "instances_file"
    path: Path = Field(description="Parquet file or folder of formatted instances")
    license: str = Field(default="unknown", description="license of these rows, for the card")


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
    return sorted(path.rglob("*.parquet")) if path.is_dir() else [path]


def licenses(config: Config) -> list[str]:
    """The license the recipe declares for these rows."""
    return [config.license]
