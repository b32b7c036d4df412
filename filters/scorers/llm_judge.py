"""An LLM judge: any OpenAI-compatible endpoint rates each (prompt, response) on a rubric.

The default rubric asks for one whole number from 1 to 5 for helpfulness and correctness (the
AlpaGasus rating, LIMA's "quality" criterion). Answers are parsed strictly: a bare number, or
`Score: N` / `N/5`, inside the scale; anything else leaves the row unscored with a reason
(`unparsable_judgement`, `judgement_out_of_range`), never a guess.

Requests go through the Self-Instruct client (`generators/self_instruct/llm.py`): the persistent
request cache is keyed on the semantic request (model, messages, sampling), so a rerun after a
kill asks only for the rows not answered yet. 429 and 5xx answers are retried, waiting what the
server's `Retry-After` says (else exponential backoff). A token budget and a request budget stop
sending; rows not asked then are left unscored as `budget_exhausted`.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

UNPARSABLE = "unparsable_judgement"
OUT_OF_RANGE = "judgement_out_of_range"
BUDGET_EXHAUSTED = "budget_exhausted"
ENDPOINT_FAILED = "endpoint_failed"

DEFAULT_RUBRIC = """You are reviewing how well an assistant answered a user's request.

[Request]
{prompt}

[Answer]
{response}

Rate the answer for helpfulness and correctness on a scale of 1 to 5:
1 = wrong, harmful or unrelated; 2 = mostly unhelpful or with serious errors;
3 = acceptable but incomplete or partly wrong; 4 = helpful and correct with minor flaws;
5 = excellent: correct, complete, clear and well written.
Reply with the number only."""

_ANSWER = re.compile(
    r"^\s*(?:(?:score|rating)\s*[:=]?\s*)?(-?\d+)\s*(?:/\s*(\d+))?\s*\.?\s*$", re.IGNORECASE
)


class Config(BaseModel):
    """Where the judge lives, its rubric and scale, and how hard to try."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["llm_judge"] = "llm_judge"
    base_url: str = Field(description="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    model: str = Field(min_length=1)
    api_key: SecretStr = Field(SecretStr("not-needed"), description="kept out of logs and locks")
    rubric: str = Field(
        default=DEFAULT_RUBRIC, description="the judge's prompt: holds {prompt} and {response}"
    )
    scale_min: int = Field(default=1, description="lowest valid rating")
    scale_max: int = Field(default=5, description="highest valid rating")
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=8, ge=1, le=1024)
    concurrency: int = Field(default=4, ge=1, le=256)
    max_retries: int = Field(default=6, ge=0, le=20)
    backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    max_wait_seconds: float = Field(
        default=120.0, ge=0, description="longest Retry-After the judge honours"
    )
    timeout_seconds: float = Field(default=120.0, gt=0, le=3600)
    token_budget: int | None = Field(default=None, ge=1, description="stop after these tokens")
    request_budget: int | None = Field(
        default=None, ge=1, description="stop after this many requests sent (cache hits are free)"
    )
    cache: Path | None = Field(
        default=None, description="request cache file (default: <cache_dir>/llm_judge.sqlite)"
    )

    @model_validator(mode="after")
    def _check(self) -> Config:
        missing = [p for p in ("{prompt}", "{response}") if p not in self.rubric]
        if missing:
            raise ValueError(f"the rubric must contain {' and '.join(missing)}")
        if self.scale_min >= self.scale_max:
            raise ValueError(f"scale_min {self.scale_min} must be below scale_max {self.scale_max}")
        return self

    def settings(self) -> dict:
        """What the lock records: endpoint, model, rubric and sampling (no key, no budgets)."""
        return self.model_dump(
            mode="json",
            include={
                "kind",
                "base_url",
                "model",
                "rubric",
                "scale_min",
                "scale_max",
                "temperature",
                "max_tokens",
            },
        )


