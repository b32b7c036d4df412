"""LLM endpoint faults through a loopback server: malformed replies, failing and slow
endpoints, Retry-After, the circuit breaker, bad URLs and credentials inside URLs."""

from __future__ import annotations

import email.utils
import time

import pytest
from corpus import judge, run_cli, tally_judged
from faulty_llm import HOLD, JSON, OK_BODY, FaultyLLM
from pydantic import ValidationError

from generators.self_instruct import llm as llm_module
from generators.self_instruct.llm import (
    EndpointUnavailable,
    LLMClient,
    LLMConfig,
    MalformedResponse,
    Sampling,
)

SECRET = "sk-SECRET-1234567890"
SAMPLING = Sampling(max_tokens=8)


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The client's retry delays, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(llm_module.time, "sleep", recorded.append)
    return recorded


def client_for(url: str, **options) -> LLMClient:
    return LLMClient(LLMConfig(base_url=url, model="m", api="completions", **options))


MALFORMED = {
    "html_body": ({"Content-Type": "text/html"}, "<html><body>502 Bad Gateway</body></html>"),
    "html_as_json": (JSON, "<html><body>oops</body></html>"),
    "invalid_json": (JSON, '{"choices": [{"text": "a"'),
    "empty_choices": (JSON, '{"choices": [], "usage": null}'),
    "null_choices": (JSON, '{"choices": null}'),
    "choices_not_list": (JSON, '{"choices": {"text": "a"}}'),
    "text_not_string": (JSON, '{"choices": [{"index": 0, "text": 123, "finish_reason": "stop"}]}'),
    "plain_text": ({"Content-Type": "text/plain"}, "service unavailable"),
    "json_array": (JSON, "[1, 2, 3]"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_reply_is_a_clear_error(case, sleeps):
    headers, body = MALFORMED[case]
    with FaultyLLM([(200, headers, body)]) as server:
        client = client_for(server.base_url)
        with pytest.raises(MalformedResponse) as error:
            client.complete("hi", SAMPLING)
    message = str(error.value)
    assert "malformed response" in message and server.base_url in message
    assert "\n" not in message
    tally_judged(f"llm:malformed:{case}")


def test_failing_endpoint_opens_the_circuit(sleeps):
    with FaultyLLM([(500, JSON, '{"error": "boom"}')]) as server:
        client = client_for(server.base_url, max_retries=20, breaker_failures=3)
        with pytest.raises(EndpointUnavailable, match="circuit open after 3"):
            client.complete("hi", SAMPLING)
        assert len(server.requests) == 3
        with pytest.raises(EndpointUnavailable, match="circuit open"):
            client.complete("again", SAMPLING)  # fails at once: no request sent
        assert len(server.requests) == 3
    tally_judged("llm:breaker")


def test_a_success_closes_the_circuit(sleeps):
    script = [(500, JSON, "{}"), (500, JSON, "{}"), (200, JSON, OK_BODY)]
    with FaultyLLM(script) as server:
        client = client_for(server.base_url, breaker_failures=3)
        assert client.complete("hi", SAMPLING).text == "fine"
        assert client.complete("again", SAMPLING).text == "fine"
    tally_judged("llm:breaker_closes")


@pytest.mark.parametrize(
    ("header", "expected"),
    [("30", 30.0), ("100000", 60.0), ("0", None)],
    ids=["seconds", "capped", "zero"],
)
def test_retry_after_is_honoured(header, expected, sleeps):
    script = [
        (429, {**JSON, "Retry-After": header}, '{"error": "slow down"}'),
        (200, JSON, OK_BODY),
    ]
    with FaultyLLM(script) as server:
        client = client_for(server.base_url, backoff_seconds=0.5, max_retry_after_seconds=60)
        assert client.complete("hi", SAMPLING).text == "fine"
    assert len(sleeps) == 1
    if expected is None:
        assert sleeps[0] <= 0.5  # no wait asked: the backoff
    else:
        assert sleeps[0] == pytest.approx(expected)
    tally_judged(f"llm:retry_after:{header}")


def test_retry_after_as_an_http_date(sleeps):
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    script = [(503, {**JSON, "Retry-After": when}, "{}"), (200, JSON, OK_BODY)]
    with FaultyLLM(script) as server:
        client_for(server.base_url, backoff_seconds=0.01).complete("hi", SAMPLING)
    assert 15 <= sleeps[0] <= 21
    tally_judged("llm:retry_after_date")


def test_hung_endpoint_times_out_as_configured(sleeps):
    with FaultyLLM([(200, JSON, HOLD)]) as server:
        client = client_for(server.base_url, timeout_seconds=0.3, max_retries=1)
        started = time.monotonic()
        with pytest.raises(EndpointUnavailable, match="APITimeoutError"):
            client.complete("hi", SAMPLING)
        assert time.monotonic() - started < 10  # two attempts of 0.3 s, not 2 x 120 s
    tally_judged("llm:timeout")


BAD_URLS = ["not-a-url", "ftp://127.0.0.1/v1", "http://", "127.0.0.1:8000/v1", "http://h:port/v1"]


@pytest.mark.parametrize("url", BAD_URLS)
def test_invalid_url_fails_at_once(url, monkeypatch):
    """Refused by validation alone: no name lookup, no connection, no wait (not a clock: a
    loaded machine can pause any process for a second)."""
    import socket

    tried: list[tuple] = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: tried.append(a) or [])
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: tried.append(address))
    monkeypatch.setattr(llm_module.time, "sleep", tried.append)
    started = time.monotonic()
    with pytest.raises(ValidationError, match="http"):
        LLMConfig(base_url=url, model="m")
    assert tried == []
    assert time.monotonic() - started < 10  # a deadline far from any connect timeout
    tally_judged(f"llm:bad_url:{url}")


def test_invalid_url_on_the_cli_is_one_line(capfd, tmp_path):
    args = ["self-instruct", "--base-url", "not-a-url", "--model", "m", "--root", tmp_path / "r"]
    outcome = run_cli(args, capfd)
    judge("llm:cli_bad_url", outcome, ["not-a-url", "http"])
    assert not (tmp_path / "r").exists()


def test_credentials_in_the_url_are_moved_out_of_it(sleeps):
    with FaultyLLM([(500, JSON, '{"error": "boom"}')]) as server:
        url = server.base_url.replace("http://", f"http://user:{SECRET}@")
        config = LLMConfig(base_url=url, model="m", api="completions", max_retries=1)
        stored = [config.base_url, repr(config), config.model_dump_json(), str(config)]
        client = LLMClient(config)
        with pytest.raises(EndpointUnavailable) as error:
            client.complete("hi", SAMPLING)
        headers = {key.lower(): value for key, value in server.requests[0].items()}
        assert headers["authorization"] == f"Bearer {SECRET}"
    assert config.base_url == server.base_url
    leaked = [text for text in [*stored, str(error.value)] if SECRET in text]
    assert not leaked
    tally_judged("llm:credentials_in_url")


def test_an_explicit_key_wins_over_the_url_one():
    config = LLMConfig(base_url="http://u:urlkey@127.0.0.1:1/v1", model="m", api_key="given")
    assert config.api_key.get_secret_value() == "given"
    assert "urlkey" not in config.base_url
    tally_judged("llm:explicit_key")
