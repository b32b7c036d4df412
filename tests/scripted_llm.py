"""An OpenAI-compatible HTTP server on 127.0.0.1 with scripted replies, for Self-Instruct tests.

`ScriptedLLM(reply)` serves `/v1/completions` and `/v1/chat/completions`; `reply(prompt)` returns
the text (or `(text, finish_reason)`); a chat request's prompt is its messages' contents joined
by newlines. Every request body is recorded. `fail_with` holds HTTP statuses to answer the next
requests with (429, 500, ...), `gate` (a threading.Event) holds requests until set,
`wait_for_requests(n)` blocks until n requests have arrived (no polling), `on_request(number)`
is called as each request arrives (before any hold), and `chat_only` answers 404 on
`/v1/completions`. A test that needs a slow reply makes its `reply` wait on an event, never sleep.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = Callable[[str], "str | tuple[str, str]"]


class ScriptedLLM:
    """A scripted endpoint; use as a context manager, `.base_url` for the client."""

    def __init__(self, reply: Reply, *, chat_only: bool = False) -> None:
        self.reply = reply
        self.chat_only = chat_only
        self.requests: list[dict] = []
        self.fail_with: list[int] = []
        self.gate: threading.Event | None = None
        self.hold_after: int | None = None
        self.on_request: Callable[[int], None] | None = None  # called with each request's number
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)  # notified on every recorded request
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The /v1 base URL of the server."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def wait_for_requests(self, count: int, timeout: float = 60) -> bool:
        """Block until `count` requests have arrived (False if `timeout` seconds pass first)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)

    def __enter__(self) -> ScriptedLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                # the client may have gone away (a killed process, a timeout)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                chat = self.path.endswith("/chat/completions")
                with owner.lock:
                    if not chat and owner.chat_only:
                        self._send(404, {"error": {"message": "no completions here"}})
                        return
                    owner.requests.append({"path": self.path, **body})
                    owner.arrived.notify_all()
                    number = len(owner.requests)
                    if owner.on_request is not None:
                        owner.on_request(number)
                    status = owner.fail_with.pop(0) if owner.fail_with else 200
                if owner.hold_after is not None and number > owner.hold_after and owner.gate:
                    owner.gate.wait(60)
                if status != 200:
                    self._send(status, {"error": {"message": f"injected {status}"}})
                    return
                prompt = (
                    "\n".join(m["content"] for m in body["messages"]) if chat else body["prompt"]
                )
                answer = owner.reply(prompt)
                text, finish = answer if isinstance(answer, tuple) else (answer, "stop")
                usage = {
                    "prompt_tokens": len(prompt.split()),
                    "completion_tokens": len(text.split()),
                    "total_tokens": len(prompt.split()) + len(text.split()),
                }
                if chat:
                    message = {"role": "assistant", "content": text}
                    choice = {"index": 0, "message": message, "finish_reason": finish}
                    kind = "chat.completion"
                else:
                    choice = {"index": 0, "text": text, "finish_reason": finish, "logprobs": None}
                    kind = "text_completion"
                self._send(
                    200,
                    {
                        "id": f"r{number}",
                        "object": kind,
                        "created": 0,
                        "model": body.get("model", "m"),
                        "choices": [choice],
                        "usage": usage,
                    },
                )

        return Handler


WORDS = [f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "po", "re", "su", "ti") for b in "bdfgkmprst"]


def synthetic_reply(prompt: str) -> str:
    """Deterministic, prompt-dependent replies that make the whole loop work.

    Instruction prompts get 3 novel instructions of random words (one containing 'classify');
    classification prompts answer Yes for tasks that mention 'classify'; instance prompts get
    two examples (labels for classification tasks).
    """
    rng = random.Random(hashlib.sha256(prompt.encode()).hexdigest())
    if prompt.startswith("Come up with a series of tasks:"):
        items = [" ".join(rng.sample(WORDS, 7)) + "." for _ in range(2)]
        items.append("Classify " + " ".join(rng.sample(WORDS, 6)) + ".")
        return " " + "\n".join(f"{9 + i}. {item}" if i else item for i, item in enumerate(items))
    if prompt.rstrip().endswith("Is it classification?"):
        task = prompt.rstrip().splitlines()[-2]
        return " Yes" if "classify" in task.lower() else " No"
    if prompt.startswith("Answer Yes if the task is classification"):  # the chat layout
        return "Yes" if "classify" in prompt.rstrip().splitlines()[-1].lower() else "No"
    word = rng.choice(WORDS)
    if prompt.startswith("You write one input"):  # the answer layout's first step
        return f"Input: {word} {rng.choice(WORDS)}"
    if prompt.startswith("You write one example"):  # the chat layout: one example per reply
        if "Class label:" in prompt:
            return f"Class label: {rng.choice(['Alpha', 'Beta'])}\nText: {word}"
        return f"Input: {word}\nOutput: {word} done"
    if "Class label:" in prompt:
        return f"Class label: Alpha\nText: {word} one\nClass label: Beta\nText: {word} two"
    return f"Example 1\nInput: {word}\nOutput: {word} done\nExample 2\nInput:\nOutput: plain {word}"
