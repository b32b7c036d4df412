"""Quality- and diversity-aware selection: the sampler's `select:` draw.

Rows are ranked best score first (`meta[select.by]`; unscored rows last; ties in seeded random
order). Without `diversity` the draw is the top of that ranking. With `method: greedy` rows
are kept in rank order unless too similar to a kept row (`mixtures/greedy.py`); with
`method: clusters` k-means on the same embedding makes the strata and the draw is even across
clusters, best first inside each (`mixtures/strata.py`'s allocation). Either way the record
holds the cluster histogram before and after, in the form the card shows for strata.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyarrow as pa

from filters.text import prompts_and_responses
from instances.scores import read_scores
from mixtures.embedding import embed_table
from mixtures.greedy import greedy_select
from mixtures.selection_spec import DiversitySpec, SelectSpec
from mixtures.strata import even_allocation


def rank_by_score(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Offsets into `scores` best first: higher score first, NaN last, ties in seeded order.

    >>> rank_by_score(np.array([1.0, np.nan, 3.0]), np.random.default_rng(0)).tolist()
    [2, 0, 1]
    """
    shuffled = rng.permutation(len(scores))
    keys = np.where(np.isnan(scores[shuffled]), np.inf, -scores[shuffled])
    return shuffled[np.argsort(keys, kind="stable")]


def cluster_labels(vectors: np.ndarray, k: int, seed: int) -> np.ndarray:
    """K-means cluster of each row (k capped at the row count), deterministic for `seed`."""
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    k = max(1, min(k, len(vectors)))
    if len(vectors) == 0:
        return np.zeros(0, dtype=np.int64)
    model = KMeans(n_clusters=k, n_init=1, random_state=seed, max_iter=100)
    with threadpool_limits(1):
        return model.fit_predict(vectors.astype(np.float64)).astype(np.int64)


def cluster_names(
    vectors: np.ndarray, labels: np.ndarray, prompts: list[str], words: int = 6
) -> list[str]:
    """A readable name per cluster: its number and the opening words of its most central prompt."""
    names = []
    for cluster in range(int(labels.max(initial=-1)) + 1):
        members = np.flatnonzero(labels == cluster)
        if not len(members):
            names.append(f"c{cluster:02d}")
            continue
        centre = vectors[members].mean(axis=0)
        central = members[int(np.argmax(vectors[members] @ centre))]
        opening = " ".join(prompts[central].split()[:words])
        names.append(f"c{cluster:02d} {opening}")
    return names


def _histogram(labels: np.ndarray, names: list[str]) -> dict[str, int]:
    counts = np.bincount(labels, minlength=len(names))
    return {names[c]: int(counts[c]) for c in range(len(names)) if counts[c]}


def _cluster_quota(
    labels: np.ndarray, ranked: np.ndarray, wanted: int, spec: DiversitySpec, seed: int
) -> np.ndarray:
    """Offsets drawn evenly across clusters, best first inside each (`ranked` is best first)."""
    sizes = {str(c): int(n) for c, n in enumerate(np.bincount(labels)) if n}
    rng = np.random.default_rng(seed)
    allocation = even_allocation(sizes, wanted, spec.cap, rng)
    taken = {cluster: 0 for cluster in sizes}
    picked = []
    for offset in ranked.tolist():
        cluster = str(labels[offset])
        if taken[cluster] < allocation[cluster]:
            taken[cluster] += 1
            picked.append(offset)
    return np.asarray(picked, dtype=np.int64)


def select_draw(
    table: pa.Table, positions: np.ndarray, spec: SelectSpec, wanted: int | None, seed: int
) -> tuple[np.ndarray, dict[str, Any], dict[str, Any]]:
    """Draw up to `wanted` of `positions` (all when None) as `spec` says (sorted result).

    Returns the drawn positions, the cluster histogram record (strata form: by, cap,
    quality_key, scored, before, after; None-free) and the selection record (method, bound,
    embedding settings, rows visited, near rows skipped, seconds).
    """
    started = time.perf_counter()
    part = table.take(pa.array(positions, pa.int64()))
    scores = read_scores(part, spec.by)
    ranked = rank_by_score(scores, np.random.default_rng(seed))
    target = len(positions) if wanted is None else min(wanted, len(positions))
    selection: dict[str, Any] = {"by": spec.by, "method": "top", "requested": target}
    diversity = spec.diversity
    if diversity is None:
        offsets = ranked[:target]
        strata = None
    else:
        embedding = embed_table(part, diversity.embedding, seed)
        labels = cluster_labels(embedding.vectors, diversity.clusters, seed)
        prompts, _ = prompts_and_responses(part)
        names = cluster_names(embedding.vectors, labels, prompts)
        if diversity.method == "greedy":
            offsets = greedy_select(embedding.distance, ranked, diversity.max_similarity, target)
            visited = len(ranked)  # all of them, unless the amount was reached earlier
            if len(offsets) == target and len(offsets):
                visited = int(np.flatnonzero(ranked == offsets[-1])[0]) + 1
            selection.update(
                max_similarity=diversity.max_similarity,
                visited=visited,
                skipped_near=visited - len(offsets),
            )
        else:
            offsets = _cluster_quota(labels, ranked, target, diversity, seed)
            selection.update(cap=diversity.cap)
        selection.update(
            method=diversity.method,
            clusters=len(names),
            embedding=diversity.embedding.model_dump(mode="json"),
        )
        strata = {
            "by": "cluster",
            "cap": diversity.cap if diversity.method == "clusters" else None,
            "quality_key": spec.by,
            "scored": int(np.isfinite(scores).sum()),
            "before": _histogram(labels, names),
            "after": _histogram(labels[offsets], names),
        }
    finite = scores[offsets][np.isfinite(scores[offsets])]
    selection.update(
        selected=int(len(offsets)),
        shortfall=int(target - len(offsets)),
        mean_score_before=_mean(scores),
        mean_score_after=round(float(finite.mean()), 4) if len(finite) else None,
        seconds=round(time.perf_counter() - started, 3),
    )
    return np.sort(positions[offsets]), strata or {}, selection


def _mean(scores: np.ndarray) -> float | None:
    finite = scores[np.isfinite(scores)]
    return round(float(finite.mean()), 4) if len(finite) else None


def quality_lock(reports: list[Any]) -> dict[str, Any]:
    """What the lock records of scores and selection: each score stage's scorer settings and
    each selection's method, bound and embedding settings (empty when neither ran)."""
    scores = {
        r.extras["score"]: r.extras.get("scorer")
        for r in reports
        if r.stage.startswith("score:") and "score" in r.extras
    }
    selections = {}
    for report in reports:
        if report.stage == "sample":
            for name, record in (report.extras.get("selection") or {}).items():
                selections[name] = {
                    k: record[k]
                    for k in ("by", "method", "max_similarity", "cap", "clusters", "embedding")
                    if k in record
                }
    return {k: v for k, v in {"scores": scores, "selection": selections}.items() if v}
