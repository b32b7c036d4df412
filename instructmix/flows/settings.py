"""Settings read at the edge (CLI), from options and the environment, then passed down."""

from __future__ import annotations

import os
from pathlib import Path

from instructmix.instances import SourceError


def resolve_mirror(option: str | None) -> Path | None:
    """The mirror folder from --mirror or INSTRUCTMIX_MIRROR; None means download from the Hub."""
    value = option or os.environ.get("INSTRUCTMIX_MIRROR") or None
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_dir():
        raise SourceError(
            f"mirror folder {path} does not exist (from --mirror or INSTRUCTMIX_MIRROR)"
        )
    return path.resolve()
