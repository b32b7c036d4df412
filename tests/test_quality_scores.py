"""The score stage (heuristic, reward model), the threshold filter and the meta helpers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from curation_rows import check_balanced, row, table
from tiny_models import tiny_classifier

from filters import score, threshold
from filters.registry import run_filter
from filters.scorers import heuristic, reward_model
from instances.scores import read_errors, read_scores, write_scores

GOOD = (
    "Gravity is the force by which a planet or other body draws objects toward its centre. "
    "It keeps the Moon in orbit around the Earth and the planets around the Sun; Newton "
    "described it as proportional to the product of the masses."
)


def rows() -> list[dict]:
    return [
        row("Explain gravity.", GOOD, source="a"),
        row("Tell me a joke.", "As an AI language model, I cannot tell jokes.", source="a"),
        row("Write a long essay about the history of Rome. " * 5, "Rome.", source="b"),
        row("Repeat yourself.", "the cat sat on the mat " * 20, source="b"),
        row("Show code.", "```python\nprint(1)\n", source="b"),
    ]


def test_heuristic_ranks_a_developed_answer_above_boilerplate_and_fragments() -> None:
    result = run_filter(table(rows()), score.Config(name="quality"), None)
    check_balanced(result, 5)
    values = read_scores(result.kept, "quality")
    assert np.all((values >= 0) & (values <= 1))
    assert int(np.argmax(values)) == 0
    assert values[1] < 0.3  # boilerplate is gated down
    assert values[0] > values[2] and values[0] > values[3] and values[0] > values[4]
    assert result.report.extras["scored"] == 5
    distribution = result.report.extras["distribution"]
    assert distribution["a"]["rows"] == 2 and distribution["b"]["rows"] == 3
    assert distribution["all"]["max"] == pytest.approx(values.max())
    # scoring again gives the same numbers, and ids never change
    again = run_filter(result.kept, score.Config(name="quality"), None)
    assert read_scores(again.kept, "quality").tolist() == values.tolist()
    assert again.kept.column("id").to_pylist() == table(rows()).column("id").to_pylist()


def test_heuristic_weights_change_the_order() -> None:
    prompts, responses = ["q", "q"], ["short.", "the cat sat on the mat " * 20]
    by_length = heuristic.Config(weights={"length": 1, "repetition": 0, "formatting": 0})
    by_repetition = heuristic.Config(weights={"length": 0, "repetition": 1, "formatting": 0})
    length_scores, _ = heuristic.score(prompts, responses, by_length)
    repetition_scores, _ = heuristic.score(prompts, responses, by_repetition)
    assert length_scores[1] > length_scores[0]
    assert repetition_scores[0] > repetition_scores[1]


def test_threshold_drops_low_and_unscored_rows_with_reasons() -> None:
    base = table(rows()[:4])
    scored = write_scores(base, "quality", [0.9, 0.2, None, 0.5], [None, None, "x_failed", None])
    assert read_errors(scored, "quality") == [None, None, "x_failed", None]
    result = run_filter(scored, threshold.Config(score="quality", min=0.5), None)
    check_balanced(result, 4)
    assert result.kept.column("id").to_pylist() == [base["id"][0].as_py(), base["id"][3].as_py()]
    assert result.rejected.column("reject_reason").to_pylist() == [
        "low_quality",
        "unscored_quality",
    ]
    assert set(result.rejected.column("reject_stage").to_pylist()) == {"threshold"}
    keeping = run_filter(scored, threshold.Config(min=0.5, keep_unscored=True), None)
    assert keeping.report.dropped_by_reason == {"low_quality": 1}


def test_threshold_without_a_score_stage_says_so() -> None:
    from instances import InstructmixError

    with pytest.raises(InstructmixError, match="put a `kind: score` step with name: helpful"):
        run_filter(table(rows()), threshold.Config(score="helpful", min=1), None)


def test_write_scores_replaces_a_stale_error_and_keeps_other_meta() -> None:
    base = table([row("q", "a", meta={"license": "cc"})])
    failed = write_scores(base, "quality", [None], ["endpoint_failed"])
    fixed = write_scores(failed, "quality", [3.0])
    assert json.loads(fixed["meta"][0].as_py()) == {"license": "cc", "quality": 3.0}


def test_reward_model_scores_pairs_with_the_models_logit(tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    texts = [t["content"] for r in rows() for t in r["messages"]]
    path = tiny_classifier(tmp_path / "rm", texts)
    config = score.Config(
        name="reward", scorer=reward_model.Config(model=str(path), batch_size=2, max_length=64)
    )
    result = run_filter(table(rows()), config, None)
    check_balanced(result, 5)
    values = read_scores(result.kept, "reward")
    assert np.isfinite(values).all() and len(set(values.tolist())) > 1
    tokenizer = AutoTokenizer.from_pretrained(path)
    assert tokenizer.unk_token_id not in tokenizer("explain gravity")["input_ids"]
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    with torch.no_grad():
        for index, r in enumerate(rows()):
            prompt, response = (t["content"] for t in r["messages"])
            batch = tokenizer(prompt, response, truncation=True, max_length=64, return_tensors="pt")
            assert values[index] == pytest.approx(float(model(**batch).logits[0, 0]), abs=1e-4)
    assert result.report.extras["scorer"]["model"] == str(path)
    with pytest.raises(ValueError, match="label 3 does not exist"):
        run_filter(
            table(rows()),
            config.model_copy(update={"scorer": reward_model.Config(model=str(path), label=3)}),
            None,
        )
