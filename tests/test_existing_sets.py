"""Adapters for Alpaca-format sets and LIMA, on hand-written rows and on the mirror."""

from __future__ import annotations

import json

import pytest

from generators import existing
from instances import validate
from instances.context import StageContext


def test_alpaca_row_with_input_becomes_two_turns():
    messages = existing.row_messages(
        {"instruction": "Translate to French.", "input": "Good morning", "output": "Bonjour"}
    )
    assert messages == [
        {"role": "user", "content": "Translate to French.\n\nGood morning"},
        {"role": "assistant", "content": "Bonjour"},
    ]


def test_lima_history_unfolds_into_earlier_turns():
    row = {"instruction": "And b?", "input": "", "output": "2", "history": [["What is a?", "1"]]}
    roles = [m["role"] for m in existing.row_messages(row)]
    assert roles == ["user", "assistant", "user", "assistant"]


def test_hub_lima_conversations_alternate_roles():
    messages = existing.row_messages({"conversations": ["Q1", "A1", "Q2", "A2"]})
    assert [m["content"] for m in messages if m["role"] == "assistant"] == ["A1", "A2"]


def test_row_without_output_is_missing_field():
    assert existing.row_messages({"instruction": "x"}) is None


@pytest.mark.parametrize(
    ("dataset", "rows", "license_id", "origin"),
    [
        ("code_alpaca", 2017, "cc-by-nc-4.0", "distilled"),
        ("gpt4_llm", 999, "cc-by-nc-4.0", "distilled"),
        ("lima", 1029, "cc-by-nc-sa-4.0", "human"),
    ],
)
def test_mirror_sets_fill_every_column(mirror, dataset, rows, license_id, origin):
    result = existing.generate(existing.Config(dataset=dataset), StageContext(mirror=mirror))
    assert result.report.rows_in == rows
    assert result.report.balanced()
    assert result.kept.num_rows + result.rejected.num_rows == rows
    kept = validate(result.kept)
    first = kept.slice(0, 1).to_pylist()[0]
    assert first["origin"] == origin and first["source"] == dataset and first["lang"] == "en"
    assert json.loads(first["meta"])["license"] == license_id
    assert set(result.rejected.column("reject_reason").to_pylist()) <= {
        "empty_turn",
        "missing_field",
    }
