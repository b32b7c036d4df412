"""The score stage: writes a numeric score per row into `meta[name]`; it never drops a row.

The scorer is a config kind: `heuristic` (cheap signals of the quality filter), `llm_judge`
(an OpenAI-compatible endpoint rates each row on a rubric) or `reward_model` (a transformers
sequence-classification model). Rows a scorer cannot score keep no `meta[name]` and get
`meta[name_error]` with the reason instead; the `threshold` filter and the sampler read both.

Columns read: messages, meta. Columns written: meta. Report extras: `score` (the name), `scorer`
(the settings the lock records), `scored`, `unscored` (reason -> rows), `distribution` (per
recipe source: rows, mean and quantiles), and the scorer's own figures (`usage`).
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from filters.dispatch import Transformed, Verdicts
from filters.ranking import recipe_sources
from filters.scorers import heuristic, llm_judge, reward_model
from filters.text import prompts_and_responses
from instances.context import StageContext
from instances.scores import read_scores, write_scores

ScorerConfig = Annotated[
    heuristic.Config | llm_judge.Config | reward_model.Config, Field(discriminator="kind")
]
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


class Config(BaseModel):
    """`kind: score`: which scorer, and the meta key it writes (e.g. `quality`)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["score"] = "score"
    name: str = Field(
        default="quality", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="meta key written"
    )
    scorer: ScorerConfig = Field(default_factory=heuristic.Config)


def distribution(scores: np.ndarray, groups: list[str]) -> dict[str, dict[str, Any]]:
    """Per group (and `all`): rows scored, mean, min, max and quantiles of the finite scores.

    >>> distribution(np.array([1.0, 2.0, np.nan]), ["a", "a", "b"])["a"]["mean"]
    1.5
    """
    labels = np.array(groups, dtype=object)
    result: dict[str, dict[str, Any]] = {}
    for group in [*sorted(set(groups)), "all"]:
        values = scores if group == "all" else scores[labels == group]
        finite = values[np.isfinite(values)]
        entry: dict[str, Any] = {"rows": int(len(values)), "scored": int(len(finite))}
        if len(finite):
            entry.update(
                mean=round(float(finite.mean()), 4),
                min=round(float(finite.min()), 4),
                max=round(float(finite.max()), 4),
                quantiles={
                    f"p{round(q * 100)}": round(float(np.quantile(finite, q)), 4) for q in QUANTILES
                },
            )
        result[group] = entry
    return result


def run_scorer(
    prompts: list[str], responses: list[str], scorer: Any, ctx: StageContext
) -> tuple[list[float | None], list[str | None], dict[str, Any]]:
    """Dispatch on the scorer kind: (scores, reasons for the unscored, the scorer's figures)."""
    if scorer.kind == "heuristic":
        scores, reasons = heuristic.score(prompts, responses, scorer)
        return scores, reasons, {}
    if scorer.kind == "llm_judge":
        scores, reasons, usage = llm_judge.score(prompts, responses, scorer, ctx.cache_dir)
        return scores, reasons, {"usage": usage}
    return reward_model.score(prompts, responses, scorer)


def stage_name(config: Config) -> str:
    """The funnel's name for this stage: `score:<name>`."""
    return f"score:{config.name}"


def transform(table: pa.Table, config: Config, ctx: StageContext | None = None) -> Transformed:
    """Score every row of `table` into `meta[config.name]`; every row is kept."""
    ctx = ctx or StageContext()
    prompts, responses = prompts_and_responses(table)
    scores, reasons, figures = run_scorer(prompts, responses, config.scorer, ctx)
    scored = write_scores(table, config.name, scores, reasons)
    values = read_scores(scored, config.name)
    extras = {
        "score": config.name,
        "scorer": config.scorer.settings(),
        "scored": int(np.isfinite(values).sum()),
        "unscored": dict(sorted(Counter(r for r in reasons if r).items())),
        "distribution": distribution(values, recipe_sources(scored)),
        **figures,
    }
    return Transformed(scored, Verdicts.keep_all(scored.num_rows, extras))


def llm_slots(config: Any) -> int:
    """Requests a pipeline step keeps in flight to an LLM (its share of the `llm` concurrency
    limit the flow holds while it runs): an LLM judge's concurrency, 0 for everything else."""
    scorer = getattr(config, "scorer", None)
    return int(scorer.concurrency) if getattr(scorer, "kind", None) == "llm_judge" else 0
