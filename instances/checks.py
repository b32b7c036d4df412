"""Vectorised row checks of `instances.schema.validate`: which rows may be bad, found with Arrow
compute over whole columns (no Python object per row except `meta` that is not "{}", and the
ids, hashed one batch at a time), so that the per-row checks run only on flagged rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from instances.ids import instance_id

ID_BATCH_ROWS = 10_000


def _mask(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as numpy (nulls count as True: flagged)."""
    return np.asarray(pc.fill_null(array, True).to_numpy(zero_copy_only=False), bool)


def _message_flags(messages: pa.Array, roles: frozenset[str]) -> np.ndarray:
    """Rows whose messages are empty, have a bad role or content, no user, or end unanswered."""
    rows = len(messages)
    lengths = pc.fill_null(pc.list_value_length(messages), 0).to_numpy(zero_copy_only=False)
    flags = lengths == 0
    flat = pc.list_flatten(messages)
    if len(flat) == 0:
        return flags
    parents = pc.list_parent_indices(messages).to_numpy()
    role = pc.struct_field(flat, "role")
    content = pc.struct_field(flat, "content")
    bad_turn = _mask(pc.invert(pc.is_in(role, pa.array(sorted(roles))))) | _mask(
        pc.is_null(content)
    )
    bad_turn |= _mask(pc.is_null(flat))
    flags |= np.bincount(parents[bad_turn], minlength=rows) > 0
    is_user = np.asarray(pc.fill_null(pc.equal(role, "user"), False), bool)
    flags |= np.bincount(parents[is_user], minlength=rows) == 0
    ends = np.cumsum(lengths) - 1
    last = ends[lengths > 0]
    is_assistant = np.asarray(pc.fill_null(pc.equal(role, "assistant"), False), bool)
    has_answer = np.zeros(rows, bool)
    has_answer[np.flatnonzero(lengths > 0)] = is_assistant[last]
    return flags | ~has_answer


def flagged_rows(
    table: pa.Table,
    string_columns: tuple[str, ...],
    roles: frozenset[str],
    origins: frozenset[str],
    check_ids: bool,
) -> Iterator[int]:
    """Rows that may fail a per-row check of `validate`, in order (a superset: none missed)."""
    flags = _message_flags(table.column("messages").combine_chunks(), roles)
    for column in string_columns:
        flags |= _mask(pc.equal(table.column(column), ""))
    flags |= _mask(pc.invert(pc.is_in(table.column("origin"), pa.array(sorted(origins)))))
    meta = table.column("meta")
    for index in np.flatnonzero(~_mask(pc.equal(meta, "{}"))):
        try:
            parsed = json.loads(meta[int(index)].as_py())
        except json.JSONDecodeError:
            parsed = None
        flags[index] |= not isinstance(parsed, dict)
    if check_ids:
        start = 0
        for batch in table.select(["id", "messages"]).to_batches(ID_BATCH_ROWS):
            ids = batch.column(0).to_pylist()
            for offset, messages in enumerate(batch.column(1).to_pylist()):
                if flags[start + offset]:
                    continue
                try:
                    flags[start + offset] = ids[offset] != instance_id(messages)
                except (KeyError, TypeError, AttributeError):
                    flags[start + offset] = True
            start += batch.num_rows
    yield from (int(row) for row in np.flatnonzero(flags))
