"""Helpers for the pipeline tests: a small copy of two mirror files and a small recipe."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

MINI_FILES = {"codealpaca/code_alpaca_2k.json": 150, "lima/lima.json": 40}


def make_mini_mirror(mirror: Path, target: Path) -> Path:
    """Write the first rows of Code Alpaca and LIMA (JSON arrays) under `target`; return it."""
    for relative, rows in MINI_FILES.items():
        records = json.loads((mirror / relative).read_text(encoding="utf-8"))[:rows]
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf-8")
    return target


def mini_recipe(name: str = "mini", validation: float = 0.2) -> dict:
    """A recipe over the mini mirror: two sources, a dedup and a row-wise filter, a split."""
    return {
        "name": name,
        "seed": 11,
        "sources": [
            {
                "name": "code_alpaca",
                "generator": {"kind": "existing", "dataset": "code_alpaca"},
                "count": 60,
            },
            {"name": "lima", "generator": {"kind": "existing", "dataset": "lima"}, "count": 20},
        ],
        "filters": [
            {"kind": "exact_dedup", "source_priority": ["lima"]},
            {"kind": "length", "min_prompt_chars": 20, "max_response_chars": 3000},
        ],
        "split": {"validation": validation},
    }


def write_recipe(folder: Path, data: dict) -> Path:
    """Write recipe `data` as `folder/<name>.yaml` and return the path."""
    path = folder / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def parquet_files(folder: Path) -> dict[str, bytes]:
    """Every Parquet file under `folder`, by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.parquet"))}
