"""The formatted instance: schema, ids, validation, Parquet IO and the shared stage contract.

`instances.meta` is the one reader and writer of the `meta` JSON column,
`instances.errors.describe_validation_error` the one formatter of pydantic errors, and
`instances.config_files` the one reader of YAML inputs into validated models.

This package imports nothing else of the project; every other stage imports it.
"""

from instances.errors import InstructmixError, SourceError, ValidationError
from instances.ids import instance_id, normalise_messages
from instances.io import atomic_directory, read_instances, write_parquet_atomic
from instances.report import Report, StageResult
from instances.schema import (
    COLUMNS,
    INSTANCE_SCHEMA,
    REJECTED_SCHEMA,
    empty_table,
    make_instance,
    make_table,
    validate,
)

__all__ = [
    "COLUMNS",
    "INSTANCE_SCHEMA",
    "REJECTED_SCHEMA",
    "InstructmixError",
    "Report",
    "SourceError",
    "StageResult",
    "ValidationError",
    "atomic_directory",
    "empty_table",
    "instance_id",
    "make_instance",
    "make_table",
    "normalise_messages",
    "read_instances",
    "validate",
    "write_parquet_atomic",
]
