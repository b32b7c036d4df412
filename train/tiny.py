"""A tiny Llama built from config, with a byte-level BPE tokenizer trained on the mixture itself.

Used when a recipe says `base_model: tiny`: it trains in seconds on a CPU, so tests and demos run
the real SFT code path end to end. Also home of `CHATML_TEMPLATE`, the ChatML chat template whose
assistant turns sit inside `{% generation %}` markers (end-of-turn token included), which
TRL's assistant-only loss needs.

    >>> tokenizer = train_tokenizer(["hello world"] * 10, vocab_size=300)
    >>> model = tiny_llama(tokenizer, TinyModelSpec(), max_length=128, seed=0)
    >>> model.config.model_type, tokenizer.eos_token == IM_END
    ('llama', True)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from train.spec import TinyModelSpec

IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
PAD = "<|pad|>"
BOS = "<|endoftext|>"
SPECIAL_TOKENS = [BOS, PAD, IM_START, IM_END]

# ChatML with the assistant's content and end-of-turn token inside {% generation %} markers, so
# `return_assistant_tokens_mask` marks exactly the tokens the model must learn to produce.
CHATML_TEMPLATE = (
    "{%- for message in messages -%}"
    "{{- '<|im_start|>' + message['role'] + '\\n' -}}"
    "{%- if message['role'] == 'assistant' -%}"
    "{% generation %}{{- message['content'] + '<|im_end|>' -}}{% endgeneration %}"
    "{{- '\\n' -}}"
    "{%- else -%}"
    "{{- message['content'] + '<|im_end|>\\n' -}}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}"
)


def mixture_texts(rows: Iterable[dict[str, Any]], limit: int = 20_000) -> Iterator[str]:
    """Yield the text of up to `limit` rows (messages or prompt/completion) to train a tokenizer."""
    for index, row in enumerate(rows):
        if index >= limit:
            return
        if "messages" in row:
            turns = row["messages"]
        else:
            turns = []
            for key in ("prompt", "completion"):
                value = row[key]
                turns.extend(value if isinstance(value, list) else [{"role": "", "content": value}])
        yield "\n".join(f"{turn['role']}\n{turn['content']}" for turn in turns)


def train_tokenizer(texts: Iterable[str], vocab_size: int = 2048) -> Any:
    """Train a byte-level BPE tokenizer on `texts`; return a transformers tokenizer with ChatML.

    The tokenizer's eos is `<|im_end|>` (end of an assistant turn), its pad `<|pad|>`, and its
    chat template `CHATML_TEMPLATE`. Byte-level, so it can encode any text without unknowns.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=BOS,
        eos_token=IM_END,
        pad_token=PAD,
        model_max_length=1_000_000,
    )
    tokenizer.chat_template = CHATML_TEMPLATE
    return tokenizer


def tiny_llama(tokenizer: Any, shape: TinyModelSpec, *, max_length: int, seed: int) -> Any:
    """Build a randomly initialised `LlamaForCausalLM` of `shape` sized to `tokenizer` (seeded)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=shape.hidden_size,
        intermediate_size=shape.intermediate_size,
        num_hidden_layers=shape.num_hidden_layers,
        num_attention_heads=shape.num_attention_heads,
        num_key_value_heads=shape.num_attention_heads,
        max_position_embeddings=max(max_length, 128),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model
