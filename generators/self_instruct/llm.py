"""LLM calls through the `openai` client: completions (or chat), cache, retries, budget.

`LLMClient.complete_many` sends prompts with at most `concurrency` requests in flight, retries
429 / 5xx / timeouts / connection errors with exponential backoff (or the server's
`Retry-After`, capped at `max_retry_after_seconds`), serves repeated requests from a persistent
`RequestCache`, counts tokens, and raises `BudgetExhausted` before a request once a token
budget is spent (requests already in flight finish, so the budget can be overshot by at most
`concurrency` replies).

Hardening: a base URL that is not `http(s)://host...` fails when the config is made; a
`user:KEY@` inside it is moved into `api_key` (a secret) so the URL stored anywhere (stats,
Prefect parameters, logs, errors) carries no credential; after `breaker_failures` consecutive
failed attempts the circuit opens and every further request fails at once
(`EndpointUnavailable`); a reply that is not an OpenAI response (an HTML page, invalid JSON,
`"choices": []`) raises `MalformedResponse` naming the endpoint and what was wrong.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from generators.self_instruct.cache import RequestCache, request_key
from generators.self_instruct.endpoint import (
    Api,
    check_base_url,
    redact_url,
    retry_after_seconds,
    split_credentials,
)
from instances import InstructmixError

_RETRYABLE = (
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APITimeoutError,
    openai.APIConnectionError,
)


class BudgetExhausted(InstructmixError):
    """The token budget is spent; no more requests are sent."""


class EndpointUnavailable(InstructmixError):
    """The endpoint kept failing (429, 5xx, timeouts) through every retry: worth trying later."""


class MalformedResponse(InstructmixError):
    """The endpoint answered with something that is not an OpenAI-style completion."""


class Sampling(BaseModel):
    """Sampling parameters of one kind of request (part of the cache key)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(0.7, ge=0, le=2)
    top_p: float = Field(0.5, gt=0, le=1)
    max_tokens: int = Field(1024, ge=1, le=32_768)
    presence_penalty: float = Field(0.0, ge=-2, le=2)
    frequency_penalty: float = Field(0.0, ge=-2, le=2)
    stop: tuple[str, ...] = Field(default=(), max_length=4)


class LLMConfig(BaseModel):
    """Where and how to call the model."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(description="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    model: str = Field(min_length=1)
    api_key: SecretStr = Field(SecretStr("not-needed"), description="kept out of logs")
    api: Api = Field("auto", description="completions where the endpoint has it, else chat")
    concurrency: int = Field(4, ge=1, le=256)
    max_retries: int = Field(6, ge=0, le=20)
    backoff_seconds: float = Field(1.0, ge=0, le=60, description="first retry delay; doubles")
    timeout_seconds: float = Field(120.0, gt=0, le=3600, description="per request")
    token_budget: int | None = Field(None, ge=1, description="stop once this many tokens are used")
    max_retry_after_seconds: float = Field(
        300.0, ge=0, le=3600, description="longest Retry-After honoured (longer ones: capped)"
    )
    breaker_failures: int = Field(
        8, ge=1, le=1000, description="consecutive failed attempts that open the circuit"
    )

    @model_validator(mode="before")
    @classmethod
    def _url_without_credentials(cls, data: Any) -> Any:
        """Check the base URL and move a `user:KEY@` in it into `api_key`."""
        if isinstance(data, dict) and isinstance(data.get("base_url"), str):
            check_base_url(data["base_url"])
            url, secret = split_credentials(data["base_url"])
            data = {**data, "base_url": url}
            key = data.get("api_key")
            plain = key.get_secret_value() if isinstance(key, SecretStr) else key
            if secret and plain in (None, "", "not-needed"):
                data["api_key"] = secret
        return data


@dataclass(frozen=True)
class Completion:
    """One reply: its text, why it stopped, its token counts and whether the cache served it."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    cached: bool = False


