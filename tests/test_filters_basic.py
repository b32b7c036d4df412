"""Exact dedup and the length filter: exact kept ids, exact reasons, balanced reports."""

from __future__ import annotations

import json

import pytest

from filters import exact_dedup, length
from filters.registry import run_filter
from instances import make_instance, make_table


def _row(prompt: str, response: str, source: str = "a", quality: float | None = None):
    meta = {"quality": quality} if quality is not None else {}
    return make_instance(
        [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}],
        source=source,
        origin="human",
        task="t",
        category="c",
        template="raw",
        meta=meta,
    )


def test_exact_dedup_normalises_case_space_and_unicode_and_points_to_survivor():
    rows = [
        _row("What is  2+2?", "4", source="alpaca"),
        _row("what is 2+2?", "four", source="lima"),
        _row("What is ２+２?", "4!", source="alpaca"),  # full-width digits: NFKC
        _row("Something else", "x"),
    ]
    table = make_table(rows)
    result = run_filter(table, exact_dedup.Config(source_priority=["lima", "alpaca"]))
    assert result.kept.column("id").to_pylist() == [rows[1]["id"], rows[3]["id"]]
    assert result.rejected.column("reject_reason").to_pylist() == ["exact_duplicate"] * 2
    assert result.rejected.column("duplicate_of").to_pylist() == [rows[1]["id"]] * 2
    assert result.rejected.column("reject_stage").to_pylist() == ["exact_dedup"] * 2
    assert result.report.rows_in == 4 and result.report.balanced()


def test_exact_dedup_on_prompt_and_response_keeps_different_answers():
    rows = [_row("Q", "A1"), _row("q", "A1"), _row("Q", "A2")]
    result = run_filter(make_table(rows), exact_dedup.Config(fields="prompt_response"))
    assert result.kept.column("id").to_pylist() == [rows[0]["id"], rows[2]["id"]]


def test_exact_dedup_prefers_higher_quality_within_a_source():
    rows = [_row("Q", "short", quality=0.1), _row("Q ", "long", quality=0.9)]
    result = run_filter(make_table(rows), exact_dedup.Config(quality_key="quality"))
    assert result.kept.column("id").to_pylist() == [rows[1]["id"]]
    assert json.loads(result.rejected.column("meta")[0].as_py())["quality"] == 0.1


def test_length_filter_gives_each_reason():
    rows = [
        _row("fine prompt", "fine answer"),
        _row("   ", "answer"),
        _row("fine prompt", " "),
        _row("hi", "answer"),
        _row("fine prompt", "x" * 50),
    ]
    config = length.Config(min_prompt_chars=5, max_response_chars=20)
    result = run_filter(make_table(rows), config)
    assert result.kept.column("id").to_pylist() == [rows[0]["id"]]
    assert result.rejected.column("reject_reason").to_pylist() == [
        "empty_prompt",
        "empty_response",
        "prompt_too_short",
        "response_too_long",
    ]
    assert result.report.dropped_by_reason == {
        "empty_prompt": 1,
        "empty_response": 1,
        "prompt_too_short": 1,
        "response_too_long": 1,
    }
    assert result.report.rows_in == result.kept.num_rows + result.rejected.num_rows


def test_dispatcher_refuses_a_filter_that_loses_rows():
    from filters.dispatch import StageContractError, Transformed, Verdicts, judge, transform

    rows = [_row("Hello", "lima"), _row("Other", "lima")]
    with pytest.raises(StageContractError, match="1 verdicts for 2 rows"):
        judge(make_table(rows), "broken", lambda t: Verdicts([None]))
    with pytest.raises(StageContractError, match="returned 1 rows for 2"):
        transform(
            make_table(rows), "broken", lambda t: Transformed(t.slice(0, 1), Verdicts([None]))
        )
