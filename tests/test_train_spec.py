"""The recipe's train: section: validation, and how it maps onto TRL's SFTConfig."""

from __future__ import annotations

from pathlib import Path

import pytest

from mixtures.recipe import RecipeError, load_recipe, parse_recipe
from train.config import loss_flags, resolve_bf16, to_sft_config
from train.model import peft_config
from train.spec import LoraSpec, TrainSpec

BASE = {
    "name": "x",
    "sources": [{"name": "lima", "generator": {"kind": "existing", "dataset": "lima"}}],
}


def test_demo_recipe_trains_the_tiny_model() -> None:
    spec = load_recipe("demo").train
    assert spec is not None and spec.base_model == "tiny" and spec.max_steps


def test_train_section_errors_name_the_field() -> None:
    with pytest.raises(RecipeError, match=r"field 'train\.lr': unknown field"):
        parse_recipe({**BASE, "train": {"lr": 1e-4}})
    with pytest.raises(RecipeError, match=r"field 'train\.loss'"):
        parse_recipe({**BASE, "train": {"loss": "prompt_only"}})
    with pytest.raises(RecipeError, match=r"multiple of tiny\.num_attention_heads"):
        parse_recipe({**BASE, "train": {"tiny": {"hidden_size": 66}}})
    assert parse_recipe(BASE).train is None


def test_sft_config_on_cpu_and_gpu(tmp_path: Path) -> None:
    spec = TrainSpec(max_steps=7, packing=True, gradient_accumulation=4, learning_rate=1e-4)
    cpu = to_sft_config(spec, output_dir=tmp_path, seed=3, data_format="messages", cuda=False)
    assert (cpu.bf16, cpu.use_cpu, cpu.activation_checkpointing) == (False, True, False)
    assert (cpu.max_steps, cpu.packing, cpu.packing_strategy) == (7, True, "bfd")
    assert (cpu.gradient_accumulation_steps, cpu.learning_rate, cpu.seed) == (4, 1e-4, 3)
    assert cpu.save_strategy == "no" and cpu.report_to == []
    assert resolve_bf16(spec, cuda=True) and not resolve_bf16(spec, cuda=False)
    assert not resolve_bf16(TrainSpec(bf16=False), cuda=True)
    epochs = to_sft_config(
        TrainSpec(epochs=2), output_dir=tmp_path, seed=0, data_format="messages", cuda=False
    )
    assert (epochs.max_steps, epochs.num_train_epochs) == (-1, 2)


@pytest.mark.parametrize(
    ("loss", "data_format", "assistant", "completion"),
    [
        ("assistant_only", "messages", True, None),
        ("assistant_only", "prompt_completion", True, False),
        ("completion_only", "prompt_completion", False, True),
        ("all", "messages", False, None),
        ("all", "prompt_completion", False, False),
    ],
)
def test_loss_flags(loss: str, data_format: str, assistant: bool, completion: bool | None) -> None:
    flags = loss_flags(TrainSpec(loss=loss), data_format)
    assert flags == {"assistant_only_loss": assistant, "completion_only_loss": completion}


def test_lora_config() -> None:
    assert peft_config(None) is None
    config = peft_config(LoraSpec(r=8, alpha=16, target_modules=["q_proj", "v_proj"]))
    assert (config.r, config.lora_alpha, sorted(config.target_modules)) == (
        8,
        16,
        ["q_proj", "v_proj"],
    )