@dataclass
class Usage:
    """Counters over a client's life."""

    requests: int = 0
    cache_hits: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens of the requests actually sent."""
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, Any]:
        """The counters as a JSON-ready dict."""
        return {
            "requests": self.requests,
            "cache_hits": self.cache_hits,
            "retries": self.retries,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "errors": dict(self.errors),
        }


Prompt = str | list[dict[str, str]]  # a list is sent as chat messages, as it is


def _messages(prompt: Prompt) -> list[dict[str, str]]:
    """The chat messages of `prompt`: a string becomes one user message."""
    return prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]


def _strip_stop(text: str, stop: tuple[str, ...]) -> str:
    """Drop a stop sequence the server echoed at the end (OpenAI semantics exclude it)."""
    for sequence in stop:
        if sequence and text.endswith(sequence):
            return text[: -len(sequence)]
    return text


class LLMClient:
    """The one way the Self-Instruct generator talks to a model."""

    def __init__(self, config: LLMConfig, cache_path: Path | None = None) -> None:
        self.config = config
        self.client = openai.OpenAI(
            base_url=config.base_url,
            api_key=config.api_key.get_secret_value(),
            max_retries=0,
            timeout=config.timeout_seconds,
        )
        self.cache = RequestCache(cache_path) if cache_path is not None else None
        self.usage = Usage()
        self._api: str | None = None if config.api == "auto" else config.api
        self._lock = threading.Lock()
        self._consecutive_failures = 0

    def _payload(self, api: str, prompt: Prompt, sampling: Sampling) -> dict[str, Any]:
        body: dict[str, Any] = {"api": api, "model": self.config.model}
        if api == "chat":
            body["messages"] = _messages(prompt)
        else:
            body["prompt"] = prompt
        body["sampling"] = sampling.model_dump(mode="json")
        return body

    def _cached(self, prompt: Prompt, sampling: Sampling) -> Completion | None:
        if self.cache is None:
            return None
        apis = [self._api] if self._api else ["completions", "chat"]
        apis = apis if isinstance(prompt, str) else ["chat"]
        for api in apis:
            reply = self.cache.get(request_key(self._payload(api, prompt, sampling)))
            if reply is not None:
                return Completion(**reply, cached=True)
        return None

    def _send(self, api: str, prompt: Prompt, sampling: Sampling) -> Completion:
        params: dict[str, Any] = {
            "model": self.config.model,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "presence_penalty": sampling.presence_penalty,
            "frequency_penalty": sampling.frequency_penalty,
        }
        if sampling.stop:
            params["stop"] = list(sampling.stop)
        try:
            if api == "chat":
                response = self.client.chat.completions.create(messages=_messages(prompt), **params)
            else:
                response = self.client.completions.create(prompt=prompt, **params)
            return self._completion(api, response, sampling)
        except (openai.APIResponseValidationError, ValueError) as error:  # JSONDecodeError too
            raise self._malformed(f"{type(error).__name__}: {error}") from None

    def _malformed(self, what: str) -> MalformedResponse:
        return MalformedResponse(
            f"LLM endpoint {self.config.base_url} returned a malformed response: "
            f"{redact_url(what)[:200]}"
        )

    def _completion(self, api: str, response: Any, sampling: Sampling) -> Completion:
        """A `Completion` from a parsed response; anything not OpenAI-shaped is malformed."""
        if isinstance(response, str):
            kind = "an HTML page" if "<html" in response[:500].lower() else "plain text"
            raise self._malformed(f"{kind} instead of JSON ({response[:80]!r})")
        choices = getattr(response, "choices", None)
        if not isinstance(choices, list) or not choices:
            raise self._malformed(f"no choices in the reply ({str(response)[:120]})")
        choice = choices[0]
        text = getattr(choice.message, "content", None) if api == "chat" else choice.text
        if text is not None and not isinstance(text, str):
            raise self._malformed(f"the reply's text is {type(text).__name__}, not a string")
        usage = getattr(response, "usage", None)
        return Completion(
            text=_strip_stop(text or "", sampling.stop),
            finish_reason=str(getattr(choice, "finish_reason", None) or "stop"),
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        )

    def _send_auto(self, prompt: Prompt, sampling: Sampling) -> tuple[str, Completion]:
        if not isinstance(prompt, str):  # a conversation goes to the chat route
            return "chat", self._send("chat", prompt, sampling)
        if self._api is not None:
            return self._api, self._send(self._api, prompt, sampling)
        try:
            completion = self._send("completions", prompt, sampling)
            api = "completions"
        except (openai.NotFoundError, openai.BadRequestError, openai.UnprocessableEntityError):
            completion = self._send("chat", prompt, sampling)
            api = "chat"
        self._api = api
        return api, completion

    def _record(self, success: bool, name: str = "") -> None:
        """Count an attempt: a success closes the circuit, a failure counts towards opening it."""
        with self._lock:
            if success:
                self._consecutive_failures = 0
                return
            self.usage.errors[name] = self.usage.errors.get(name, 0) + 1
            self._consecutive_failures += 1

    def _check_breaker(self) -> None:
        if self._consecutive_failures >= self.config.breaker_failures:
            raise EndpointUnavailable(
                f"LLM endpoint {self.config.base_url}: circuit open after "
                f"{self._consecutive_failures} consecutive failures "
                f"({', '.join(sorted(self.usage.errors))}); no more requests are sent"
            )

    def _sleep_before_retry(self, attempt: int, error: Exception) -> None:
        """Wait the server's Retry-After (capped) or the exponential backoff, if longer."""
        delay = self.config.backoff_seconds * 2**attempt * (0.5 + random.random() / 2)
        asked = retry_after_seconds(getattr(error, "response", None))
        if asked is not None:
            delay = max(delay, min(asked, self.config.max_retry_after_seconds))
        time.sleep(delay)

    def _check_budget(self) -> None:
        budget = self.config.token_budget
        if budget is not None and self.usage.total_tokens >= budget:
            raise BudgetExhausted(
                f"token budget of {budget} reached ({self.usage.total_tokens} tokens used)"
            )

    def complete(self, prompt: Prompt, sampling: Sampling) -> Completion:
        """One reply for `prompt`, from the cache or the endpoint (retried with backoff)."""
        cached = self._cached(prompt, sampling)
        if cached is not None:
            with self._lock:
                self.usage.cache_hits += 1
            return cached
        for attempt in range(self.config.max_retries + 1):
            with self._lock:
                self._check_budget()
                self._check_breaker()
                self.usage.requests += 1
            try:
                api, completion = self._send_auto(prompt, sampling)
                self._record(success=True)
                break
            except _RETRYABLE as error:
                name = type(error).__name__
                self._record(success=False, name=name)
                if attempt == self.config.max_retries:
                    raise EndpointUnavailable(
                        f"LLM endpoint {self.config.base_url} failed {attempt + 1} times; "
                        f"last error: {name}: {redact_url(str(error))}"
                    ) from error  # the cause carries the response (Retry-After) for callers
                with self._lock:
                    self.usage.retries += 1
                self._sleep_before_retry(attempt, error)
            except MalformedResponse:
                self._record(success=False, name="MalformedResponse")
                raise
            except openai.APIStatusError as error:
                self._record(success=False, name=type(error).__name__)
                raise InstructmixError(
                    f"LLM endpoint {self.config.base_url} refused the request "
                    f"(HTTP {error.status_code}): {redact_url(str(error.message))[:200]}"
                ) from None
        with self._lock:
            self.usage.prompt_tokens += completion.prompt_tokens
            self.usage.completion_tokens += completion.completion_tokens
        if self.cache is not None:
            payload = self._payload(api, prompt, sampling)
            reply = {k: v for k, v in completion.__dict__.items() if k != "cached"}
            self.cache.put(request_key(payload), payload, reply)
        return completion

    def complete_many(self, prompts: list[Prompt], sampling: Sampling) -> list[Completion]:
        """Replies for `prompts`, in order, with at most `concurrency` requests in flight."""
        if len(prompts) <= 1 or self.config.concurrency == 1:
            return [self.complete(prompt, sampling) for prompt in prompts]
        with ThreadPoolExecutor(max_workers=self.config.concurrency) as pool:
            futures = [pool.submit(self.complete, prompt, sampling) for prompt in prompts]
            return [future.result() for future in futures]

    def close(self) -> None:
        """Close the HTTP client and the cache."""
        self.client.close()
        if self.cache is not None:
            self.cache.close()
