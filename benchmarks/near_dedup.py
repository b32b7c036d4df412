"""Near dedup: ours (sharded MinHash, polars LSH buckets, connected components, verified) against
datasketch's in-process MinHash.bulk + MinHashLSH used query-then-insert (as distilabel's
MinHash dedup step does) and rensa's Rust RMinHash + RMinHashLSH used the same way,
on all Stanford Alpaca rows plus planted near duplicates.

Planted: a seeded 5% of rows copied with word-level edits (insert, delete or substitute about
10% of the words) and a few exact copies. Ground truth: every pair with Jaccard >= threshold on
the same word n-gram shingles, found exactly by an all-pairs set-similarity join with prefix
filtering; rows to remove = each truth cluster (a component) minus its first row. Each method
runs in its own fresh process: wall time from the loaded table to the rows to remove, and peak
RSS during that run (the high-water mark is reset first; with the process executor only the
main process counts - each worker holds one shard's texts and band keys). `ours_sharded` runs
the sharded stage (`mixtures.sharded`, one process) on Parquet shards of `--shard-size` rows
that this (parent) process wrote first, as an earlier stage would: the table is never loaded
whole, so its peak is the whole cost of the stage, imports included. Runs use Arrow's
allocator as the `instructmix` command sets it (jemalloc, unless ARROW_DEFAULT_MEMORY_POOL is
set: `ARROW_DEFAULT_MEMORY_POOL=mimalloc` measures pyarrow's own default); the JSON names it.

    python -m benchmarks.near_dedup [--ngram 1] [--threshold 0.8] [--workers 2]

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import queue as queue_module
import random
import re
import resource
import tempfile
import time
import unicodedata
from bisect import bisect_left
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks import default_mirror
from benchmarks.near_dedup_runs import run_rensa, run_sharded, write_shards
from filters import near_dedup
from filters.components import components
from filters.registry import run_filter
from filters.text import match_texts
from generators import existing
from instances import make_instance, make_table
from instances.context import StageContext

_WORD = re.compile(r"\w+")
ARROW_POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def words(text: str) -> list[str]:
    """The words the shingles are made of (NFKC, lower case, `\\w+`), like ours."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def shingles(text: str, ngram: int) -> list[str]:
    """Word n-gram shingles as strings; a text shorter than n is one shingle."""
    tokens = words(text)
    if 0 < len(tokens) < ngram:
        return [" ".join(tokens)]
    return [" ".join(tokens[i : i + ngram]) for i in range(len(tokens) - ngram + 1)]


def edit_words(text: str, rng: random.Random, rate: float, vocabulary: list[str]) -> str:
    """`text` with about `rate` of its words inserted, deleted or substituted (new words
    drawn from `vocabulary`)."""
    tokens = text.split()
    for _ in range(max(1, round(len(tokens) * rate))):
        op = rng.choice(("insert", "delete", "substitute"))
        at = rng.randrange(len(tokens)) if tokens else 0
        if op == "insert" or not tokens:
            tokens.insert(at, rng.choice(vocabulary))
        elif op == "delete" and len(tokens) > 1:
            del tokens[at]
        else:
            tokens[at] = rng.choice(vocabulary)
    return " ".join(tokens)


def planted_table(mirror: Path, seed: int, share: float, rate: float, exact: int) -> pa.Table:
    """Alpaca rows plus edited copies of a `share` of them and `exact` verbatim copies."""
    result = existing.generate(
        existing.Config(dataset="stanford_alpaca"), StageContext(mirror=mirror, seed=seed)
    )
    rows, seen = [], set()
    for row in result.kept.to_pylist():  # one row per id, so ids name positions
        if row["id"] not in seen:
            seen.add(row["id"])
            rows.append(row)
    base = make_table(rows)
    rng = random.Random(seed)
    vocabulary = sorted(
        {w for row in rows[:2000] for m in row["messages"] for w in words(m["content"])}
    )
    picked = rng.sample(range(len(rows)), int(len(rows) * share) + exact)
    planted = []
    for number, index in enumerate(picked):
        messages = [dict(m) for m in rows[index]["messages"]]
        if number >= exact:
            for message in messages:
                message["content"] = edit_words(message["content"], rng, rate, vocabulary)
        else:
            messages[-1]["content"] += "\u200b"  # same words, a new id
        planted.append(
            make_instance(
                messages,
                source="planted",
                origin="distilled",
                task="planted",
                category="general",
                template="alpaca",
                meta={"copy_of": rows[index]["id"]},
            )
        )
    return pa.concat_tables([base, make_table(planted)])


