"""Generators: turn each kind of source into formatted instances.

Every generator module exports a pydantic `Config` (with a `kind` literal), `generate(config,
ctx) -> StageResult` and `inputs(config, ctx) -> list[Path]` (the mirror files it reads, for
the manifest). `registry.py` gathers them for recipes. Generators import only `instances/`.
"""
