"""Writing a finished run: instances, rejected rows, pool, funnel and the paper's statistics.

A run folder (written whole by rename, never half):

    instances.parquet   kept instances (formatted rows, origin self_instruct)
    rejected.parquet    dropped instructions and instances, each with stage and reason
    pool.jsonl          the machine instructions with metadata and instances (the generator's input)
    funnel.json         per stage: rows in, rows out, dropped by reason
    stats.json          the paper's statistics, per-round stats, token usage, stop reason
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa

from generators.self_instruct.generate import instance_rows
from instances import Report, make_instance, make_table
from instances.io import atomic_directory, write_parquet_atomic, write_text_atomic
from instances.rejected import mark_rejected, split_rows

INSTRUCTION_STAGE = "self_instruct_instructions"


def pool_records(state: dict[str, Any], model: str, sampling: dict) -> list[dict[str, Any]]:
    """The machine instructions of `state` as pool.jsonl records."""
    return [
        {"model": model, "sampling": sampling, "is_classification": False, "instances": [], **m}
        for m in state["instructions"]
    ]


def _words(texts: list[str]) -> float:
    return round(sum(len(t.split()) for t in texts) / len(texts), 2) if texts else 0.0


def paper_statistics(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The statistics table of the Self-Instruct paper, over kept instances."""
    kept = [(r, i) for r in records for i in r["instances"] if i.get("reason") is None]
    inputs = [i["input"] for _, i in kept if i["input"]]
    return {
        "instructions": len(records),
        "classification_instructions": sum(bool(r["is_classification"]) for r in records),
        "non_classification_instructions": sum(not r["is_classification"] for r in records),
        "instances": len(kept),
        "instances_with_empty_input": sum(1 for _, i in kept if not i["input"]),
        "mean_instruction_words": _words([r["instruction"] for r in records]),
        "mean_nonempty_input_words": _words(inputs),
        "mean_output_words": _words([i["output"] for _, i in kept]),
    }


def _rejected_instructions(state: dict[str, Any]) -> tuple[pa.Table, Report]:
    rows, reasons = [], []
    for item in state["rejected"]:
        meta = {k: v for k, v in item.items() if k not in ("text", "reason")}
        messages = [
            {"role": "user", "content": item["text"] or "(empty)"},
            {"role": "assistant", "content": ""},
        ]
        rows.append(
            make_instance(
                messages,
                source="self_instruct",
                origin="self_instruct",
                task="instruction_generation",
                category="self_instruct",
                template="self_instruct_instruction",
                meta=meta,
            )
        )
        reasons.append(item["reason"])
    table = mark_rejected(make_table(rows), INSTRUCTION_STAGE, reasons)
    report = Report(
        stage=INSTRUCTION_STAGE,
        rows_in=len(state["instructions"]) + len(reasons),
        rows_out=len(state["instructions"]),
        dropped_by_reason=dict(sorted(Counter(reasons).items())),
    )
    return table, report


def write_run(
    state: dict[str, Any], out_dir: Path, *, model: str, sampling: dict, settings: dict
) -> dict[str, Any]:
    """Write the run folder `out_dir` atomically; return its stats (also in stats.json)."""
    records = pool_records(state, model, sampling)
    rows, reasons = instance_rows(records)
    result = split_rows(make_table(rows), "self_instruct_instances", reasons)
    rejected_instructions, instruction_report = _rejected_instructions(state)
    rejected = pa.concat_tables([rejected_instructions, result.rejected])
    funnel = {
        "stages": [
            instruction_report.model_dump(mode="json"),
            result.report.model_dump(mode="json"),
        ]
    }
    stats = {
        "paper_statistics": paper_statistics(records),
        "stopped": state.get("stopped"),
        "rounds": state["rounds"],
        "usage": state.get("usage", {}),
        "settings": settings,
    }
    with atomic_directory(out_dir) as tmp:
        write_parquet_atomic(result.kept, tmp / "instances.parquet")
        write_parquet_atomic(rejected, tmp / "rejected.parquet")
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        write_text_atomic("".join(line + "\n" for line in lines), tmp / "pool.jsonl")
        write_text_atomic(json.dumps(funnel, indent=2), tmp / "funnel.json")
        write_text_atomic(json.dumps(stats, indent=2, ensure_ascii=False), tmp / "stats.json")
    return {**stats, "funnel": funnel}


def summary(stats: dict[str, Any]) -> str:
    """A short human summary of a run: paper statistics and the rejection funnel."""
    paper = stats["paper_statistics"]
    lines = [
        f"instructions: {paper['instructions']} "
        f"({paper['classification_instructions']} classification)",
        f"instances: {paper['instances']} ({paper['instances_with_empty_input']} with empty input)",
        f"mean words: instruction {paper['mean_instruction_words']}, "
        f"non-empty input {paper['mean_nonempty_input_words']}, "
        f"output {paper['mean_output_words']}",
    ]
    for stage in stats["funnel"]["stages"]:
        drops = ", ".join(f"{k} {v}" for k, v in stage["dropped_by_reason"].items()) or "none"
        lines.append(f"{stage['stage']}: {stage['rows_in']} -> {stage['rows_out']} ({drops})")
    usage = stats.get("usage", {})
    lines.append(
        f"requests {usage.get('requests', 0)}, cache hits {usage.get('cache_hits', 0)}, "
        f"tokens {usage.get('total_tokens', 0)}"
        + (f"; stopped early: {stats['stopped']}" if stats.get("stopped") else "")
    )
    return "\n".join(lines)