def truth_pairs(texts: list[str], ngram: int, threshold: float) -> list[tuple[int, int]]:
    """Every pair with Jaccard >= threshold, exactly: an all-pairs join with prefix filtering.

    Tokens are ranked rarest first and texts visited by size (PPJoin): a text probes the
    inverted index with its probe prefix and is then indexed by its shorter index prefix.
    Postings are in size order, so the size filter is a bisection; the positional filter drops
    a candidate as soon as the overlap it can still reach falls short; survivors are checked
    by exact Jaccard. (Checked against brute force in tests/test_filters_near_dedup.py.)
    """
    sets = [set(shingles(t, ngram)) for t in texts]
    frequency = Counter(token for s in sets for token in s)
    rank = {token: n for n, (token, _) in enumerate(sorted(frequency.items(), key=lambda x: x[1]))}
    ordered = [sorted(rank[t] for t in s) for s in sets]
    id_sets = [frozenset(o) for o in ordered]
    postings: dict[int, tuple[list[int], list[int], list[int]]] = defaultdict(lambda: ([], [], []))
    ratio = threshold / (1 + threshold)
    pairs = []
    for doc in sorted(range(len(texts)), key=lambda i: len(ordered[i])):
        tokens = ordered[doc]
        size = len(tokens)
        if not size:
            continue
        probe = size - math.ceil(threshold * size - 1e-9) + 1
        overlap: dict[int, int] = {}
        for i, token in enumerate(tokens[:probe]):
            if token not in postings:
                continue
            docs, positions, sizes = postings[token]
            rest = size - i - 1
            for k in range(bisect_left(sizes, threshold * size - 1e-9), len(docs)):
                other = docs[k]
                seen = overlap.get(other, 0)
                if seen < 0:
                    continue
                need = math.ceil(ratio * (size + sizes[k]) - 1e-9)
                reachable = seen + 1 + min(rest, sizes[k] - positions[k] - 1)
                overlap[other] = seen + 1 if reachable >= need else -1
        for other, seen in overlap.items():
            if seen > 0:
                shared = len(id_sets[doc] & id_sets[other])
                if shared / (size + len(id_sets[other]) - shared) >= threshold - 1e-12:
                    pairs.append((min(doc, other), max(doc, other)))
        indexed = size - math.ceil(2 * threshold / (1 + threshold) * size - 1e-9) + 1
        for j, token in enumerate(tokens[:indexed]):
            docs, positions, sizes = postings[token]
            docs.append(doc)
            positions.append(j)
            sizes.append(size)
    return pairs


def removed_rows(num_rows: int, pairs: list[tuple[int, int]]) -> set[int]:
    """Rows removed when each cluster of `pairs` keeps its first row."""
    labels = components(num_rows, pairs)
    return {row for row in range(num_rows) if labels[row] != row}


def _status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MB."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _start_measuring() -> float:
    """Reset this process's peak RSS (Linux clear_refs) and return the RSS now, in MB."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        pass
    return _status_mb("VmRSS")


def _peak_mb() -> float:
    """Peak RSS since `_start_measuring` of this process, or of any worker it reaped."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return max(_status_mb("VmHWM"), children)


def run_ours(path: str, args: dict) -> dict:
    """Ours on the table at `path`: removed row positions, seconds, peak memory."""
    table = pq.read_table(path)
    config = near_dedup.Config(
        fields="prompt_response",
        ngram=args["ngram"],
        threshold=args["threshold"],
        num_perm=args["num_perm"],
        workers=args["workers"],
        shard_size=args["shard_size"],
        executor=args["executor"],
    )
    rss_before = _start_measuring()
    started = time.perf_counter()
    result = run_filter(table, config)
    seconds = time.perf_counter() - started
    position = {row_id: n for n, row_id in enumerate(table.column("id").to_pylist())}
    removed = [position[i] for i in result.rejected.column("id").to_pylist()]
    return {
        "seconds": seconds,
        "removed": removed,
        "peak_mb": _peak_mb(),
        "loaded_mb": rss_before,
        "extras": result.report.extras,
    }


def run_baseline(path: str, args: dict) -> dict:
    """datasketch MinHash.bulk + MinHashLSH, query then insert, on the same shingles."""
    from datasketch import MinHash, MinHashLSH

    table = pq.read_table(path)
    rss_before = _start_measuring()
    started = time.perf_counter()
    texts = match_texts(table, "prompt_response")
    tokenised = [[s.encode("utf-8") for s in shingles(t, args["ngram"])] for t in texts]
    hashes = MinHash.bulk(tokenised, num_perm=args["num_perm"])
    lsh = MinHashLSH(threshold=args["threshold"], num_perm=args["num_perm"])
    removed = []
    for row, (tokens, minhash) in enumerate(zip(tokenised, hashes, strict=True)):
        if not tokens:
            continue
        if lsh.query(minhash):
            removed.append(row)
        else:
            lsh.insert(str(row), minhash)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "removed": removed,
        "peak_mb": _peak_mb(),
        "loaded_mb": rss_before,
        "extras": {"bands": lsh.b, "rows_per_band": lsh.r},
    }


RUNS = {
    "ours": run_ours,
    "ours_sharded": run_sharded,
    "baseline": run_baseline,
    "rensa": run_rensa,
}


