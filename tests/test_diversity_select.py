"""Quality- and diversity-aware selection: greedy near-pair rule, cluster quotas, strata order."""

from __future__ import annotations

import random

import numpy as np
import pytest
from curation_rows import row, table
from pydantic import ValidationError

from filters import score
from filters.registry import run_filter
from instances.scores import read_scores, write_scores
from mixtures import greedy
from mixtures.diversity import quality_lock, select_draw
from mixtures.recipe import SourceSpec, StratifySpec, parse_recipe
from mixtures.sampling import sample_sources, tag_recipe_source
from mixtures.selection_spec import DiversitySpec, SelectSpec
from mixtures.strata import stratified_draw

WORDS = [f"{a}{b}{c}" for a in "bdgkmp" for b in "aeiou" for c in "lnrst"]


def sentence(rng: random.Random, n: int = 14) -> str:
    return " ".join(rng.sample(WORDS, n))


def near_pair_rows() -> tuple[list[dict], list[tuple[int, int]]]:
    """10 pairs of prompts that differ in one word, and 20 unrelated prompts."""
    rng = random.Random(7)
    rows, pairs = [], []
    for _ in range(10):
        words = sentence(rng).split()
        twin = list(words)
        twin[3] = "zzz"
        pairs.append((len(rows), len(rows) + 1))
        rows += [row(" ".join(words), "an answer"), row(" ".join(twin), "an answer")]
    rows += [row(sentence(rng), "an answer") for _ in range(20)]
    return rows, pairs


def scored_table(rows: list[dict], seed: int = 3):
    values = np.random.default_rng(seed).permutation(len(rows)).astype(float).tolist()
    return tag_recipe_source(write_scores(table(rows), "quality", values), "s")


GREEDY = SelectSpec(by="quality", diversity=DiversitySpec(method="greedy", max_similarity=0.6))


def test_greedy_keeps_exactly_the_higher_scored_of_each_near_pair() -> None:
    rows, pairs = near_pair_rows()
    data = scored_table(rows)
    scores = read_scores(data, "quality")
    picked, record, selection = select_draw(data, np.arange(data.num_rows), GREEDY, None, 0)
    kept = set(picked.tolist())
    for a, b in pairs:
        assert len(kept & {a, b}) == 1
        assert (a if scores[a] > scores[b] else b) in kept
    assert set(range(20, 40)) <= kept  # unrelated rows are all kept
    assert selection["skipped_near"] == 10 and selection["selected"] == 30
    assert sum(record["before"].values()) == 40 and sum(record["after"].values()) == 30
    assert record["by"] == "cluster" and record["quality_key"] == "quality"


def test_greedy_fills_the_amount_best_first() -> None:
    rows, _ = near_pair_rows()
    data = scored_table(rows)
    scores = read_scores(data, "quality")
    picked, _, selection = select_draw(data, np.arange(data.num_rows), GREEDY, 5, 0)
    assert len(picked) == 5 and selection["shortfall"] == 0
    best = sorted(picked.tolist(), key=lambda p: -scores[p])
    assert scores[best[0]] == scores.max()
    assert selection["mean_score_after"] > selection["mean_score_before"]


def test_blocked_greedy_equals_the_row_by_row_reference(monkeypatch) -> None:
    monkeypatch.setattr(greedy, "BLOCK", 64)
    monkeypatch.setattr(greedy, "CHUNK", 100)
    rng = np.random.default_rng(0)
    base = rng.normal(size=(1500, 24))
    vectors = np.concatenate([base, base[:600] + 0.3 * rng.normal(size=(600, 24))])
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    order = rng.permutation(len(vectors))
    for limit in (None, 700):
        ours = greedy.greedy_select(vectors, order, 0.85, limit)
        reference = greedy.greedy_reference(vectors, order, 0.85, limit)
        assert ours.tolist() == reference.tolist()
    assert len(greedy.greedy_select(vectors, order, 0.85)) < len(vectors)  # pairs were found


