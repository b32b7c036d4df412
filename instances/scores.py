"""Numeric scores in a row's `meta`, through the one `meta` module.

A score stage writes `meta[name]` (a float) and, for rows it could not score, `meta[name_error]`
(a reason code) instead. Readers get NaN for a row without a usable score: a missing key, a
non-number or a boolean (`instances.meta.numbers`, the reader dedup and sampling use too).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from instances import meta


def error_key(name: str) -> str:
    """The meta key that holds why a row has no `name` score.

    >>> error_key("quality")
    'quality_error'
    """
    return f"{name}_error"


def read_scores(table: pa.Table, name: str) -> np.ndarray:
    """Per row of `table`: its `name` score as float64, NaN where it has none."""
    return meta.numbers(table.column("meta"), name, missing=math.nan)


def read_errors(table: pa.Table, name: str) -> list[str | None]:
    """Per row: why it has no `name` score (its `meta[name_error]`), or None."""
    return meta.strings(table.column("meta"), error_key(name))


def write_scores(
    table: pa.Table,
    name: str,
    scores: Sequence[float | None],
    errors: Sequence[str | None] | None = None,
) -> pa.Table:
    """`table` with `meta[name] = score` per row; rows with None get `meta[name_error]` instead.

    A rescore replaces both keys, so a row never carries a stale score next to a new error.
    Ids do not change (they hash the messages, not `meta`).
    """
    if len(scores) != table.num_rows:
        raise ValueError(f"{len(scores)} scores for {table.num_rows} rows")
    errors = errors if errors is not None else [None] * table.num_rows
    key = error_key(name)
    metas = []
    for text, score, error in zip(table.column("meta").to_pylist(), scores, errors, strict=True):
        data = meta.loads(text)
        data.pop(name, None)
        data.pop(key, None)
        if score is not None and math.isfinite(score):
            data[name] = round(float(score), 6)
        else:
            data[key] = error or "unscored"
        metas.append(meta.dumps(data))
    return meta.replace_column(table, metas)