def _child(role: str, path: str, args: dict, queue: multiprocessing.Queue) -> None:
    queue.put(RUNS[role](path, args))


def in_fresh_process(role: str, path: str, args: dict) -> dict:
    """Run one method in a new spawned process and return its result."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(role, path, args, queue))
    process.start()
    while True:  # a child that dies (an import error, killed for memory) must not hang us
        try:
            result = queue.get(timeout=5)
            break
        except queue_module.Empty:
            if not process.is_alive():
                raise SystemExit(f"the {role} run died (exit code {process.exitcode})") from None
    process.join()
    return result


def score(removed: set[int], truth: set[int]) -> tuple[float, float]:
    """Precision and recall of removed rows against the truth."""
    hit = len(removed & truth)
    return (hit / len(removed) if removed else 1.0), (hit / len(truth) if truth else 1.0)


def main() -> None:
    """Build the planted table, compute the truth, run both methods, print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", default=str(default_mirror()))
    parser.add_argument("--ngram", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shard-size", type=int, default=13_500)
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--rate", type=float, default=0.10)
    parser.add_argument("--exact", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    # The runs are spawned with Arrow's allocator as the instructmix command chooses it
    # (flows/__init__.py: jemalloc unless the environment names one).
    os.environ.setdefault(ARROW_POOL_VARIABLE, "jemalloc")
    args = {k: getattr(options, k) for k in ("ngram", "threshold", "num_perm", "workers")}
    args["shard_size"] = options.shard_size

    table = planted_table(
        Path(options.mirror), options.seed, options.share, options.rate, options.exact
    )
    texts = match_texts(table, "prompt_response")
    started = time.perf_counter()
    pairs = truth_pairs(texts, options.ngram, options.threshold)
    truth_seconds = time.perf_counter() - started
    truth = removed_rows(table.num_rows, pairs)
    planted = table.num_rows - sum(1 for s in table.column("source").to_pylist() if s != "planted")
    print(
        f"{table.num_rows} rows ({planted} planted); truth: {len(pairs)} pairs with Jaccard >= "
        f"{options.threshold} on word {options.ngram}-grams, {len(truth)} rows to remove "
        f"({truth_seconds:.1f} s, prefix-filtered all-pairs join)",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "planted.parquet")
        pq.write_table(table, path)
        baseline = in_fresh_process("baseline", path, args)
        rensa = in_fresh_process("rensa", path, args)
        ours = in_fresh_process("ours", path, {**args, "executor": "thread"})
        ours_process = in_fresh_process("ours", path, {**args, "executor": "process"})
        work = str(Path(folder) / "sharded")
        write_shards(path, work, options.shard_size)
        ours_sharded = in_fresh_process("ours_sharded", path, {**args, "work": work})
    figures: dict = {"bench": "near_dedup", "rows": table.num_rows, "truth_rows": len(truth)}
    runs = (
        ("ours", ours),
        ("ours_process", ours_process),
        ("ours_sharded", ours_sharded),
        ("baseline", baseline),
        ("rensa", rensa),
    )
    for name, result in runs:
        precision, recall = score(set(result["removed"]), truth)
        figures.update(
            {
                f"{name}_s": round(result["seconds"], 2),
                f"{name}_peak_mb": round(result["peak_mb"]),
                f"{name}_added_mb": round(result["peak_mb"] - result["loaded_mb"]),
                f"{name}_removed": len(result["removed"]),
                f"{name}_precision": round(precision, 4),
                f"{name}_recall": round(recall, 4),
            }
        )
        print(
            f"{name:>12}: {result['seconds']:.2f} s, peak {result['peak_mb']:.0f} MB "
            f"(+{result['peak_mb'] - result['loaded_mb']:.0f} MB over the loaded table), "
            f"removed {len(result['removed'])}, precision {precision:.4f}, "
            f"recall {recall:.4f}, {result['extras']}",
            flush=True,
        )
    figures["speedup"] = round(baseline["seconds"] / ours["seconds"], 2)
    figures["speedup_process"] = round(baseline["seconds"] / ours_process["seconds"], 2)
    figures["speedup_over_rensa"] = round(rensa["seconds"] / ours["seconds"], 2)
    print(
        f"speedup {figures['speedup']}x (threads), {figures['speedup_process']}x (processes) "
        "over datasketch MinHash.bulk + MinHashLSH (query, then insert)",
        flush=True,
    )
    figures["memory_ratio"] = round(baseline["peak_mb"] / max(ours["peak_mb"], 1), 2)
    added = (baseline["peak_mb"] - baseline["loaded_mb"], ours["peak_mb"] - ours["loaded_mb"])
    figures["added_memory_ratio"] = round(added[0] / max(added[1], 1), 2)
    figures.update(
        {
            "ngram": options.ngram,
            "threshold": options.threshold,
            "num_perm": options.num_perm,
            "workers": options.workers,
            "arrow_pool": os.environ[ARROW_POOL_VARIABLE],
        }
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
