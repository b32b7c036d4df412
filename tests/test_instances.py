"""The formatted instance: schema validation, id stability, atomic writes."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from instances import (
    INSTANCE_SCHEMA,
    ValidationError,
    atomic_directory,
    instance_id,
    make_instance,
    make_table,
    read_instances,
    validate,
    write_parquet_atomic,
)
from instances.report import Report


def _row(user: str = "Name a colour.", assistant: str = "Blue.", **overrides):
    row = make_instance(
        [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}],
        source="test",
        origin="human",
        task="colours",
        category="open_qa",
        template="raw",
        meta={"license": "cc0-1.0"},
    )
    row.update(overrides)
    return row


def test_id_is_a_pinned_content_hash():
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    assert instance_id(messages) == "d6a46ee39fedca62251a74cee3ccd427"


def test_id_ignores_outer_whitespace_line_endings_and_role_case():
    a = [{"role": "user", "content": "Hi\r\nthere "}, {"role": "assistant", "content": "Hello"}]
    b = [{"role": "USER", "content": " Hi\nthere"}, {"role": "assistant", "content": "Hello\n"}]
    assert instance_id(a) == instance_id(b)


def test_id_changes_with_text_and_role():
    base = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    other_text = [{"role": "user", "content": "Hi!"}, {"role": "assistant", "content": "Hello"}]
    other_role = [{"role": "system", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    assert len({instance_id(base), instance_id(other_text), instance_id(other_role)}) == 3


def test_valid_table_passes_and_is_returned_in_schema():
    table = make_table([_row(), _row("Name a fruit.", "Apple.")])
    assert validate(table).schema.equals(INSTANCE_SCHEMA)


@pytest.mark.parametrize(
    ("row_override", "expected"),
    [
        ({"origin": "scraped"}, "row 1, column 'origin'"),
        ({"meta": "[1, 2]"}, "row 1, column 'meta'"),
        ({"meta": "{not json"}, "row 1, column 'meta'"),
        ({"lang": ""}, "row 1, column 'lang'"),
        ({"id": "0" * 32}, "row 1, column 'id'"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "row 1, column 'messages[0].role'"),
        (
            {"messages": [{"role": "user", "content": "only a question"}]},
            "row 1, column 'messages'",
        ),
    ],
)
def test_validate_names_row_and_column(row_override, expected):
    table = make_table([_row(), _row("Another question?", "Yes.", **row_override)])
    with pytest.raises(ValidationError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        validate(table)


def test_validate_names_a_missing_column():
    table = make_table([_row()]).drop_columns(["category"])
    with pytest.raises(ValidationError, match=r"missing column\(s\) \['category'\]"):
        validate(table)


def test_validate_names_a_null():
    table = make_table([_row(), _row("Q?", "A.")])
    table = table.set_column(2, "source", pa.array(["test", None], pa.string()))
    with pytest.raises(ValidationError, match="row 1, column 'source'"):
        validate(table)


def test_parquet_roundtrip_is_byte_identical(tmp_path):
    table = make_table([_row(), _row("Name a fruit.", "Apple.")])
    a = write_parquet_atomic(table, tmp_path / "a.parquet")
    b = write_parquet_atomic(table, tmp_path / "b.parquet")
    assert a.read_bytes() == b.read_bytes()
    assert read_instances(a).equals(validate(table))


def test_failed_write_leaves_neither_file_nor_temporary(tmp_path, monkeypatch):
    table = make_table([_row()])
    target = tmp_path / "out.parquet"
    write_parquet_atomic(table, target)
    before = target.read_bytes()

    def broken_write(table, where, **kwargs):
        with open(where, "wb") as handle:
            handle.write(b"PAR1 half")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken_write)
    with pytest.raises(OSError, match="disk full"):
        write_parquet_atomic(make_table([_row("Other?", "Yes.")]), target)
    assert target.read_bytes() == before  # the old file is untouched
    assert sorted(os.listdir(tmp_path)) == ["out.parquet"]  # no temporary left behind


def test_atomic_directory_replaces_on_success_and_vanishes_on_error(tmp_path):
    final = tmp_path / "mixture"
    with atomic_directory(final) as tmp:
        (tmp / "a.txt").write_text("first")
    assert (final / "a.txt").read_text() == "first"
    with pytest.raises(KeyboardInterrupt), atomic_directory(final) as tmp:
        (tmp / "a.txt").write_text("half")
        raise KeyboardInterrupt
    assert (final / "a.txt").read_text() == "first"
    assert sorted(os.listdir(tmp_path)) == ["mixture"]


def test_reports_add_up_and_balance():
    a = Report(stage="length", rows_in=10, rows_out=7, dropped_by_reason={"empty_prompt": 3})
    b = Report(stage="length", rows_in=5, rows_out=4, dropped_by_reason={"empty_prompt": 1})
    total = a + b
    assert (total.rows_in, total.rows_out, total.dropped_by_reason) == (15, 11, {"empty_prompt": 4})
    assert total.balanced()
    with pytest.raises(ValueError):
        a + Report(stage="dedup", rows_in=1, rows_out=1)


def test_meta_is_json_with_sorted_keys():
    row = _row()
    assert json.loads(row["meta"]) == {"license": "cc0-1.0"}


def test_the_session_is_offline_and_loopback_only():
    import os
    import socket

    from loopback_only import NonLoopbackNetwork

    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["HF_DATASETS_OFFLINE"] == "1"
    with pytest.raises(NonLoopbackNetwork, match="example.org"):
        socket.getaddrinfo("example.org", 443)
    with socket.socket() as probe, pytest.raises(NonLoopbackNetwork, match="192.0.2.1"):
        probe.connect(("192.0.2.1", 9))
    with socket.socket() as server:  # loopback still works
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
