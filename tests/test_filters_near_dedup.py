"""Near dedup: planted near duplicates found, best row kept, pairs verified, shards agree."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from curation_rows import check_balanced, row, table
from pydantic import ValidationError

from benchmarks.near_dedup import shingles, truth_pairs
from filters import minhash, near_dedup
from filters.components import components
from filters.registry import run_filter

BASE = (
    "Write a short story about a lighthouse keeper who discovers a message in a bottle "
    "that was thrown into the sea fifty years ago by his own grandfather"
)
OTHERS = [
    "Explain how photosynthesis converts sunlight water and carbon dioxide into glucose",
    "List five practical tips for improving sleep quality during a busy work week",
    "Translate the following sentence into French and explain the grammar used in it",
    "Describe the rules of chess for a complete beginner in fewer than two hundred words",
]


def _near(text: str, drop: int) -> str:
    words = text.split()
    return " ".join(words[:drop] + words[drop + 1 :])  # one word deleted


def test_planted_near_duplicates_are_rejected_and_the_best_row_kept():
    rows = [
        row(BASE, source="alpaca"),
        row(OTHERS[0]),
        row(_near(BASE, 5), source="lima"),  # lima wins by source priority
        row(OTHERS[1]),
        row(_near(BASE, 20), source="alpaca", meta={"score": 9}),
        row(OTHERS[2]),
        row(OTHERS[3]),
    ]
    config = near_dedup.Config(ngram=2, threshold=0.8, source_priority=["lima", "alpaca"])
    result = run_filter(table(rows), config)
    check_balanced(result, len(rows))
    kept = result.kept.column("id").to_pylist()
    assert kept == [rows[i]["id"] for i in (1, 2, 3, 5, 6)]
    assert result.rejected.column("id").to_pylist() == [rows[0]["id"], rows[4]["id"]]
    assert result.rejected.column("reject_reason").to_pylist() == ["near_duplicate"] * 2
    assert result.rejected.column("reject_stage").to_pylist() == ["near_dedup"] * 2
    assert result.rejected.column("duplicate_of").to_pylist() == [rows[2]["id"]] * 2
    assert result.report.extras["clusters"] == 1


def test_quality_then_position_break_ties_within_a_source():
    rows = [
        row(BASE, meta={"score": 1}),
        row(_near(BASE, 3), meta={"score": 5}),
        row(_near(BASE, 9), meta={"score": 5}),
    ]
    config = near_dedup.Config(ngram=2, quality_key="score")
    result = run_filter(table(rows), config)
    assert result.kept.column("id").to_pylist() == [rows[1]["id"]]
    assert result.rejected.column("duplicate_of").to_pylist() == [rows[1]["id"]] * 2


def test_verification_removes_candidates_below_the_threshold():
    # Forced into one bucket (1 band of 1 row): only verification can tell them apart.
    rows = [row(BASE), row(OTHERS[0]), row(OTHERS[1])]
    loose = near_dedup.Config(bands=1, rows_per_band=1, num_perm=8, verify="none")
    strict = loose.model_copy(update={"verify": "jaccard"})
    assert run_filter(table(rows), strict).kept.num_rows == 3
    for verify in ("jaccard", "rapidfuzz"):
        config = near_dedup.Config(ngram=1, verify=verify)
        result = run_filter(table([row(BASE), row(_near(BASE, 4)), row(OTHERS[0])]), config)
        assert result.report.dropped_by_reason == {"near_duplicate": 1}, verify


def test_rows_without_words_are_never_near_duplicates():
    rows = [row("?!", "..."), row("...", "!!"), row(BASE)]
    result = run_filter(table(rows), near_dedup.Config(fields="prompt"))
    check_balanced(result, 3)
    assert result.kept.num_rows == 3


def test_sharded_parallel_run_matches_single_process():
    rng = random.Random(3)
    vocabulary = [f"w{i}" for i in range(400)]
    texts = [" ".join(rng.choice(vocabulary) for _ in range(60)) for _ in range(220)]
    texts += [_near(t, 7) for t in texts[:40]]
    rows = [row(t) for t in texts]
    single = run_filter(table(rows), near_dedup.Config(shard_size=100, workers=1))
    for executor in ("thread", "process"):
        config = near_dedup.Config(shard_size=100, workers=2, executor=executor)
        parallel = run_filter(table(rows), config)
        assert single.kept.column("id").to_pylist() == parallel.kept.column("id").to_pylist()
        assert (
            single.rejected.column("duplicate_of").to_pylist()
            == parallel.rejected.column("duplicate_of").to_pylist()
        )
    assert single.report.dropped_by_reason == {"near_duplicate": 40}


def test_config_rejects_bands_that_do_not_fit():
    with pytest.raises(ValidationError, match="exceeds num_perm"):
        near_dedup.Config(num_perm=64, bands=10, rows_per_band=10)
    with pytest.raises(ValidationError, match="both bands and rows_per_band"):
        near_dedup.Config(bands=4)


def test_minhash_estimate_tracks_exact_jaccard():
    rng = random.Random(0)
    vocabulary = [f"w{i}" for i in range(2000)]
    left, right = [], []
    for _ in range(200):
        words = [rng.choice(vocabulary) for _ in range(80)]
        edited = list(words)
        for _ in range(rng.randint(2, 30)):
            edited[rng.randrange(80)] = rng.choice(vocabulary)
        left.append(" ".join(words))
        right.append(" ".join(edited))
    sets = minhash.shingle_sets(left + right, 2)
    exact = np.array([minhash.jaccard(sets[i], sets[200 + i]) for i in range(200)])
    hashes, offsets = minhash.shingle_hashes(left + right, 2)
    signature = minhash.signatures(hashes, offsets, 256)
    estimate = (signature[:200] == signature[200:]).mean(axis=1)
    assert abs(float((estimate - exact).mean())) < 0.01
    assert float(np.abs(estimate - exact).max()) < 0.15


def test_short_texts_are_one_shingle_and_words_are_normalised():
    hashes, offsets = minhash.shingle_hashes(["", "Ａ b", "a B", "a b c d"], 3)
    assert offsets.tolist() == [0, 0, 1, 2, 4]
    assert hashes[0] == hashes[1]  # NFKC and case folded before hashing


def test_components_label_with_the_smallest_node():
    assert components(6, [(4, 5), (1, 4), (2, 3)]).tolist() == [0, 1, 2, 2, 1, 1]


def test_ground_truth_join_equals_brute_force():
    rng = random.Random(1)
    vocabulary = [f"w{i}" for i in range(25)]
    texts = [
        " ".join(rng.choice(vocabulary) for _ in range(rng.randint(1, 12))) for _ in range(250)
    ]
    for ngram, threshold in ((1, 0.5), (1, 0.8), (2, 0.6)):
        sets = [set(shingles(t, ngram)) for t in texts]
        expected = {
            (i, j)
            for i, j in itertools.combinations(range(len(texts)), 2)
            if sets[i] and len(sets[i] & sets[j]) / len(sets[i] | sets[j]) >= threshold
        }
        assert set(truth_pairs(texts, ngram, threshold)) == expected


def test_empty_table_passes_through():
    from instances import empty_table

    result = run_filter(empty_table(), near_dedup.Config())
    check_balanced(result, 0)