def test_cluster_quotas_draw_evenly_and_best_first() -> None:
    rng = random.Random(1)
    topics = [sentence(rng, 6) for _ in range(3)]
    rows = [row(f"{topics[i % 3]} {sentence(rng, 3)}", "ok") for i in range(30)]
    data = scored_table(rows)
    scores = read_scores(data, "quality")
    spec = SelectSpec(diversity=DiversitySpec(method="clusters", clusters=3))
    picked, record, _ = select_draw(data, np.arange(30), spec, 6, 0)
    assert sorted(record["after"].values()) == [2, 2, 2]
    assert sorted(record["before"].values()) == [10, 10, 10]
    for topic in topics:
        members = [i for i in range(30) if rows[i]["messages"][0]["content"].startswith(topic)]
        best_two = sorted(members, key=lambda i: -scores[i])[:2]
        assert set(best_two) <= set(picked.tolist())


def test_selection_is_deterministic_and_locked() -> None:
    rows, _ = near_pair_rows()
    data = scored_table(rows)
    spec = SourceSpec(name="s", generator={"kind": "existing", "dataset": "lima"}, count=12)
    spec = spec.model_copy(update={"select": GREEDY})
    first, report = sample_sources(data, [spec], seed=5)
    second, _ = sample_sources(data, [spec], seed=5)
    assert first.column("id").to_pylist() == second.column("id").to_pylist()
    assert first.num_rows == 12
    lock = quality_lock([report])
    assert lock["selection"]["s"]["embedding"]["kind"] == "hashed_tfidf"
    assert lock["selection"]["s"]["max_similarity"] == 0.6
    assert report.extras["strata"]["s"]["by"] == "cluster"


def test_quality_first_ordering_inside_strata_now_changes_the_draw() -> None:
    rng = random.Random(2)
    rows = []
    for index in range(40):
        answer = (
            "A careful, complete answer that explains the reasoning step by step. " * 6
            if index < 10
            else "no"
        )
        rows.append(row(sentence(rng), answer) | {"category": f"c{index % 2}"})
    data = table(rows)
    scored = run_filter(data, score.Config(name="quality"), None).kept
    spec = StratifySpec(by="category", cap=5)
    positions = np.arange(40)
    unscored, _ = stratified_draw(data, positions, spec, 10, np.random.default_rng(0))
    by_quality, record = stratified_draw(scored, positions, spec, 10, np.random.default_rng(0))
    assert set(unscored.tolist()) != set(by_quality.tolist())
    assert set(by_quality.tolist()) == set(range(10))  # the five best of each category
    assert record["scored"] == 40


def test_select_and_stratify_on_one_source_are_refused() -> None:
    with pytest.raises(ValidationError, match="stratify or select"):
        SourceSpec(
            name="s",
            generator={"kind": "existing", "dataset": "lima"},
            stratify={"by": "task"},
            select={"by": "quality"},
        )
    recipe = parse_recipe(
        {
            "name": "r",
            "sources": [{"name": "s", "generator": {"kind": "existing", "dataset": "lima"}}],
            "filters": [{"kind": "score", "name": "quality"}, {"kind": "threshold", "min": 0.3}],
            "total": 10,
            "select": {"by": "quality", "diversity": {"method": "clusters", "clusters": 4}},
        }
    )
    assert recipe.select is not None and recipe.select.diversity.clusters == 4


def test_encoder_embedding_from_a_local_transformers_model(tmp_path) -> None:
    from tiny_models import tiny_classifier

    from mixtures.embedding import embed_table
    from mixtures.selection_spec import EmbeddingSpec

    rows, _ = near_pair_rows()
    texts = [r["messages"][0]["content"] for r in rows]
    path = tiny_classifier(tmp_path / "enc", texts)
    spec = EmbeddingSpec(kind="encoder", model=str(path), batch_size=8)
    embedding = embed_table(table(rows), spec, 0)
    assert embedding.vectors.shape == (40, 16)
    assert np.allclose(np.linalg.norm(embedding.vectors, axis=1), 1.0, atol=1e-5)
    assert embedding.distance is embedding.vectors
    data = scored_table(rows)
    # a random model's vectors are all alike: clusters, not a similarity bound, spread the draw
    encoder_select = SelectSpec(
        diversity=DiversitySpec(method="clusters", clusters=3, embedding=spec)
    )
    picked, record, selection = select_draw(data, np.arange(40), encoder_select, 9, 0)
    assert len(picked) == 9 and selection["embedding"]["kind"] == "encoder"
    assert sum(record["after"].values()) == 9 and len(record["before"]) == 3
    with pytest.raises(ValidationError, match="needs model"):
        EmbeddingSpec(kind="encoder")
