"""The LLM client through the real `openai` package against a scripted server on 127.0.0.1."""

from __future__ import annotations

import pytest
from scripted_llm import ScriptedLLM

from generators.self_instruct.llm import (
    BudgetExhausted,
    EndpointUnavailable,
    LLMClient,
    LLMConfig,
    Sampling,
)
from instances import InstructmixError

SAMPLING = Sampling(temperature=0.7, top_p=0.5, max_tokens=64, stop=("\n\n",))


def echo(prompt: str) -> str:
    return f"reply to {prompt}"


def client_for(server: ScriptedLLM, tmp_path, **overrides) -> LLMClient:
    settings = {"base_url": server.base_url, "model": "scripted", "backoff_seconds": 0.01}
    return LLMClient(LLMConfig(**{**settings, **overrides}), tmp_path / "cache.sqlite")


def test_completion_sends_the_sampling_parameters(tmp_path):
    with ScriptedLLM(echo) as server:
        client = client_for(server, tmp_path)
        reply = client.complete("hello there", SAMPLING)
    assert reply.text == "reply to hello there" and reply.finish_reason == "stop"
    sent = server.requests[0]
    assert sent["path"] == "/v1/completions" and sent["prompt"] == "hello there"
    assert (sent["temperature"], sent["top_p"], sent["max_tokens"]) == (0.7, 0.5, 64)
    assert sent["stop"] == ["\n\n"] and sent["model"] == "scripted"
    assert client.usage.prompt_tokens == 2 and client.usage.completion_tokens == 4


def test_retries_injected_429_and_500_then_succeeds(tmp_path):
    with ScriptedLLM(echo) as server:
        server.fail_with = [429, 500, 503]
        client = client_for(server, tmp_path)
        reply = client.complete("x y", SAMPLING)
    assert reply.text == "reply to x y"
    assert len(server.requests) == 4 and client.usage.retries == 3
    assert client.usage.errors == {"RateLimitError": 1, "InternalServerError": 2}


def test_retries_a_timeout(tmp_path):
    import threading

    retried = threading.Event()
    calls: list[str] = []

    def first_waits_for_the_retry(prompt: str) -> str:
        calls.append(prompt)
        if len(calls) == 1:
            retried.wait(60)  # answers only after the client gave up on it and asked again
        else:
            retried.set()
        return echo(prompt)

    with ScriptedLLM(first_waits_for_the_retry) as server:
        client = client_for(server, tmp_path, timeout_seconds=2)
        assert client.complete("slow", SAMPLING).text == "reply to slow"
    assert client.usage.errors == {"APITimeoutError": 1} and len(calls) == 2


def test_gives_up_with_one_clear_error(tmp_path):
    with ScriptedLLM(echo) as server:
        server.fail_with = [500] * 3
        client = client_for(server, tmp_path, max_retries=2)
        with pytest.raises(EndpointUnavailable, match=r"failed 3 times; last error: Internal"):
            client.complete("x", SAMPLING)
        server.fail_with = [401]
        with pytest.raises(InstructmixError, match=r"refused the request \(HTTP 401\)"):
            client.complete("y", SAMPLING)


def test_falls_back_to_chat_when_completions_is_missing(tmp_path):
    with ScriptedLLM(echo, chat_only=True) as server:
        client = client_for(server, tmp_path)
        assert client.complete("hi", SAMPLING).text == "reply to hi"
        assert client.complete("again", SAMPLING).text == "reply to again"
    assert [r["path"] for r in server.requests] == ["/v1/chat/completions"] * 2
    assert server.requests[0]["messages"] == [{"role": "user", "content": "hi"}]


def test_cache_serves_a_repeated_request_and_survives_restart(tmp_path):
    other = Sampling(temperature=0.1, top_p=0.5, max_tokens=64)
    with ScriptedLLM(echo) as server:
        first = client_for(server, tmp_path)
        first.complete("a", SAMPLING)
        assert first.complete("a", SAMPLING).cached
        first.close()
        second = client_for(server, tmp_path)
        assert second.complete("a", SAMPLING).text == "reply to a"
        second.complete("a", other)  # other sampling parameters: a new request
        second_model = client_for(server, tmp_path, model="other-model")
        second_model.complete("a", SAMPLING)
    assert len(server.requests) == 3
    assert second.usage.cache_hits == 1 and second.usage.requests == 1


def test_budget_stops_requests(tmp_path):
    with ScriptedLLM(echo) as server:
        client = client_for(server, tmp_path, token_budget=5)
        client.complete("one two three", SAMPLING)  # 3 + 5 tokens
        with pytest.raises(BudgetExhausted, match="token budget of 5 reached"):
            client.complete("four", SAMPLING)
        assert client.complete("one two three", SAMPLING).cached  # cache still answers
    assert len(server.requests) == 1


def test_complete_many_keeps_order_and_limits_concurrency(tmp_path):
    import threading

    state = {"now": 0, "peak": 0}
    lock = threading.Lock()
    three_at_once = threading.Barrier(3, timeout=60)  # 12 requests: four groups of three

    def slow(prompt: str) -> str:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        three_at_once.wait()  # passes only while three requests are in flight together
        with lock:
            state["now"] -= 1
        return prompt.upper()

    with ScriptedLLM(slow) as server:
        client = client_for(server, tmp_path, concurrency=3)
        replies = client.complete_many([f"p{i}" for i in range(12)], SAMPLING)
    assert [r.text for r in replies] == [f"P{i}" for i in range(12)]
    assert state["peak"] == 3


def test_the_flow_retries_only_an_unavailable_endpoint():
    from types import SimpleNamespace

    from flows.self_instruct import worth_retrying

    def state(error: Exception) -> SimpleNamespace:
        return SimpleNamespace(data=error)

    assert worth_retrying(None, None, state(EndpointUnavailable("down")))
    assert not worth_retrying(None, None, state(InstructmixError("HTTP 401")))
    assert not worth_retrying(None, None, state(BudgetExhausted("spent")))
