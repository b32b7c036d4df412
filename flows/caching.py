"""Task caching: keys from small descriptors (spec JSON, input file sha256, code), not tables.

A generated source is reused when its spec, the bytes of every input file it reads and the code
that generates it are unchanged; change any of them and the source is rebuilt. Results are
pickled (Arrow tables pickle) into `<cache_dir>/prefect-results`, one file per key.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from prefect.cache_policies import TASK_SOURCE, CacheKeyFnPolicy, CachePolicy
from prefect.context import TaskRunContext

from mixtures.source_key import source_descriptor

RESULTS_FOLDER = "prefect-results"


def results_dir(cache_dir: Path) -> Path:
    """Where task results (and their cache records) are stored under `cache_dir`."""
    return Path(cache_dir).resolve() / RESULTS_FOLDER


def source_cache_key(task_ctx: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Cache key of a generate-source task run: sha256 of its descriptor's canonical JSON."""
    descriptor = source_descriptor(parameters["spec"], parameters["ctx"])
    canonical = json.dumps(descriptor, sort_keys=True, separators=(",", ":"))
    return "source-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


SOURCE_CACHE: CachePolicy = TASK_SOURCE + CacheKeyFnPolicy(cache_key_fn=source_cache_key)
"""Rebuild a source when the task's code, its spec, its input files or its generator change."""
