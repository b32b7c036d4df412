"""A loopback HTTP server that answers OpenAI-style requests from a script of faults.

`FaultyLLM(script)`: each request takes the next `(status, headers, body)` of `script` (the last
one repeats). A body of `HOLD` makes the request wait on `release` (an Event), to provoke
client timeouts without sleeping. Every request's headers are recorded.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOLD = "<hold>"
OK_BODY = json.dumps(
    {
        "id": "x",
        "object": "text_completion",
        "created": 0,
        "model": "m",
        "choices": [{"index": 0, "text": "fine", "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
)
JSON = {"Content-Type": "application/json"}


class FaultyLLM:
    """The server; a context manager with `.base_url` and `.requests` (headers of each)."""

    def __init__(self, script: list[tuple[int, dict[str, str], str]]) -> None:
        self.script = list(script)
        self.requests: list[dict[str, str]] = []
        self.release = threading.Event()
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with owner.lock:
                    owner.requests.append(dict(self.headers))
                    step = owner.script.pop(0) if len(owner.script) > 1 else owner.script[0]
                status, headers, body = step
                if body == HOLD:
                    owner.release.wait(30)
                    body = OK_BODY
                data = body.encode()
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (a timeout case)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The /v1 base URL."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FaultyLLM:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
