"""Decontamination: a 13-gram copy and a short TruthfulQA question are caught, per benchmark."""

from __future__ import annotations

import csv
import json

import pytest
from curation_rows import check_balanced, row, table
from pydantic import ValidationError

from filters import decontaminate
from filters.benchmark_sets import CATALOG, benchmark_texts
from filters.registry import run_filter
from instances.context import StageContext


def _first(path, field):
    with open(path, encoding="utf-8") as handle:
        return json.loads(handle.readline())[field]


def test_13_gram_copy_and_short_truthfulqa_question_are_rejected(mirror):
    question = _first(mirror / "gsm8k" / "test.jsonl", "question")
    words = question.split()
    assert len(words) > 20
    with open(mirror / "truthfulqa" / "TruthfulQA.csv", encoding="utf-8") as handle:
        short = next(csv.DictReader(handle))["Question"]
    assert len(short.split()) < 13  # shorter than n: matched as a whole phrase
    copied = "Please solve: " + " ".join(words[3:16]) + " and explain."  # exactly 13 words
    almost = "Please solve: " + " ".join(words[3:15]) + " and explain."  # 12 words only
    rows = [
        row(copied),
        row("Tell me a joke about cats."),
        row(f"Quick one: {short} Be brief."),
        row(almost),
    ]
    config = decontaminate.Config(benchmarks=["gsm8k", "truthfulqa"])
    result = run_filter(table(rows), config, StageContext(mirror=mirror))
    check_balanced(result, 4)
    assert result.kept.column("id").to_pylist() == [rows[1]["id"], rows[3]["id"]]
    assert result.rejected.column("reject_reason").to_pylist() == [
        "contaminated:gsm8k",
        "contaminated:truthfulqa",
    ]
    extras = result.report.extras["benchmarks"]
    assert extras["gsm8k"]["rows"] == 1
    assert extras["gsm8k"]["example"].split() == [w.lower().strip(".,?") for w in words[3:16]]
    assert extras["truthfulqa"]["example"] == "what happens to you if you eat watermelon seeds"
    assert extras["truthfulqa"]["items"] > 800


def test_response_side_is_scanned_unless_prompt_only(mirror):
    question = _first(mirror / "gsm8k" / "test.jsonl", "question")
    rows = [row("Give me a maths problem.", question)]
    ctx = StageContext(mirror=mirror)
    both = decontaminate.Config(benchmarks=["gsm8k"])
    assert run_filter(table(rows), both, ctx).kept.num_rows == 0
    prompt_only = both.model_copy(update={"fields": "prompt"})
    assert run_filter(table(rows), prompt_only, ctx).kept.num_rows == 1


def test_every_catalog_benchmark_reads_from_the_mirror(mirror):
    counts = {name: len(benchmark_texts(bench, mirror)) for name, bench in CATALOG.items()}
    assert counts["mmlu"] == 14042
    assert counts["bbh"] == 6511
    assert counts["humaneval"] == 2 * 164
    assert counts["mt_bench"] == 160
    assert counts["alpaca_eval"] == 805
    assert counts["gsm8k"] == 2 * 1319
    assert counts["truthfulqa"] == 2 * 817


def test_config_checks_phrase_length_and_names():
    with pytest.raises(ValidationError, match="must not exceed ngram"):
        decontaminate.Config(ngram=8, min_phrase_words=9)
    with pytest.raises(ValidationError):
        decontaminate.Config(benchmarks=["imagenet"])


def test_question_templates_that_recur_in_a_benchmark_are_not_phrases(mirror):
    rows = [row("Which of the following statements is correct? Cats are mammals.")]
    ctx = StageContext(mirror=mirror)
    default = decontaminate.Config(benchmarks=["mmlu"])
    result = run_filter(table(rows), default, ctx)
    assert result.kept.num_rows == 1
    assert result.report.extras["benchmarks"]["mmlu"]["repeated_phrases_skipped"] > 100
    strict = default.model_copy(update={"skip_repeated_phrases": False})
    result = run_filter(table(rows), strict, ctx)
    assert result.rejected.column("reject_reason").to_pylist() == ["contaminated:mmlu"]
