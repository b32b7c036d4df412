"""The statistics table of the Self-Instruct paper (Wang et al. 2022, Table 1).

Over kept instances: instructions, classification / non-classification instructions,
instances, instances with an empty input, and the mean length in words (whitespace split) of
instructions, non-empty inputs and outputs. Computed for a collection (`paper_statistics`) or
for rows in the released format, one (instruction, input, output) per row
(`released_statistics`: the release does not say which tasks are classification).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from generators.self_instruct.state import MachineInstruction

# (key, label) in the paper's order
ROWS: tuple[tuple[str, str], ...] = (
    ("instructions", "instructions"),
    ("classification_instructions", "- classification instructions"),
    ("non_classification_instructions", "- non-classification instructions"),
    ("instances", "instances"),
    ("instances_with_empty_input", "- instances with empty input"),
    ("mean_instruction_words", "mean instruction length (words)"),
    ("mean_nonempty_input_words", "mean non-empty input length (words)"),
    ("mean_output_words", "mean output length (words)"),
)

# The paper's figures for its 52K GPT-3 generations, for comparison.
PAPER: dict[str, float] = {
    "instructions": 52445,
    "classification_instructions": 11584,
    "non_classification_instructions": 40861,
    "instances": 82439,
    "instances_with_empty_input": 35878,
    "mean_instruction_words": 15.9,
    "mean_nonempty_input_words": 12.7,
    "mean_output_words": 18.9,
}


def _mean_words(texts: Sequence[str]) -> float:
    return round(sum(len(t.split()) for t in texts) / len(texts), 2) if texts else 0.0


def _table(
    instructions: Sequence[str],
    classification: int | None,
    pairs: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    inputs = [given for given, _ in pairs if given.strip()]
    return {
        "instructions": len(instructions),
        "classification_instructions": classification,
        "non_classification_instructions": None
        if classification is None
        else len(instructions) - classification,
        "instances": len(pairs),
        "instances_with_empty_input": sum(1 for given, _ in pairs if not given.strip()),
        "mean_instruction_words": _mean_words(instructions),
        "mean_nonempty_input_words": _mean_words(inputs),
        "mean_output_words": _mean_words([answer for _, answer in pairs]),
    }


def paper_statistics(records: Iterable[MachineInstruction]) -> dict[str, Any]:
    """The paper's table over machine instructions and their kept instances.

    >>> from generators.self_instruct.state import InstanceRecord
    >>> r = MachineInstruction(id="m", instruction="Add two numbers.", is_classification=True,
    ...     instances=[InstanceRecord(input="1 2", output="3"), InstanceRecord(input="", output="x",
    ...     reason="too_long_text")])
    >>> s = paper_statistics([r]); (s["instances"], s["classification_instructions"])
    (1, 1)
    """
    records = list(records)
    pairs = [(i.input, i.output) for r in records for i in r.kept_instances()]
    return _table(
        [r.instruction for r in records], sum(r.is_classification for r in records), pairs
    )


def released_statistics(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The table for rows of (instruction, input, output), grouped by instruction text;
    classification counts are None (the release does not carry them)."""
    instructions = list(dict.fromkeys(str(row.get("instruction") or "") for row in rows))
    pairs = [(str(row.get("input") or ""), str(row.get("output") or "")) for row in rows]
    return _table(instructions, None, pairs)


def format_value(value: Any) -> str:
    """A table cell: thousands separators for counts, one decimal for means, n/a for None."""
    if value is None:
        return "n/a"
    return f"{value:,}" if isinstance(value, int) else f"{value:.1f}"


def statistics_table(stats: dict[str, Any], compare: dict[str, Any] | None = None) -> str:
    """The table as Markdown; with `compare`, a second column (e.g. the paper's figures)."""
    header = "| statistic | value |" + (" paper |" if compare else "")
    rule = "| --- | ---: |" + (" ---: |" if compare else "")
    lines = [header, rule]
    for key, label in ROWS:
        line = f"| {label} | {format_value(stats.get(key))} |"
        if compare:
            line += f" {format_value(compare.get(key))} |"
        lines.append(line)
    return "\n".join(lines)
