"""The card's quality-score section: each score's distribution per source, pool and mixture.

The pool's distribution comes from the score stage's report in the funnel (every row scored,
before thresholds and selection); the mixture's from the rows' `meta` in the built splits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from data_cards.stats import row_labels
from filters.score import distribution
from instances.scores import read_scores


def score_stages(funnel: list[dict]) -> list[dict]:
    """The funnel's score stage reports (stage `score:<name>`), in pipeline order."""
    return [r for r in funnel if str(r.get("stage", "")).startswith("score:")]


def score_sections(funnel: list[dict], tables: dict[str, pa.Table]) -> list[dict[str, Any]]:
    """Per score: its name, scorer settings and rows per source with the pool's and the
    mixture's mean and quartiles (`[{"name", "scorer", "rows": [{"source", "pool", "mixture"}]}]`).
    """
    sections = []
    for report in score_stages(funnel):
        extras = report.get("extras") or {}
        name = extras.get("score")
        if not name:
            continue
        pool = extras.get("distribution") or {}
        scores = np.concatenate([read_scores(t, name) for t in tables.values()] or [np.zeros(0)])
        labels = [label for t in tables.values() for label in row_labels(t)]
        mixture = distribution(scores, labels) if len(labels) else {}
        sources = [s for s in pool if s != "all"] + sorted(set(mixture) - set(pool) - {"all"})
        rows = [
            {"source": source, "pool": pool.get(source) or {}, "mixture": mixture.get(source) or {}}
            for source in [*sources, "all"]
        ]
        sections.append(
            {
                "name": name,
                "scorer": extras.get("scorer") or {},
                "unscored": extras.get("unscored") or {},
                "rows": rows,
            }
        )
    return sections


def selections(funnel: list[dict]) -> list[dict[str, Any]]:
    """The sampler's quality/diversity selections: per source (or "mixture") its method,
    bound, rows requested/visited/selected, near rows skipped, mean score before and after."""
    sample = next((r for r in funnel if r.get("stage") == "sample"), None) or {}
    records = (sample.get("extras") or {}).get("selection") or {}
    return [{"name": name, **record} for name, record in records.items()]
