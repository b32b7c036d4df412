"""Generator `self_instruct_pool`: the instances of a Self-Instruct collection, as formatted rows.

`{kind: self_instruct_pool, collection: NAME}` reads every committed batch of the collection
`<root>/NAME` (root: `artifacts/self_instruct`); `path:` reads a collection folder, one batch
folder or one pool.jsonl. Kept instances become rows (origin `self_instruct`); dropped ones come
back as rejected rows with their reason. With `missing_ok`, a collection that does not exist yet
gives no rows (a recipe can name a collection a schedule grows).

Columns written: all of the schema; `meta` holds the generator model, sampling parameters,
in-context (seed) ids, max ROUGE-L, the most similar pool instructions, is_classification and
the batch. The report's extras carry the paper's statistics table (`self_instruct_statistics`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from generators.self_instruct import collection as coll
from generators.self_instruct.output import INSTANCE_STAGE, POOL_FILE
from generators.self_instruct.state import MachineInstruction
from generators.self_instruct.statistics import paper_statistics
from instances import SourceError, StageResult, make_instance, make_table
from instances.context import StageContext
from instances.rejected import split_rows

STAGE = INSTANCE_STAGE


class Config(BaseModel):
    """Instances from a Self-Instruct collection (by name) or a folder/file of one."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["self_instruct_pool"] = "self_instruct_pool"
    collection: str | None = Field(None, description="collection NAME under `root`")
    root: Path = Field(coll.DEFAULT_ROOT, description="folder of collections")
    path: Path | None = Field(None, description="a collection folder, batch folder or pool.jsonl")
    missing_ok: bool = Field(False, description="no rows (not an error) while it does not exist")
    license: str = Field("other", description="license of the generations (the model's terms)")
    most_similar: int = Field(5, ge=0, le=10, description="similar pool instructions in meta")

    @model_validator(mode="after")
    def _one_location(self) -> Config:
        if (self.collection is None) == (self.path is None):
            raise ValueError("give exactly one of `collection` (a name) or `path`")
        return self

    def location(self) -> Path:
        """The folder or file this source reads."""
        if self.path is not None:
            return Path(self.path)
        return coll.collection_path(self.collection or "", self.root)


def pool_files(config: Config) -> list[Path]:
    """The pool.jsonl files the source reads ([] for a missing collection with missing_ok)."""
    where = config.location()
    if where.is_file():
        return [where]
    if coll.is_collection(where):
        return coll.pool_files(where)
    if (where / POOL_FILE).is_file():
        return [where / POOL_FILE]
    if config.missing_ok:
        return []
    raise SourceError(
        f"{where}: no Self-Instruct collection or pool here (run `instructmix self-instruct`)"
    )


def read_pool(config: Config) -> list[MachineInstruction]:
    """Every machine instruction the source covers, batch by batch."""
    return [record for file in pool_files(config) for record in coll.read_pool_file(file)]


def user_turn(instruction: str, given: str) -> str:
    """The user message: the instruction, then the input after a blank line if any."""
    return f"{instruction}\n\n{given}" if given else instruction


def instance_rows(
    records: list[MachineInstruction], license_: str = "other", most_similar: int = 5
) -> tuple[list[dict[str, Any]], list[str | None]]:
    """Formatted rows for every instance of `records`, and per row its drop reason (or None)."""
    rows, reasons = [], []
    for record in records:
        classification = record.is_classification
        similar = list(record.most_similar.items())[:most_similar]
        meta = {
            "license": license_,
            "instruction_id": record.id,
            "batch": record.batch,
            "generator_model": record.model,
            "sampling": record.sampling,
            "in_context_ids": record.in_context,
            "in_context_seed_ids": [i for i in record.in_context if not i.startswith("machine_")],
            "max_rouge_l": record.max_rouge_l,
            "most_similar": [{"instruction": t, "rouge_l": s} for t, s in similar],
            "is_classification": classification,
            "round": record.round,
        }
        for instance in record.instances:
            messages = [
                {"role": "user", "content": user_turn(record.instruction, instance.input)},
                {"role": "assistant", "content": instance.output},
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
            reasons.append(instance.reason)
    return rows, reasons


def generate(config: Config, ctx: StageContext) -> StageResult:
    """Formatted instances of every batch; dropped instances rejected with their reasons."""
    started = time.perf_counter()
    records = read_pool(config)
    rows, reasons = instance_rows(records, config.license, config.most_similar)
    result = split_rows(make_table(rows), STAGE, reasons, seconds=time.perf_counter() - started)
    extras = {
        **result.report.extras,
        "self_instruct_statistics": paper_statistics(records),
        "self_instruct_location": str(config.location()),
    }
    return StageResult(
        result.kept, result.rejected, result.report.model_copy(update={"extras": extras})
    )


def inputs(config: Config, ctx: StageContext) -> list[Path]:
    """The pool files `generate` reads."""
    return pool_files(config)


def licenses(config: Config) -> list[str]:
    """Licenses of the rows: the configured one (the seeds themselves are Apache-2.0)."""
    return [config.license]
