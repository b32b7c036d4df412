"""Task caching: keys from small descriptors (spec JSON, input file sha256, code), not tables.

A generated source is reused when its spec, the bytes of every input file it reads and the code
that generates it are unchanged; change any of them and the source is rebuilt. Results are
pickled (Arrow tables pickle) into `<cache_dir>/prefect-results`, one file per key.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from prefect.cache_policies import TASK_SOURCE, CacheKeyFnPolicy, CachePolicy
from prefect.context import TaskRunContext

from generators.registry import generator_inputs
from instances.sources import file_sha256

RESULTS_FOLDER = "prefect-results"
_PACKAGE = Path(__file__).resolve().parents[1]
# Code a generated source depends on besides its generator module: tagging and validation.
_SHARED_CODE = (
    "mixtures/build.py",
    "mixtures/eval_splits.py",
    "mixtures/sampling.py",
    "mixtures/select.py",
    "instances/schema.py",
    "instances/rejected.py",
)

_file_hashes: dict[tuple[str, int, int], str] = {}


def results_dir(cache_dir: Path) -> Path:
    """Where task results (and their cache records) are stored under `cache_dir`."""
    return Path(cache_dir).resolve() / RESULTS_FOLDER


def cached_sha256(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) within this process."""
    stat = Path(path).stat()
    key = (str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _file_hashes:
        _file_hashes[key] = file_sha256(Path(path))
    return _file_hashes[key]


def code_files(config: Any) -> list[Path]:
    """The source files whose text decides what generator `config` produces.

    The generator's module (its whole package when it lives in a sub-package) plus shared code.
    """
    module = sys.modules[type(config).__module__]
    origin = Path(module.__file__).resolve()
    files = {origin}
    if origin.parent != _PACKAGE / "generators":
        files.update(origin.parent.rglob("*.py"))
    files.update(_PACKAGE / name for name in _SHARED_CODE if (_PACKAGE / name).is_file())
    return sorted(files)


def code_version(config: Any) -> str:
    """sha256 over the text of `code_files(config)`."""
    digest = hashlib.sha256()
    for path in code_files(config):
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def source_descriptor(spec: Any, ctx: Any) -> dict[str, Any]:
    """The small, JSON-able description of one source's generation that its cache key hashes."""
    inputs = generator_inputs(spec.generator, ctx)
    return {
        "spec": spec.model_dump(mode="json"),
        "mirror": str(ctx.mirror) if ctx.mirror is not None else None,
        "seed": ctx.seed,
        "inputs": {str(p): cached_sha256(Path(p)) for p in sorted(map(str, inputs))},
        "code": code_version(spec.generator),
    }


def source_cache_key(task_ctx: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Cache key of a generate-source task run: sha256 of its descriptor's canonical JSON."""
    descriptor = source_descriptor(parameters["spec"], parameters["ctx"])
    canonical = json.dumps(descriptor, sort_keys=True, separators=(",", ":"))
    return "source-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


SOURCE_CACHE: CachePolicy = TASK_SOURCE + CacheKeyFnPolicy(cache_key_fn=source_cache_key)
"""Rebuild a source when the task's code, its spec, its input files or its generator change."""
