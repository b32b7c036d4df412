"""Benchmark: the Self-Instruct novelty gate, ours (`NoveltyIndex`) against the original's way.

Baseline: `rouge_score.rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)` and
`scorer.score(candidate, pool_instruction)` for every pool instruction, mapped over a
`multiprocessing.Pool`, as the Self-Instruct pipeline did (one persistent pool of
`--processes` workers here, which is kinder to the baseline than the original's new pool per
candidate).

Pool: the first 10,000 Stanford Alpaca instructions (mirror). Candidates, in two sets of 200:
`alpaca_next` (the next 200 Alpaca instructions; Alpaca was built with this gate, so they pass)
and `rejection_mix` (100 word-edited copies of pool instructions and 100 Self-Instruct GPT-3
generations from the mirror). Each set starts from the 10,000-instruction pool; kept candidates
join the pool as in the original. A candidate is rejected when its max ROUGE-L F is above 0.7.

Reports per set the seconds and candidates/s of both, the speed ratio, and the agreement of
keep/reject decisions and of the full score vectors (must be 1.0). Last line: one JSON object.

    python -m benchmarks.rouge_gate [--pool 10000] [--candidates 200] [--baseline-limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from functools import partial
from multiprocessing import Pool
from pathlib import Path

from rouge_score import rouge_scorer

from benchmarks import default_mirror
from generators.self_instruct.novelty import NoveltyIndex

THRESHOLD = 0.7


def _mirror() -> Path:
    return default_mirror()


def word_edit(text: str, rng: random.Random, vocabulary: list[str]) -> str:
    """A copy of `text` with one or two words replaced, deleted or inserted."""
    words = text.split()
    for _ in range(rng.choice((1, 2))):
        position = rng.randrange(len(words))
        action = rng.choice(("replace", "delete", "insert"))
        if action == "replace":
            words[position] = rng.choice(vocabulary)
        elif action == "delete" and len(words) > 4:
            del words[position]
        else:
            words.insert(position, rng.choice(vocabulary))
    return " ".join(words)


def load_sets(pool_size: int, per_set: int, seed: int) -> tuple[list[str], dict[str, list[str]]]:
    """The pool and the two candidate sets (deterministic for `seed`)."""
    mirror = _mirror()
    alpaca = json.loads((mirror / "stanford_alpaca" / "alpaca_data.json").read_text("utf-8"))
    instructions = [row["instruction"] for row in alpaca]
    pool = instructions[:pool_size]
    rng = random.Random(seed)
    vocabulary = sorted({w for text in pool[:2000] for w in text.split() if w.isalpha()})
    edited = [word_edit(rng.choice(pool), rng, vocabulary) for _ in range(per_set // 2)]
    generations = json.loads(
        (mirror / "self_instruct" / "gpt3_generations_sample_1000.json").read_text("utf-8")
    )
    machine = [row["instruction"] for row in generations[: per_set - len(edited)]]
    mix = edited + machine
    rng.shuffle(mix)
    sets = {
        "alpaca_next": instructions[pool_size : pool_size + per_set],
        "rejection_mix": mix,
    }
    return pool, sets


def run_ours(pool: list[str], candidates: list[str]) -> tuple[float, list[list[float]]]:
    """Seconds and per-candidate score vectors of our gate (index build included)."""
    started = time.perf_counter()
    index = NoveltyIndex(pool)
    vectors = []
    for candidate in candidates:
        scores = index.scores(candidate)
        vectors.append(scores.tolist())
        if scores.max() <= THRESHOLD:
            index.add(candidate)
    return time.perf_counter() - started, vectors


def run_baseline(
    pool: list[str], candidates: list[str], processes: int
) -> tuple[float, list[list[float]]]:
    """Seconds and score vectors of rouge_score in a process pool, the original's way."""
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    pool = list(pool)
    vectors = []
    started = time.perf_counter()
    with Pool(processes) as workers:
        for candidate in candidates:
            scores = workers.map(partial(scorer.score, candidate), pool)
            vector = [score["rougeL"].fmeasure for score in scores]
            vectors.append(vector)
            if max(vector) <= THRESHOLD:
                pool.append(candidate)
    return time.perf_counter() - started, vectors


def compare(ours: list[list[float]], theirs: list[list[float]]) -> dict[str, float]:
    """Agreement of decisions and of whole score vectors over the candidates both scored."""
    pairs = list(zip(ours, theirs, strict=False))
    decisions = sum((max(a) > THRESHOLD) == (max(b) > THRESHOLD) for a, b in pairs)
    vectors = sum(a == b for a, b in pairs)
    return {"decision_agreement": decisions / len(pairs), "score_agreement": vectors / len(pairs)}


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and print per-set lines, then one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=10_000)
    parser.add_argument("--candidates", type=int, default=200, help="per set")
    parser.add_argument(
        "--baseline-limit",
        type=int,
        default=None,
        help="baseline scores only the first N of each set",
    )
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    pool, sets = load_sets(args.pool, args.candidates, args.seed)
    totals = {"ours_s": 0.0, "baseline_s": 0.0, "ours_n": 0, "baseline_n": 0}
    agree = {"decisions": 0, "vectors": 0, "n": 0}
    per_set = {}
    for name, candidates in sets.items():
        ours_s, ours = run_ours(pool, candidates)
        limit = args.baseline_limit or len(candidates)
        base_s, theirs = run_baseline(pool, candidates[:limit], args.processes)
        agreement = compare(ours, theirs)
        rejected = sum(max(v) > THRESHOLD for v in ours)
        ours_cps, base_cps = len(candidates) / ours_s, len(theirs) / base_s
        per_set[name] = {
            "candidates": len(candidates),
            "rejected": rejected,
            "ours_s": round(ours_s, 3),
            "baseline_s": round(base_s, 3),
            "ours_cps": round(ours_cps, 1),
            "baseline_cps": round(base_cps, 2),
            **agreement,
        }
        print(
            f"{name}: {len(candidates)} candidates, {rejected} rejected | ours {ours_s:.2f} s "
            f"({ours_cps:.0f}/s) | rouge_score x{args.processes} processes {base_s:.1f} s for "
            f"{len(theirs)} ({base_cps:.2f}/s) | speed ratio {ours_cps / base_cps:.0f}x | "
            f"decisions {agreement['decision_agreement']:.1%}, "
            f"scores {agreement['score_agreement']:.1%}",
            flush=True,
        )
        totals["ours_s"] += ours_s
        totals["baseline_s"] += base_s
        totals["ours_n"] += len(candidates)
        totals["baseline_n"] += len(theirs)
        agree["decisions"] += agreement["decision_agreement"] * len(theirs)
        agree["vectors"] += agreement["score_agreement"] * len(theirs)
        agree["n"] += len(theirs)
    ours_cps = totals["ours_n"] / totals["ours_s"]
    base_cps = totals["baseline_n"] / totals["baseline_s"]
    result = {
        "bench": "rouge_gate",
        "pool": len(pool),
        "candidates": totals["ours_n"],
        "baseline_candidates": totals["baseline_n"],
        "processes": args.processes,
        "ours_s": round(totals["ours_s"], 3),
        "baseline_s": round(totals["baseline_s"], 3),
        "ours_cps": round(ours_cps, 1),
        "baseline_cps": round(base_cps, 2),
        "ratio": round(ours_cps / base_cps, 1),
        "decision_agreement": agree["decisions"] / agree["n"],
        "score_agreement": agree["vectors"] / agree["n"],
        "sets": per_set,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
