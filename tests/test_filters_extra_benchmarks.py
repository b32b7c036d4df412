"""`extra_benchmarks:` a recipe's own benchmark file catches rows planted from it."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError as PydanticValidationError

from filters import decontaminate
from filters.registry import run_filter
from instances import make_instance, make_table
from instances.context import StageContext

FIXTURES = Path(__file__).parent / "fixtures" / "byod"
BENCHMARK = {
    "name": "my_bench",
    "data": {
        "path": str(FIXTURES / "my_benchmark.jsonl"),
        "format": "columns",
        "columns": {"prompt": "question", "response": "answer"},
    },
    "text": "prompt",
}


def row(prompt: str, response: str = "An answer.") -> dict:
    messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
    return make_instance(
        messages, source="s", origin="human", task="t", category="c", template="raw"
    )


def test_planted_rows_are_caught_and_reported_like_builtins():
    table = make_table(
        [
            row(
                "Please solve: a farmer has seventeen sheep and all but nine run away across "
                "the hills, how many sheep does the farmer still have left now?"
            ),
            row("Write a poem about the sea."),
            row(
                "If a train leaves the quiet station at noon travelling sixty miles every hour, "
                "how far has it gone by three in the afternoon? Explain."
            ),
        ]
    )
    config = decontaminate.Config(benchmarks=[], extra_benchmarks=[BENCHMARK])
    result = run_filter(table, config, StageContext())
    assert result.rejected.column("reject_reason").to_pylist() == ["contaminated:my_bench"] * 2
    assert result.kept.num_rows == 1
    extras = result.report.extras["benchmarks"]["my_bench"]
    assert extras["items"] == 2 and extras["rows"] == 2 and extras["example"]
    assert FIXTURES / "my_benchmark.jsonl" in decontaminate.inputs(config, StageContext())


def test_response_side_only_matches_answers(tmp_path):
    answers = tmp_path / "answers.jsonl"
    answers.write_text(
        '{"q": "Q?", "a": "the mitochondria is the powerhouse of the living cell"}\n'
    )
    spec = {"path": str(answers), "format": "columns", "columns": {"prompt": "q", "response": "a"}}
    table = make_table(
        [
            row(
                "Tell me a fact.",
                "As we know, the mitochondria is the powerhouse of the living cell.",
            )
        ]
    )
    by_prompt = decontaminate.Config(
        benchmarks=[], extra_benchmarks=[{"name": "bio", "data": spec, "text": "prompt"}]
    )
    by_answer = decontaminate.Config(
        benchmarks=[], extra_benchmarks=[{"name": "bio", "data": spec, "text": "response"}]
    )
    assert run_filter(table, by_prompt, StageContext()).rejected.num_rows == 0
    assert run_filter(table, by_answer, StageContext()).rejected.num_rows == 1


def test_names_must_be_unique_and_something_must_be_checked():
    with pytest.raises(PydanticValidationError, match="repeated"):
        decontaminate.Config(
            benchmarks=["gsm8k"], extra_benchmarks=[{**BENCHMARK, "name": "gsm8k"}]
        )
    with pytest.raises(PydanticValidationError, match="no benchmark to check"):
        decontaminate.Config(benchmarks=[])
