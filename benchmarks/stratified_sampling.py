"""Stratified (LIMA-style) sampling: our water-filling draw against a round-robin baseline.

The pool is synthetic but shaped like a real one: `--rows` rows over `--strata` tasks whose
sizes follow a Zipf law (a few huge tasks, a long tail), a quality score on half the rows.
Both methods draw `--target` rows evenly across tasks with a per-task cap:

- ours: `mixtures.strata.stratified_draw` (binary search for the fill level, one
  quality-ranked slice per stratum);
- baseline `round_robin`: the obvious loop, one row per stratum per round (best quality
  first) until the target is reached or every stratum is spent.

Both must give the same number of rows per stratum up to ties (the same sorted allocation).
Run: `python -m benchmarks.stratified_sampling [--rows N --strata K --target T --cap C]`.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pyarrow as pa

from instances import meta
from mixtures.recipe import StratifySpec
from mixtures.strata import rank_in_stratum, stratified_draw


def make_pool(rows: int, strata: int, seed: int) -> pa.Table:
    """A table with the columns the draw reads: task and meta (half the rows scored)."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, strata + 1) ** 1.1
    tasks = rng.choice(strata, size=rows, p=weights / weights.sum())
    scores = rng.random(rows)
    metas = [
        json.dumps({"quality": round(float(q), 4)}) if i % 2 else "{}" for i, q in enumerate(scores)
    ]
    return pa.table({"task": [f"task{t:05d}" for t in tasks], "meta": metas})


def round_robin(table: pa.Table, target: int, cap: int, seed: int) -> np.ndarray:
    """Baseline: one row per stratum per round, best first, until `target` rows."""
    rng = np.random.default_rng(seed)
    tasks = table.column("task").to_pylist()
    scores = meta.numbers(table.column("meta"), "quality")
    groups: dict[str, list[int]] = {}
    for position, task in enumerate(tasks):
        groups.setdefault(task, []).append(position)
    queues = {
        name: list(rank_in_stratum(np.asarray(members), scores, rng)[:cap])
        for name, members in groups.items()
    }
    picked: list[int] = []
    while len(picked) < target and any(queues.values()):
        for name in rng.permutation(sorted(queues)):
            if queues[name] and len(picked) < target:
                picked.append(int(queues[name].pop(0)))
    return np.sort(np.asarray(picked, dtype=np.int64))


def allocation(table: pa.Table, positions: np.ndarray) -> list[int]:
    """Rows per stratum, sorted (to compare allocations up to which stratum got a tie)."""
    tasks = table.column("task").to_pylist()
    counts: dict[str, int] = {}
    for position in positions.tolist():
        counts[tasks[position]] = counts.get(tasks[position], 0) + 1
    return sorted(counts.values())


def main() -> None:
    """Time both methods on the same pool and print their ratio; last line is JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--strata", type=int, default=2_000)
    parser.add_argument("--target", type=int, default=20_000)
    parser.add_argument("--cap", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    table = make_pool(args.rows, args.strata, args.seed)
    positions = np.arange(table.num_rows)
    spec = StratifySpec(by="task", cap=args.cap, quality_key="quality")

    started = time.perf_counter()
    ours, record = stratified_draw(
        table, positions, spec, args.target, np.random.default_rng(args.seed)
    )
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    baseline = round_robin(table, args.target, args.cap, args.seed)
    baseline_s = time.perf_counter() - started

    same = allocation(table, ours) == allocation(table, baseline)
    print(f"pool {args.rows:,} rows in {len(record['before']):,} strata -> {len(ours):,} drawn")
    print(f"ours (water filling)   {ours_s:8.3f} s")
    print(f"baseline (round robin) {baseline_s:8.3f} s   ratio {baseline_s / ours_s:.1f}x")
    print(f"same allocation up to ties: {same}")
    print(
        json.dumps(
            {
                "bench": "stratified_sampling",
                "rows": args.rows,
                "strata": len(record["before"]),
                "drawn": int(len(ours)),
                "ours_s": round(ours_s, 4),
                "baseline_s": round(baseline_s, 4),
                "ratio": round(baseline_s / ours_s, 2),
                "same_allocation": same,
            }
        )
    )


if __name__ == "__main__":
    main()