def parse_judgement(text: str, low: int, high: int) -> tuple[float | None, str | None]:
    """The rating in `text`, strictly: (score, None) or (None, reason).

    >>> parse_judgement(" 4", 1, 5), parse_judgement("Score: 5/5", 1, 5)
    ((4.0, None), (5.0, None))
    >>> parse_judgement("I'd say 4", 1, 5), parse_judgement("7", 1, 5)
    ((None, 'unparsable_judgement'), (None, 'judgement_out_of_range'))
    """
    match = _ANSWER.match(text)
    if match is None or (match.group(2) is not None and int(match.group(2)) != high):
        return None, UNPARSABLE
    value = int(match.group(1))
    if not low <= value <= high:
        return None, OUT_OF_RANGE
    return float(value), None


def judge_prompt(rubric: str, prompt: str, response: str) -> str:
    """The rubric with the row's prompt and response filled in (other braces left alone)."""
    return rubric.replace("{prompt}", prompt).replace("{response}", response)


def retry_after(error: BaseException) -> float | None:
    """Seconds the server asked to wait (`Retry-After` in seconds), if the error carries one."""
    response = getattr(error, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class Judge:
    """Asks the endpoint about rows, with retries, budgets and the persistent cache."""

    def __init__(
        self, config: Config, cache_path: Path | None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        from generators.self_instruct.llm import LLMClient, LLMConfig, Sampling

        self.config = config
        llm = LLMConfig(
            base_url=config.base_url,
            model=config.model,
            api_key=config.api_key,
            api="chat",
            concurrency=config.concurrency,
            max_retries=0,  # retried here, honouring Retry-After
            timeout_seconds=config.timeout_seconds,
            token_budget=config.token_budget,
        )
        self.client = LLMClient(llm, cache_path)
        self.sampling = Sampling(
            temperature=config.temperature, top_p=1.0, max_tokens=config.max_tokens
        )
        self.sleep = sleep
        self.waits: list[float] = []
        self.unparsable: list[str] = []
        self._lock = threading.Lock()

    def _ask(self, text: str) -> str:
        from generators.self_instruct.llm import BudgetExhausted, EndpointUnavailable

        for attempt in range(self.config.max_retries + 1):
            with self._lock:
                budget = self.config.request_budget
                if budget is not None and self.client.usage.requests >= budget:
                    raise BudgetExhausted(f"request budget of {budget} reached")
            try:
                return self.client.complete(text, self.sampling).text
            except EndpointUnavailable as error:
                if attempt == self.config.max_retries:
                    raise
                asked = retry_after(error.__cause__) if error.__cause__ else None
                wait = self.config.backoff_seconds * 2**attempt if asked is None else asked
                wait = min(wait, self.config.max_wait_seconds)
                with self._lock:
                    self.waits.append(wait)
                self.sleep(wait)
        raise AssertionError("unreachable")

    def rate(self, prompt: str, response: str) -> tuple[float | None, str | None]:
        """One row's rating, or None and why not."""
        from generators.self_instruct.llm import BudgetExhausted, EndpointUnavailable

        try:
            answer = self._ask(judge_prompt(self.config.rubric, prompt, response))
        except BudgetExhausted:
            return None, BUDGET_EXHAUSTED
        except EndpointUnavailable:
            return None, ENDPOINT_FAILED
        score, reason = parse_judgement(answer, self.config.scale_min, self.config.scale_max)
        if reason is not None:
            with self._lock:
                self.unparsable.append(answer[:200])
        return score, reason

    def close(self) -> None:
        """Close the HTTP client and the cache."""
        self.client.close()


def score(
    prompts: list[str],
    responses: list[str],
    config: Config,
    cache_dir: Path | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list[float | None], list[str | None], dict[str, Any]]:
    """Per pair: the judge's rating or None with a reason; plus usage for the report.

    At most `config.concurrency` requests are in flight.
    """
    cache_path = config.cache or (cache_dir / "llm_judge.sqlite" if cache_dir else None)
    judge = Judge(config, cache_path, sleep)
    try:
        with ThreadPoolExecutor(max_workers=config.concurrency) as pool:
            rated = list(pool.map(judge.rate, prompts, responses))
    finally:
        judge.close()
    scores = [s for s, _ in rated]
    reasons = [r for _, r in rated]
    usage = {
        **judge.client.usage.as_dict(),
        "waits_seconds": judge.waits,
        "unscored": dict(Counter(r for r in reasons if r)),
        "unparsable_examples": judge.unparsable[:3],
    }
    return scores, reasons, usage
