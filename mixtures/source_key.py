"""The cache key of a generated source: a small descriptor (spec, input file sha256, code), never
the rows. A source whose spec, input bytes and generator code are unchanged gives the same key,
so its rows can be reused; change any of them and the key changes.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

from generators.registry import generator_inputs
from instances.checksums import file_sha256

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
