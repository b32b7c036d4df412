"""The seed pool: the 175 human-written Self-Instruct tasks (mirror, Hub, or a user file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from instances import SourceError
from instances.sources import PublicSource, load_rows, read_file

SEED_SOURCE = PublicSource(
    name="self_instruct_seeds",
    hub_id="yizhongw/self_instruct",
    mirror_path="self_instruct/seed_tasks.jsonl",
    format="jsonl",
    license="apache-2.0",
)


class SeedTask(BaseModel):
    """One seed task: id, instruction, its (input, output) instances, whether it classifies."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    instruction: str
    instances: tuple[tuple[str, str], ...]
    is_classification: bool


def _seed(row: dict, index: int, where: str) -> SeedTask:
    instruction = row.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        raise SourceError(f"{where}: seed {index}: field 'instruction' must be a non-empty string")
    raw_instances = row.get("instances") or []
    if not isinstance(raw_instances, list):
        raise SourceError(f"{where}: seed {index}: field 'instances' must be a list")
    pairs = []
    for number, item in enumerate(raw_instances):
        if not isinstance(item, dict) or not isinstance(item.get("output"), str):
            raise SourceError(f"{where}: seed {index}: instances[{number}] needs a string 'output'")
        pairs.append((str(item.get("input") or ""), item["output"]))
    return SeedTask(
        id=str(row.get("id") or f"seed_task_{index}"),
        instruction=instruction,
        instances=tuple(pairs),
        is_classification=bool(row.get("is_classification", False)),
    )


def load_seeds(mirror: Path | None, seed_file: Path | None = None) -> list[SeedTask]:
    """The seed tasks from `seed_file` (JSONL) if given, else the mirror, else the Hub."""
    if seed_file is not None:
        rows, where = read_file(Path(seed_file), "jsonl"), str(seed_file)
    else:
        rows = load_rows(SEED_SOURCE, mirror)
        where = str(SEED_SOURCE.mirror_file(mirror)) if mirror else SEED_SOURCE.hub_id
    seeds = [_seed(row, index, where) for index, row in enumerate(rows)]
    if len(seeds) < 8:
        raise SourceError(f"{where}: {len(seeds)} seed tasks; at least 8 are needed for a prompt")
    return seeds


def seed_path(mirror: Path | None, seed_file: Path | None = None) -> Path | None:
    """The local seed file a run reads (for sha256 locks), or None when it reads the Hub."""
    if seed_file is not None:
        return Path(seed_file)
    return SEED_SOURCE.mirror_file(mirror) if mirror is not None else None
