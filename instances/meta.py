"""The `meta` column: one JSON object per row, read and written only through this module.

Reads of one key over a whole column are vectorised (polars' JSONPath match runs in Rust and
never builds Python dicts); writes re-encode each row's object with sorted keys, so the same
provenance always gives the same bytes.

>>> import pyarrow as pa

if TYPE_CHECKING:
    import polars as pl
>>> column = pa.array(['{"quality": 4, "recipe_source": "lima"}', '{"quality": true}', "{}"])
>>> strings(column, "recipe_source")
['lima', None, None]
>>> numbers(column, "quality").tolist()
[4.0, -inf, -inf]
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    import polars as pl

COLUMN = "meta"
MISSING_SCORE = float("-inf")
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Column = pa.Array | pa.ChunkedArray | Sequence[str]


def dumps(meta: Mapping[str, Any] | None) -> str:
    """The canonical text of one row's meta: sorted keys, UTF-8 kept, odd values as strings.

    >>> dumps({"b": 1, "a": "é"})
    '{"a": "é", "b": 1}'
    """
    return json.dumps(dict(meta or {}), ensure_ascii=False, sort_keys=True, default=str)


def loads(text: str | None) -> dict[str, Any]:
    """One row's meta as a dict (a missing value, None, is `{}`).

    Raises ValueError when the text is not a JSON object.

    >>> loads('{"a": 1}'), loads(None)
    ({'a': 1}, {})
    """
    value = json.loads(text) if text is not None else {}
    if not isinstance(value, dict):
        raise ValueError(f"meta must be a JSON object, got {type(value).__name__}")
    return value


def _texts(column: Column) -> pl.Series:
    import polars as pl  # imported when used: readers of a mixture (training) need no polars

    if isinstance(column, pa.ChunkedArray | pa.Array):
        series = pl.from_arrow(column)  # no Python strings: Arrow buffers straight to polars
        return series.cast(pl.String).rename(COLUMN)
    return pl.Series(COLUMN, list(column), dtype=pl.String)


def strings(column: Column, key: str) -> list[str | None]:
    """`meta[key]` of every row as text (a JSON string unquoted, anything else as JSON), or None.

    Vectorised for plain keys (letters, digits, `_`); other keys fall back to parsing each row.
    """
    texts = _texts(column)
    if not _PLAIN_KEY.match(key):
        return [_as_text(loads(text).get(key)) for text in texts.to_list()]
    return texts.str.json_path_match(f"$.{key}").to_list()


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def numbers(column: Column, key: str | None, missing: float = MISSING_SCORE) -> np.ndarray:
    """`meta[key]` of every row as a float; `missing` where the key is absent or not a number.

    This is the one reader of numeric scores (quality, reward): a row without a score ranks
    below every scored row. Booleans are not numbers. With `key=None` every row is `missing`.
    """
    size = len(column)
    if key is None or not size:
        return np.full(size, missing, dtype=float)
    if not _PLAIN_KEY.match(key):
        values = [loads(text).get(key) for text in _texts(column).to_list()]
        return np.array(
            [
                float(v) if isinstance(v, int | float) and not isinstance(v, bool) else missing
                for v in values
            ],
            dtype=float,
        )
    import polars as pl

    raw = _texts(column).str.json_path_match(f"$.{key}")
    parsed = pl.select(
        pl.when(raw.is_in(["true", "false"]))
        .then(None)
        .otherwise(raw.cast(pl.Float64, strict=False))
    ).to_series()
    return parsed.fill_nan(None).fill_null(missing).to_numpy().astype(float)


def integers(column: Column, key: str, missing: int = 0) -> list[int]:
    """`meta[key]` of every row as an int; `missing` where absent or not an integer."""
    import polars as pl

    raw = pl.Series(strings(column, key), dtype=pl.String)
    return raw.cast(pl.Int64, strict=False).fill_null(missing).to_list()


def with_values(table: pa.Table, key: str, values: Sequence[Any] | Any) -> pa.Table:
    """`table` with `meta[key]` set on every row: to `values[i]`, or to one value for all rows.

    A value of None removes the key from that row. Other columns (ids too) are untouched.
    """
    metas = table.column(COLUMN).to_pylist()
    if isinstance(values, str) or not isinstance(values, Sequence):
        values = [values] * len(metas)
    if len(values) != len(metas):
        raise ValueError(f"{len(values)} values for {len(metas)} rows")
    updated = []
    for text, value in zip(metas, values, strict=True):
        data = loads(text)
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
        updated.append(dumps(data))
    return replace_column(table, updated)


def replace_column(table: pa.Table, metas: Sequence[str]) -> pa.Table:
    """`table` with its meta column replaced by `metas` (already encoded with `dumps`)."""
    index = table.schema.get_field_index(COLUMN)
    return table.set_column(index, COLUMN, pa.array(list(metas), pa.string()))
