"""The explicit context a stage runs in: where the mirror is, the seed, caches, progress."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class StageContext(BaseModel):
    """Settings every stage may need, passed down explicitly (stages read no environment).

    `mirror` is a local copy of the public data laid out like ../shared/data; None means
    download from the Hugging Face Hub.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mirror: Path | None = None
    seed: int = 0
    cache_dir: Path | None = None
    show_progress: bool = False
