"""Writing a finished run as a batch folder: pool, dropped candidates, funnel and statistics.

A batch folder (written whole by rename, never half) keeps one representation of its rows:

    pool.jsonl       the kept machine instructions (`state.MachineInstruction`), each with its
                     instances and the reason each dropped instance was dropped
    rejected.jsonl   the dropped candidate instructions with their reasons
    funnel.json      a list of stage reports, as a mixture's: instructions, then instances
    stats.json       the paper's statistics, per-round stats, token usage, stop reason, settings

Formatted rows are made from pool.jsonl by the `self_instruct_pool` generator.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from generators.self_instruct.state import MachineInstruction, RunState
from generators.self_instruct.statistics import paper_statistics
from instances import InstructmixError, Report
from instances.io import atomic_directory, write_text_atomic

INSTRUCTION_STAGE = "self_instruct_instructions"
INSTANCE_STAGE = "self_instruct_instances"
POOL_FILE = "pool.jsonl"
REJECTED_FILE = "rejected.jsonl"


def pool_records(state: RunState, model: str, sampling: dict) -> list[MachineInstruction]:
    """The machine instructions of `state` stamped with the generator model and sampling."""
    return [m.model_copy(update={"model": model, "sampling": sampling}) for m in state.instructions]


def funnel(state: RunState) -> list[Report]:
    """The run's funnel: the instruction stage, then the instance stage."""
    reasons = Counter(item.reason for item in state.rejected)
    instructions = Report(
        stage=INSTRUCTION_STAGE,
        rows_in=len(state.instructions) + len(state.rejected),
        rows_out=len(state.instructions),
        dropped_by_reason=dict(sorted(reasons.items())),
    )
    every = [i for m in state.instructions for i in m.instances]
    dropped = Counter(i.reason for i in every if i.reason is not None)
    instances = Report(
        stage=INSTANCE_STAGE,
        rows_in=len(every),
        rows_out=len(every) - sum(dropped.values()),
        dropped_by_reason=dict(sorted(dropped.items())),
    )
    return [instructions, instances]


def _jsonl(models: list) -> str:
    return "".join(m.model_dump_json(exclude_none=False) + "\n" for m in models)


def write_batch(
    state: RunState, out_dir: Path, *, model: str, sampling: dict, settings: dict
) -> dict[str, Any]:
    """Write the batch folder `out_dir` atomically; return its stats (also in stats.json)."""
    records = pool_records(state, model, sampling)
    reports = [report.model_dump(mode="json") for report in funnel(state)]
    stats = {
        "batch": state.batch,
        "paper_statistics": paper_statistics(records),
        "stopped": state.stopped,
        "rounds": [r.model_dump(mode="json") for r in state.rounds],
        "usage": state.usage,
        "settings": settings,
    }
    with atomic_directory(out_dir) as tmp:
        tmp.chmod(0o755)
        write_text_atomic(_jsonl(records), tmp / POOL_FILE)
        write_text_atomic(_jsonl(state.rejected), tmp / REJECTED_FILE)
        write_text_atomic(json.dumps(reports, indent=2) + "\n", tmp / "funnel.json")
        write_text_atomic(json.dumps(stats, indent=2, ensure_ascii=False), tmp / "stats.json")
    return {**stats, "funnel": reports}


def summary(stats: dict[str, Any], seconds: float) -> str:
    """A short human summary of a run of `seconds`: paper statistics, the rejection funnel, the
    requests, and the batch added."""
    paper = stats["paper_statistics"]
    lines = [
        f"instructions: {paper['instructions']} "
        f"({paper['classification_instructions']} classification)",
        f"instances: {paper['instances']} ({paper['instances_with_empty_input']} with empty input)",
        f"mean words: instruction {paper['mean_instruction_words']}, "
        f"non-empty input {paper['mean_nonempty_input_words']}, "
        f"output {paper['mean_output_words']}",
    ]
    for stage in stats["funnel"]:
        drops = ", ".join(f"{k} {v}" for k, v in stage["dropped_by_reason"].items()) or "none"
        lines.append(f"{stage['stage']}: {stage['rows_in']} -> {stage['rows_out']} ({drops})")
    usage = stats.get("usage", {})
    lines.append(
        f"requests {usage.get('requests', 0)}, cache hits {usage.get('cache_hits', 0)}, "
        f"tokens {usage.get('total_tokens', 0)}"
        + (f"; stopped early: {stats['stopped']}" if stats.get("stopped") else "")
    )
    lines.append(f"{batch_line(stats)} in {seconds:.1f} s")
    return "\n".join(lines)


def batch_line(stats: dict[str, Any]) -> str:
    """One line: which batch went into which collection, and what the batch kept."""
    paper = stats["paper_statistics"]
    return (
        f"batch {stats['batch']} added to {stats['collection']} ({stats['batches']} batches): "
        f"{paper['instructions']} instructions, {paper['instances']} instances"
    )


def empty_result(stats: dict[str, Any]) -> str | None:
    """One line naming the filters that took every row when a run kept no instance, else None.

    >>> print(empty_result({"funnel": [
    ...     {"stage": "self_instruct_instructions", "rows_in": 3, "rows_out": 2,
    ...      "dropped_by_reason": {"too_similar": 1}},
    ...     {"stage": "self_instruct_instances", "rows_in": 2, "rows_out": 0,
    ...      "dropped_by_reason": {"output_equals_input": 2}}]}))
    no instance kept: 2 generated instances of 2 instructions were dropped by output_equals_input 2
    """
    instructions, instances = stats["funnel"][0], stats["funnel"][-1]
    if instances["rows_out"]:
        return None

    def reasons(stage: dict) -> str:
        items = sorted(stage["dropped_by_reason"].items(), key=lambda kv: (-kv[1], kv[0]))
        return ", ".join(f"{k} {v}" for k, v in items) or "nothing (the model gave none)"

    if not instructions["rows_out"]:
        return (
            f"no instance kept: all {instructions['rows_in']} candidate instructions were "
            f"dropped by {reasons(instructions)}"
        )
    return (
        f"no instance kept: {instances['rows_in']} generated instances of "
        f"{instructions['rows_out']} instructions were dropped by {reasons(instances)}"
    )


class NoInstanceKept(InstructmixError):
    """A committed batch kept no instance: the message names the filters that took them and
    `stats` are the batch's stats."""

    def __init__(self, message: str, stats: dict[str, Any]) -> None:
        super().__init__(message)
        self.stats = stats

    def __reduce__(self) -> tuple:
        return type(self), (str(self), self.stats)


def require_instances(stats: dict[str, Any]) -> dict[str, Any]:
    """The stats of a committed batch, or `NoInstanceKept` when it kept no instance."""
    empty = empty_result(stats)
    if empty is not None:
        raise NoInstanceKept(f"{stats['collection']} batch {stats['batch']}: {empty}", stats)
    return stats
