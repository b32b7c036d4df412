"""Benchmarks: `python -m benchmarks.<name>`, each against a named baseline, last line JSON."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def default_mirror() -> Path:
    """The public-data mirror: INSTRUCTMIX_MIRROR, else shared/data beside the repository."""
    return Path(os.environ.get("INSTRUCTMIX_MIRROR") or REPO.parent / "shared" / "data")
