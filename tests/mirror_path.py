"""Where tests find the public-data mirror: INSTRUCTMIX_MIRROR, else shared/data beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIRROR = Path(os.environ.get("INSTRUCTMIX_MIRROR") or REPO.parent / "shared" / "data")
