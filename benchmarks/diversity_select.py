"""Diversity-aware selection: our blocked greedy against the row-by-row greedy reference.

Data: every Stanford Alpaca row of the mirror, topped up to `--rows` with planted near
duplicates (a seeded pick of rows copied with about 10% of their words edited). Rows are
scored with the heuristic scorer and embedded with the recipe default (hashed word n-gram
TF-IDF reduced to 128 dimensions with randomized SVD); both selections visit rows in the same
best-first order and keep a row unless its cosine to a kept row exceeds `--bound`, until
`--amount` rows are kept.

- agreement: both selections on a seeded 5,000-row sample (no amount: every row visited)
  must be identical, and so must the full-size selections.
- time and memory at full size: wall time of each selection and its peak traced allocation
  (tracemalloc, numpy arrays included) on top of the vectors both share, BLAS limited to
  `--threads` threads for both (default 1: on a shared machine a multi-threaded BLAS call per
  row mostly measures thread start-up). Also reported: our greedy on the exact sparse TF-IDF
  cosines (what recipes use), and the size of the all-pairs similarity matrix that distilabel's
  DEITA filtering would build.

    python -m benchmarks.diversity_select [--rows 100000] [--amount 10000] [--bound 0.9]

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks import default_mirror
from filters.scorers import heuristic
from filters.text import prompts_and_responses
from generators import existing
from instances.context import StageContext
from mixtures.diversity import rank_by_score
from mixtures.embedding import hashed_tfidf
from mixtures.greedy import greedy_reference, greedy_select
from mixtures.selection_spec import EmbeddingSpec


def edited(text: str, rng: random.Random) -> str:
    """`text` with about 10% of its words deleted, duplicated or swapped with a neighbour."""
    words = text.split()
    for _ in range(max(1, len(words) // 10)):
        if len(words) < 3:
            break
        i = rng.randrange(len(words) - 1)
        action = rng.choice(("delete", "repeat", "swap"))
        if action == "delete":
            del words[i]
        elif action == "repeat":
            words.insert(i, words[i])
        else:
            words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def load_pairs(rows: int, seed: int) -> tuple[list[str], list[str]]:
    """Prompts and responses: all Stanford Alpaca rows, then planted near copies up to `rows`."""
    ctx = StageContext(mirror=default_mirror())
    table = existing.generate(existing.Config(dataset="stanford_alpaca"), ctx).kept
    prompts, responses = prompts_and_responses(table)
    rng = random.Random(seed)
    while len(prompts) < rows:
        source = rng.randrange(len(table))
        prompts.append(edited(prompts[source], rng))
        responses.append(edited(responses[source], rng))
    return prompts[:rows], responses[:rows]


def measured(run: Callable[[], np.ndarray]) -> tuple[np.ndarray, float, float]:
    """Run `run`: its result, wall seconds and peak traced allocation (MiB)."""
    tracemalloc.start()
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--amount", type=int, default=10_000)
    parser.add_argument("--bound", type=float, default=0.9)
    parser.add_argument("--sample", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(args.threads):
        print(json.dumps(run(args)))


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Load, score, embed, then both selections: the figures of the last line."""
    started = time.perf_counter()
    prompts, responses = load_pairs(args.rows, args.seed)
    scores, _ = heuristic.score(prompts, responses, heuristic.Config())
    score_seconds = time.perf_counter() - started
    started = time.perf_counter()
    embedding = hashed_tfidf(prompts, EmbeddingSpec(), args.seed)
    embed_seconds = time.perf_counter() - started
    vectors = embedding.vectors
    order = rank_by_score(np.array(scores, dtype=float), np.random.default_rng(args.seed))

    sample = np.sort(np.random.default_rng(args.seed).choice(args.rows, args.sample, False))
    sample_order = order[np.isin(order, sample)]
    ours_sample = greedy_select(vectors, sample_order, args.bound)
    reference_sample = greedy_reference(vectors, sample_order, args.bound)
    print(
        f"sample of {args.sample}: ours kept {len(ours_sample)}, reference {len(reference_sample)}"
    )

    ours, ours_s, ours_peak = measured(
        lambda: greedy_select(vectors, order, args.bound, args.amount)
    )
    print(f"ours: {len(ours)} kept in {ours_s:.2f}s, peak {ours_peak:.1f} MiB")
    reference, reference_s, reference_peak = measured(
        lambda: greedy_reference(vectors, order, args.bound, args.amount)
    )
    print(f"reference: {len(reference)} kept in {reference_s:.2f}s, peak +{reference_peak:.1f} MiB")
    sparse, sparse_s, sparse_peak = measured(
        lambda: greedy_select(embedding.distance, order, args.bound, args.amount)
    )
    visited = int(np.flatnonzero(order == ours[-1])[0]) + 1 if len(ours) else 0
    figures: dict[str, Any] = {
        "bench": "diversity_select",
        "rows": args.rows,
        "amount": args.amount,
        "bound": args.bound,
        "dims": int(vectors.shape[1]),
        "score_s": round(score_seconds, 2),
        "embed_s": round(embed_seconds, 2),
        "sample_rows": args.sample,
        "sample_identical": bool(np.array_equal(ours_sample, reference_sample)),
        "sample_kept": int(len(ours_sample)),
        "identical": bool(np.array_equal(ours, reference)),
        "visited": visited,
        "skipped_near": visited - int(len(ours)),
        "ours_s": round(ours_s, 3),
        "reference_s": round(reference_s, 3),
        "time_ratio": round(reference_s / ours_s, 2) if ours_s else None,
        "ours_peak_mib": round(ours_peak, 1),
        "reference_peak_mib": round(reference_peak, 1),
        "memory_ratio": round(reference_peak / ours_peak, 2) if ours_peak else None,
        "ours_sparse_tfidf_s": round(sparse_s, 3),
        "ours_sparse_tfidf_peak_mib": round(sparse_peak, 1),
        "ours_sparse_tfidf_kept": int(len(sparse)),
        "all_pairs_matrix_gib": round(args.rows**2 * 4 / 2**30, 1),
        "threads": args.threads,
    }
    return figures


if __name__ == "__main__":
    main()
