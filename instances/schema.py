"""The Arrow schema of a formatted instance, row construction and `validate`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from instances import meta as meta_column
from instances.checks import flagged_rows
from instances.errors import ValidationError
from instances.ids import instance_id, normalise_messages

MESSAGE_TYPE = pa.struct([("role", pa.string()), ("content", pa.string())])

INSTANCE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("messages", pa.list_(MESSAGE_TYPE)),
        ("source", pa.string()),
        ("origin", pa.string()),
        ("task", pa.string()),
        ("category", pa.string()),
        ("template", pa.string()),
        ("lang", pa.string()),
        ("meta", pa.string()),
    ]
)
COLUMNS: tuple[str, ...] = tuple(INSTANCE_SCHEMA.names)

# Rejected rows: the instance columns plus why and by whom they were dropped.
REJECTED_SCHEMA = INSTANCE_SCHEMA.append(pa.field("reject_stage", pa.string()))
REJECTED_SCHEMA = REJECTED_SCHEMA.append(pa.field("reject_reason", pa.string()))
REJECTED_SCHEMA = REJECTED_SCHEMA.append(pa.field("duplicate_of", pa.string()))

ORIGINS = frozenset({"public_task", "crowdsourced_schema", "self_instruct", "human", "distilled"})
ROLES = frozenset({"system", "user", "assistant"})
STRING_COLUMNS = ("source", "origin", "task", "category", "template", "lang")


def make_instance(
    messages: Sequence[Mapping[str, str]],
    *,
    source: str,
    origin: str,
    task: str,
    category: str,
    template: str,
    lang: str = "en",
    meta: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return one formatted-instance row (a dict) with normalised messages and its content id.

    >>> turns = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    >>> row = make_instance(turns, source="demo", origin="human", task="chat",
    ...     category="open_qa", template="raw")
    >>> row["id"], row["meta"]
    ('d6a46ee39fedca62251a74cee3ccd427', '{}')
    """
    normalised = normalise_messages(messages)
    return {
        "id": instance_id(normalised),
        "messages": normalised,
        "source": source,
        "origin": origin,
        "task": task,
        "category": category,
        "template": template,
        "lang": lang,
        "meta": meta_column.dumps(meta),
    }


def make_table(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Return an Arrow table in `INSTANCE_SCHEMA` from rows such as `make_instance` returns."""
    return pa.Table.from_pylist(list(rows), schema=INSTANCE_SCHEMA)


def empty_table(schema: pa.Schema = INSTANCE_SCHEMA) -> pa.Table:
    """Return a table with no rows in `schema`."""
    return schema.empty_table()


def _fail(row: int, column: str, expected: str, got: Any) -> ValidationError:
    shown = repr(got)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return ValidationError(f"row {row}, column '{column}': expected {expected}, got {shown}")


def _check_messages(row: int, messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise _fail(row, "messages", "a non-empty list of {role, content} turns", messages)
    for turn, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ROLES:
            raise _fail(row, f"messages[{turn}].role", "one of system/user/assistant", role)
        content = message.get("content")
        if not isinstance(content, str):
            raise _fail(row, f"messages[{turn}].content", "a string", content)
    roles = [m["role"] for m in messages]
    if "user" not in roles or roles[-1] != "assistant":
        raise _fail(row, "messages", "at least one user turn and an assistant turn last", roles)


def _check_row(index: int, row: dict[str, Any], check_ids: bool) -> None:
    """Raise `ValidationError` if row `index` breaks a per-row rule (the first one found)."""
    _check_messages(index, row["messages"])
    for column in STRING_COLUMNS:
        if not row[column]:
            raise _fail(index, column, "a non-empty string", row[column])
    if row["origin"] not in ORIGINS:
        raise _fail(index, "origin", f"one of {sorted(ORIGINS)}", row["origin"])
    try:
        meta = json.loads(row["meta"])
    except json.JSONDecodeError:
        meta = None
    if not isinstance(meta, dict):
        raise _fail(index, "meta", "a JSON object", row["meta"])
    if check_ids and row["id"] != instance_id(row["messages"]):
        raise _fail(index, "id", "the content hash of the row's messages", row["id"])


def validate(table: pa.Table, *, check_ids: bool = True) -> pa.Table:
    """Check that `table` holds formatted instances and return it in the canonical column order.

    Raises `ValidationError` naming the first bad row and column: a missing column, a wrong
    type, a null, an unknown role or origin, `meta` that is not a JSON object, or (with
    `check_ids`) an `id` that is not the content hash of the row's messages.
    """
    missing = [name for name in COLUMNS if name not in table.column_names]
    if missing:
        raise ValidationError(f"table is missing column(s) {missing}; expected {list(COLUMNS)}")
    try:
        table = table.select(list(COLUMNS)).cast(INSTANCE_SCHEMA)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as error:
        raise ValidationError(f"table does not match the instance schema: {error}") from error
    for column in COLUMNS:
        if table.column(column).null_count:
            first = table.column(column).is_null().to_pylist().index(True)
            raise _fail(first, column, "a value", None)
    # Columns are checked at once; only flagged rows go through the per-row checks below,
    # which raise with the first bad row's message.
    for index in flagged_rows(table, STRING_COLUMNS, ROLES, ORIGINS, check_ids):
        _check_row(index, table.slice(index, 1).to_pylist()[0], check_ids)
    return table
