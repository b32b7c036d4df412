"""Numeric scores in a row's `meta`: the one place that reads and writes them.

A score stage writes `meta[name]` (a float) and, for rows it could not score, `meta[name_error]`
(a reason code) instead. Readers get NaN for a row without a usable score: a missing key, a
non-number or a boolean. (These helpers belong in the shared `meta` module; keep them together.)
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import pyarrow as pa


def error_key(name: str) -> str:
    """The meta key that holds why a row has no `name` score.

    >>> error_key("quality")
    'quality_error'
    """
    return f"{name}_error"


def score_of(meta: str | dict, name: str) -> float:
    """The numeric `meta[name]` of one row, NaN when absent or not a number.

    >>> score_of('{"quality": 4}', "quality"), score_of("{}", "quality")
    (4.0, nan)
    """
    data = json.loads(meta) if isinstance(meta, str) else meta
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def read_scores(table: pa.Table, name: str) -> np.ndarray:
    """Per row of `table`: its `name` score as float64, NaN where it has none."""
    return np.array([score_of(m, name) for m in table.column("meta").to_pylist()], dtype=float)


def read_errors(table: pa.Table, name: str) -> list[str | None]:
    """Per row: why it has no `name` score (its `meta[name_error]`), or None."""
    key = error_key(name)
    return [json.loads(m).get(key) for m in table.column("meta").to_pylist()]


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
    for meta, score, error in zip(table.column("meta").to_pylist(), scores, errors, strict=True):
        data = json.loads(meta)
        data.pop(name, None)
        data.pop(key, None)
        if score is not None and math.isfinite(score):
            data[name] = round(float(score), 6)
        else:
            data[key] = error or "unscored"
        metas.append(json.dumps(data, ensure_ascii=False, sort_keys=True))
    index = table.schema.get_field_index("meta")
    return table.set_column(index, "meta", pa.array(metas, pa.string()))
