"""The LLM judge through a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from curation_rows import row, table
from scripted_llm import ScriptedLLM

from filters import score
from filters.registry import run_filter
from filters.scorers import llm_judge
from instances.context import StageContext
from instances.scores import read_errors, read_scores


class RetryAfterLLM(ScriptedLLM):
    """The scripted server, answering its injected 429s with a `Retry-After` header."""

    retry_after = "7"

    def _handler(self):
        base = super()._handler()
        owner = self

        class Handler(base):
            def send_response(self, code: int, message: str | None = None) -> None:
                super().send_response(code, message)
                if code == 429:
                    self.send_header("Retry-After", owner.retry_after)

        return Handler


def ratings(prompt: str) -> str:
    """The judge's scripted answers, keyed by a word of the row's request."""
    request = re.search(r"\[Request\]\n(.*)\n", prompt).group(1)
    answers = {
        "alpha": "5",
        "beta": "Score: 2",
        "gamma": "I would say it is pretty good",
        "delta": "9",
    }
    return answers[request.split()[0]]


ROWS = [
    row("alpha question", "a fine answer"),
    row("beta question", "a weak answer"),
    row("gamma question", "some answer"),
    row("delta question", "another answer"),
]


def judge_config(server: ScriptedLLM, **extra) -> score.Config:
    settings = {"concurrency": 2, "backoff_seconds": 0, **extra}
    scorer = llm_judge.Config(base_url=server.base_url, model="judge", **settings)
    return score.Config(name="helpful", scorer=scorer)


def requested_rows(server: ScriptedLLM) -> list[str]:
    return [
        re.search(r"\[Request\]\n(\S+)", r["messages"][-1]["content"]).group(1)
        for r in server.requests
    ]


def test_judge_scores_strictly_and_rejects_garbage(tmp_path: Path) -> None:
    with ScriptedLLM(ratings) as server:
        result = run_filter(table(ROWS), judge_config(server), StageContext(cache_dir=tmp_path))
    assert result.report.rows_in == result.report.rows_out == 4
    assert result.rejected.num_rows == 0
    values = read_scores(result.kept, "helpful").tolist()
    assert values[:2] == [5.0, 2.0]
    assert read_errors(result.kept, "helpful") == [
        None,
        None,
        llm_judge.UNPARSABLE,
        llm_judge.OUT_OF_RANGE,
    ]
    extras = result.report.extras
    assert extras["scored"] == 2
    assert extras["unscored"] == {"judgement_out_of_range": 1, "unparsable_judgement": 1}
    assert "pretty good" in " ".join(extras["usage"]["unparsable_examples"])
    assert extras["scorer"]["model"] == "judge" and "api_key" not in extras["scorer"]
    body = server.requests[0]
    assert body["path"].endswith("/chat/completions") and body["temperature"] == 0.0


def test_judge_waits_what_retry_after_says(tmp_path: Path) -> None:
    waits: list[float] = []
    with RetryAfterLLM(ratings) as server:
        server.fail_with = [429]
        config = judge_config(server, concurrency=1)
        scores, reasons, usage = llm_judge.score(
            ["alpha q"], ["an answer"], config.scorer, tmp_path, sleep=waits.append
        )
    assert scores == [5.0] and reasons == [None]
    assert waits == [7.0]
    assert usage["errors"] == {"RateLimitError": 1}
    assert len(server.requests) == 2


def test_resumed_run_asks_only_unanswered_rows(tmp_path: Path) -> None:
    ctx = StageContext(cache_dir=tmp_path)
    with ScriptedLLM(ratings) as server:
        # the first run stops after two requests, as a killed run would
        first = run_filter(table(ROWS), judge_config(server, request_budget=2, concurrency=1), ctx)
        assert first.report.extras["unscored"] == {"budget_exhausted": 2}
        assert len(server.requests) == 2
        second = run_filter(table(ROWS), judge_config(server), ctx)
        assert len(server.requests) == 4
        assert sorted(requested_rows(server)) == ["alpha", "beta", "delta", "gamma"]
        third = run_filter(table(ROWS), judge_config(server, concurrency=3), ctx)
        assert len(server.requests) == 4  # batch size / concurrency are not part of the key
    assert second.report.extras["usage"]["cache_hits"] == 2
    assert third.report.extras["usage"]["cache_hits"] == 4
    assert read_scores(third.kept, "helpful").tolist()[:2] == [5.0, 2.0]


def test_rubric_must_name_prompt_and_response() -> None:
    with pytest.raises(ValueError, match=r"\{response\}"):
        llm_judge.Config(base_url="http://127.0.0.1:1/v1", model="m", rubric="rate {prompt}")
