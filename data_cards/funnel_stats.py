"""Statistics a card reads from funnel.json alone: per-stage rows and reasons, the sampler's
draws, decontamination matches and the license ids generators reported."""

from __future__ import annotations

from typing import Any

DECONTAMINATION_STAGE = "decontaminate"
SAMPLE_STAGE = "sample"


def stage_report(funnel: list[dict], name: str) -> dict | None:
    """The report of stage `name` (or of its first `name:<part>`), or None when absent."""
    for report in funnel:
        if report.get("stage") == name or report.get("stage", "").startswith(f"{name}:"):
            return report
    return None


def sampling(funnel: list[dict]) -> list[dict[str, Any]]:
    """Per source, what the sampler had and drew: available, requested, selected, shortfall."""
    report = stage_report(funnel, SAMPLE_STAGE) or {}
    sources = (report.get("extras") or {}).get("sources") or {}
    return [
        {"source": name, **{k: v for k, v in record.items() if isinstance(v, int)}}
        for name, record in sources.items()
        if isinstance(record, dict)
    ]


def _benchmark_rows(benchmarks: Any) -> list[dict[str, Any]]:
    """Rows of the decontamination table from the stage's extras["benchmarks"]:
    {name: {"items", "phrase_items", "rows", "example"}} (the filters/decontaminate shape)."""
    if not isinstance(benchmarks, dict):
        return []
    rows = []
    for name, item in benchmarks.items():
        item = item if isinstance(item, dict) else {"rows": item}
        example = item.get("example")
        if isinstance(example, list | tuple):
            example = " ".join(str(part) for part in example)
        rows.append(
            {
                "benchmark": str(name),
                "checked": item.get("items"),
                "phrase_items": item.get("phrase_items"),
                "matches": int(item.get("rows") or 0),
                "example": example,
            }
        )
    return sorted(rows, key=lambda row: (-row["matches"], row["benchmark"]))


def decontamination(funnel: list[dict]) -> dict[str, Any] | None:
    """Per benchmark: rows dropped as contaminated and an example matching n-gram, from the
    `decontaminate` stage's extras; None when the recipe has no such stage."""
    report = stage_report(funnel, DECONTAMINATION_STAGE)
    if report is None:
        return None
    extras = report.get("extras") or {}
    rows = _benchmark_rows(extras.get("benchmarks"))
    settings = {
        k: v for k, v in extras.items() if k != "benchmarks" and isinstance(v, str | int | float)
    }
    return {
        "rows_in": report.get("rows_in", 0),
        "dropped": sum((report.get("dropped_by_reason") or {}).values()),
        "reasons": dict(
            sorted(
                (report.get("dropped_by_reason") or {}).items(),
                key=lambda item: (-item[1], item[0]),
            )
        ),
        "benchmarks": rows,
        "settings": settings,
    }


def funnel_rows(funnel: list[dict]) -> list[dict[str, Any]]:
    """The funnel for the card: per stage rows in/out, kept share, reasons (largest first) and,
    for a transform (PII masking), the rows it changed per kind (`extras.rows_changed`)."""
    rows = []
    for report in funnel:
        changed = (report.get("extras") or {}).get("rows_changed") or {}
        reasons = sorted(
            (report.get("dropped_by_reason") or {}).items(), key=lambda item: (-item[1], item[0])
        )
        rows_in = report.get("rows_in", 0)
        rows.append(
            {
                "stage": report.get("stage", "?"),
                "rows_in": rows_in,
                "rows_out": report.get("rows_out", 0),
                "kept": report.get("rows_out", 0) / rows_in if rows_in else 1.0,
                "reasons": [{"reason": r, "rows": n} for r, n in reasons],
                "changed": {str(k): n for k, n in changed.items() if isinstance(n, int) and n},
                "seconds": report.get("seconds", 0.0),
            }
        )
    return rows


def reported_license_ids(funnel: list[dict[str, Any]]) -> list[str]:
    """License ids that generators found in the data they read (`extras.license_ids`)."""
    found = set()
    for report in funnel:
        ids = (report.get("extras") or {}).get("license_ids") or []
        found.update(str(license_id) for license_id in ids)
    return sorted(found)
