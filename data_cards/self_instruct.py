"""The Self-Instruct statistics section of a card: the paper's table for every source that
reads a Self-Instruct collection (`self_instruct_pool`), taken from that source's funnel report.
"""

from __future__ import annotations

from typing import Any

from generators.self_instruct.statistics import ROWS, format_value

EXTRA = "self_instruct_statistics"


def self_instruct_sections(funnel: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per Self-Instruct source in the funnel: its name, location and the table's rows.

    >>> self_instruct_sections([{"stage": "generate:si", "extras": {"self_instruct_statistics":
    ...     {"instructions": 3, "mean_output_words": 2.25}, "self_instruct_location": "x"}}])
    ... # doctest: +ELLIPSIS
    [{'source': 'si', 'location': 'x', 'rows': [{'label': 'instructions', 'value': '3'}, ...]}]
    """
    sections = []
    for stage in funnel:
        table = (stage.get("extras") or {}).get(EXTRA)
        if not table:
            continue
        sections.append(
            {
                "source": str(stage.get("stage", "")).removeprefix("generate:"),
                "location": stage["extras"].get("self_instruct_location", ""),
                "rows": [
                    {"label": label, "value": format_value(table.get(key))} for key, label in ROWS
                ],
            }
        )
    return sections
