"""The scale benchmark's synthetic rows: valid instances with true content ids, all distinct,
the same again for the same seed and rows."""

from __future__ import annotations

import pyarrow as pa

from benchmarks.synthetic import made_up_word, synthetic_shard
from instances import INSTANCE_SCHEMA, validate
from instances.ids import instance_id


def test_synthetic_rows_are_valid_distinct_and_hash_to_their_ids(mirror):
    table = synthetic_shard(mirror, 52_000, 400, seed=7)  # wraps around Alpaca's 52,002 rows
    assert table.schema == INSTANCE_SCHEMA
    validate(table)  # checks every id against its messages
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == [instance_id(r["messages"]) for r in rows]
    assert len({r["id"] for r in rows}) == 400
    assert all(
        made_up_word(52_000 + i) in r["messages"][1]["content"].split() for i, r in enumerate(rows)
    )
    assert synthetic_shard(mirror, 52_000, 400, seed=7).equals(table)
    assert not synthetic_shard(mirror, 52_000, 400, seed=8).equals(table)


def test_made_up_words_are_distinct():
    words = [made_up_word(n) for n in range(30_000)]
    assert len(set(words)) == 30_000
    assert pa.array(words).to_pylist()[:3] == ["zqa", "zqb", "zqc"]
