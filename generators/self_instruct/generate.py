"""Generator `self_instruct_pool`: the instances of a saved Self-Instruct run, as formatted rows.

Reads `pool.jsonl` of a run folder (one machine instruction per line, with its instances and
the reason each dropped instance was dropped). Kept instances become rows (origin
`self_instruct`); dropped ones come back as rejected rows with their reason.

Columns written: all of the schema; `meta` holds the generator model, sampling parameters,
in-context seed ids, max ROUGE-L, the most similar pool instructions and is_classification.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from instances import SourceError, StageResult, make_instance, make_table
from instances.context import StageContext
from instances.rejected import split_rows

STAGE = "self_instruct_instances"
POOL_FILE = "pool.jsonl"


class Config(BaseModel):
    """Instances from a Self-Instruct run folder (or its pool.jsonl)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["self_instruct_pool"] = "self_instruct_pool"
    path: Path = Field(description="a run folder written by `instructmix self-instruct`")
    license: str = Field("other", description="license of the generations (the model's terms)")
    most_similar: int = Field(5, ge=0, le=10, description="similar pool instructions in meta")


def pool_file(path: Path) -> Path:
    """The pool.jsonl of a run folder (or `path` itself when it is the file)."""
    path = Path(path)
    return path / POOL_FILE if path.is_dir() else path


def read_pool(path: Path) -> list[dict[str, Any]]:
    """The machine-instruction records of a run; errors name the file and line."""
    file = pool_file(path)
    if not file.is_file():
        raise SourceError(f"{file}: no Self-Instruct pool here (run `instructmix self-instruct`)")
    records = []
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise SourceError(f"{file}: line {number} is not valid JSON ({error.msg})") from error
        for key in ("instruction", "instances", "is_classification"):
            if key not in record:
                raise SourceError(f"{file}: line {number} lacks field {key!r}")
        records.append(record)
    return records


def user_turn(instruction: str, given: str) -> str:
    """The user message: the instruction, then the input after a blank line if any."""
    return f"{instruction}\n\n{given}" if given else instruction


def instance_rows(
    records: list[dict[str, Any]], license_: str = "other", most_similar: int = 5
) -> tuple[list[dict[str, Any]], list[str | None]]:
    """Formatted rows for every instance of `records`, and per row its drop reason (or None)."""
    rows, reasons = [], []
    for record in records:
        classification = bool(record["is_classification"])
        similar = list((record.get("most_similar") or {}).items())[:most_similar]
        meta = {
            "license": license_,
            "instruction_id": record.get("id"),
            "generator_model": record.get("model"),
            "sampling": record.get("sampling"),
            "in_context_ids": record.get("in_context", []),
            "in_context_seed_ids": [
                i for i in record.get("in_context", []) if not i.startswith("machine_")
            ],
            "max_rouge_l": record.get("max_rouge_l"),
            "most_similar": [{"instruction": t, "rouge_l": s} for t, s in similar],
            "is_classification": classification,
            "round": record.get("round"),
        }
        for instance in record["instances"]:
            messages = [
                {"role": "user", "content": user_turn(record["instruction"], instance["input"])},
                {"role": "assistant", "content": instance["output"]},
            ]
            rows.append(
                make_instance(
                    messages,
                    source="self_instruct",
                    origin="self_instruct",
                    task="classification" if classification else "generation",
                    category="classification" if classification else "generation",
                    template="self_instruct_output_first"
                    if classification
                    else "self_instruct_input_first",
                    meta=meta,
                )
            )
            reasons.append(instance.get("reason"))
    return rows, reasons


def generate(config: Config, ctx: StageContext) -> StageResult:
    """Formatted instances of a saved run; dropped instances rejected with their reasons."""
    started = time.perf_counter()
    rows, reasons = instance_rows(read_pool(config.path), config.license, config.most_similar)
    return split_rows(make_table(rows), STAGE, reasons, seconds=time.perf_counter() - started)


def inputs(config: Config, ctx: StageContext) -> list[Path]:
    """The pool file `generate` reads."""
    return [pool_file(config.path)]


def licenses(config: Config) -> list[str]:
    """Licenses of the rows: the configured one (the seeds themselves are Apache-2.0)."""
    return [config.license]
