"""The typed state of a Self-Instruct run, shared by the bootstrap loop, the batch writer,
the collection and the flow.

A `RunState` is what a run has done so far: its kept machine instructions (each with its
instances and their drop reasons), the dropped candidates, per-round stats, token usage and why
it stopped. It is saved after every completed round (the resume file) and becomes a batch of a
collection when the run ends. `MachineInstruction` is also the line format of `pool.jsonl`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from instances import InstructmixError

STATE_VERSION = 2
StopReason = Literal["token_budget", "max_rounds", "no_progress"]


class InstanceRecord(BaseModel):
    """One generated (input, output) pair and why it was dropped (None: kept)."""

    model_config = ConfigDict(extra="forbid")

    input: str
    output: str
    reason: str | None = None


class MachineInstruction(BaseModel):
    """A kept machine instruction with its provenance and instances (one pool.jsonl line)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="machine_<batch>_<n>: unique within a collection")
    instruction: str
    batch: str = ""
    round: int = 0
    request: int = 0
    in_context: list[str] = Field(default_factory=list, description="ids of the prompt's items")
    max_rouge_l: float = 0.0
    avg_rouge_l: float = 0.0
    most_similar: dict[str, float] = Field(default_factory=dict)
    is_classification: bool = False
    instances: list[InstanceRecord] = Field(default_factory=list)
    instance_reply_truncated: bool = False
    model: str | None = None
    sampling: dict | None = None

    def kept_instances(self) -> list[InstanceRecord]:
        """The instances no filter dropped."""
        return [instance for instance in self.instances if instance.reason is None]


class RejectedInstruction(BaseModel):
    """A candidate instruction a filter dropped, with the reason."""

    model_config = ConfigDict(extra="forbid")

    text: str
    reason: str
    round: int
    request: int
    in_context: list[str] = Field(default_factory=list)
    max_rouge_l: float | None = None
    most_similar: dict[str, float] | None = None


class RoundStats(BaseModel):
    """What one round did."""

    model_config = ConfigDict(extra="forbid")

    round: int
    prompts: int
    items: int
    kept: int
    rejected_by_reason: dict[str, int]
    classification: int
    instances_kept: int
    pool: int
    tokens: int
    seconds: float


class RunState(BaseModel):
    """A run's progress; `fingerprint` ties a saved state to the settings that made it."""

    model_config = ConfigDict(extra="forbid")

    version: int = STATE_VERSION
    fingerprint: str
    batch: str = ""
    rounds_done: int = 0
    instructions: list[MachineInstruction] = Field(default_factory=list)
    rejected: list[RejectedInstruction] = Field(default_factory=list)
    rounds: list[RoundStats] = Field(default_factory=list)
    usage: dict[str, int] = Field(default_factory=dict)
    stopped: StopReason | None = None
    seeds: int = 0
    index_rebuilt: bool = Field(False, description="the novelty index was rebuilt, not loaded")

    def summary(self) -> str:
        """One line: the batch, instructions kept, rounds, why it stopped, the novelty index."""
        index = "rebuilt" if self.index_rebuilt else "loaded"
        return (
            f"batch {self.batch}: {len(self.instructions)} instructions in {self.rounds_done} "
            f"rounds (stopped: {self.stopped}; novelty index {index})"
        )

    def save(self, path: Path) -> None:
        """Write the state atomically to `path` (JSON)."""
        from instances.io import write_text_atomic

        write_text_atomic(self.model_dump_json(), path)


def load_state(path: Path, fingerprint: str, batch: str = "") -> RunState:
    """The saved state at `path` (a new one if absent); it must belong to the same settings."""
    if not path.is_file():
        return RunState(fingerprint=fingerprint, batch=batch)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InstructmixError(f"{path}: state file is not valid JSON ({error.msg})") from error
    if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION:
        raise InstructmixError(
            f"{path}: state file of another version; delete it to start the batch over"
        )
    if raw.get("fingerprint") != fingerprint:
        raise InstructmixError(
            f"{path}: state file belongs to a run with other settings; delete it to start over"
        )
    try:
        return RunState.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InstructmixError(f"{path}: state file field {where}: {first['msg']}") from error
