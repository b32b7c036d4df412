"""SFT end to end on the CPU with the tiny Llama: loss falls, the saved model generates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generators import existing
from instances import write_parquet_atomic
from instances.context import StageContext
from train.run import TrainError, prepare, train_mixture
from train.spec import LoraSpec, TinyModelSpec, TrainSpec
from train.tiny import tiny_llama, train_tokenizer

RECIPE_HASH = "0123456789abcdef"


@pytest.fixture(scope="module")
def alpaca_mixture(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    """A built-mixture folder of 240 Stanford Alpaca rows from the mirror (+ a manifest)."""
    config = existing.Config(kind="existing", dataset="stanford_alpaca")
    table = existing.generate(config, StageContext(mirror=mirror)).kept
    folder = tmp_path_factory.mktemp("mixtures") / "alpaca_small"
    write_parquet_atomic(table.slice(0, 240), folder / "data" / "train-00000-of-00001.parquet")
    write_parquet_atomic(
        table.slice(240, 16), folder / "data" / "validation-00000-of-00001.parquet"
    )
    manifest = {"recipe_hash": RECIPE_HASH, "name": "alpaca_small"}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


FAST = {
    "base_model": "tiny",
    "tiny": {"vocab_size": 512},
    "max_length": 96,
    "learning_rate": 1e-2,
    "lr_scheduler": "constant",
    "per_device_batch_size": 4,
    "logging_steps": 1,
}


def test_tiny_model_loss_falls_and_saved_model_generates(
    alpaca_mixture: Path, tmp_path: Path
) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = TrainSpec.model_validate({**FAST, "max_steps": 30})
    out = tmp_path / "model"
    result = train_mixture(
        alpaca_mixture,
        spec,
        name="alpaca_small",
        output_dir=out,
        cache_dir=tmp_path / "cache",
        show_progress=False,
    )
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    losses = [point["loss"] for point in metrics["train_loss"]]
    assert result.steps == 30 and len(losses) == 30
    # From ln(512) = 6.24 at random init; the unigram floor of this data is near 5.2.
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.4, losses
    assert metrics["recipe_hash"] == RECIPE_HASH and result.eval_loss is not None
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "alpaca_small" in card and RECIPE_HASH in card and card.startswith("---\n")
    preflight = json.loads((out / "preflight.json").read_text(encoding="utf-8"))
    assert preflight["lengths"]["rows"] == 240
    assert not list(tmp_path.glob(".model.*"))  # no temporary folder left behind

    tokenizer = AutoTokenizer.from_pretrained(out)
    model = AutoModelForCausalLM.from_pretrained(out)
    prompt = [{"role": "user", "content": "Give three tips for staying healthy."}]
    inputs = tokenizer.apply_chat_template(
        prompt, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    generated = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    assert generated.shape[1] > inputs["input_ids"].shape[1]


def test_lora_with_packing_trains_and_saves_an_adapter(
    alpaca_mixture: Path, tmp_path: Path
) -> None:
    spec = TrainSpec.model_validate(
        {**FAST, "max_steps": 3, "packing": True, "lora": LoraSpec(r=4, alpha=8).model_dump()}
    )
    out = tmp_path / "lora"
    result = train_mixture(
        alpaca_mixture, spec, name="a", output_dir=out, cache_dir=tmp_path, show_progress=False
    )
    assert result.steps == 3
    assert (out / "adapter_config.json").is_file()
    assert "library_name: peft" in (out / "README.md").read_text(encoding="utf-8")


def test_markerless_local_model_is_refused_before_training(
    alpaca_mixture: Path, tmp_path: Path
) -> None:
    prepared = prepare(alpaca_mixture, TrainSpec.model_validate(FAST), tmp_path)
    tokenizer = prepared.tokenizer
    tokenizer.chat_template = (
        "{% for m in messages %}{{ m['role'] + ': ' + m['content'] + '<|im_end|>' }}"
        "{% endfor %}{% if add_generation_prompt %}{{ 'assistant: ' }}{% endif %}"
    )
    base = tmp_path / "base"
    tiny_llama(tokenizer, TinyModelSpec(), max_length=128, seed=0).save_pretrained(base)
    tokenizer.save_pretrained(base)

    spec = TrainSpec.model_validate({**FAST, "base_model": str(base), "max_steps": 2})
    out = tmp_path / "refused"
    with pytest.raises(TrainError, match=r"(?s)pre-flight check blocks.*chat_template: chatml"):
        train_mixture(alpaca_mixture, spec, name="a", output_dir=out, cache_dir=tmp_path)
    assert not out.exists()

    fixed = spec.model_copy(update={"chat_template": "chatml"})
    assert not prepare(alpaca_mixture, fixed, tmp_path).report.blocking


def test_tokenizer_is_byte_level_and_round_trips() -> None:
    tokenizer = train_tokenizer(["hello world, hello tokenizer"] * 20, vocab_size=300)
    text = "unseen wörds ✓ 123"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text
    assert tokenizer.eos_token == "<|im_end|>"
