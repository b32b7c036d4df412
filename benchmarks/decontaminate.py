"""Decontamination: ours (words cut and hashed in bulk, every word position screened at once)
against the previous implementation (benchmarks/decontaminate_previous.py, the filter as of
commit 33b854a) and a pure-Python exact reference (a set of word-tuple n-grams, one row and one
n-gram at a time) with the same rules, on all Stanford Alpaca rows against the seven benchmark
test sets.

All match word 13-grams, and benchmark items shorter than 13 words (at least 5, and not
recurring in their benchmark) as whole phrases. Reports rows per second of each scan (wall
clock, and per CPU second of this process), the agreement of ours with the reference, whether
ours gives the previous implementation's verdicts exactly, the index build times, and Alpaca's
contamination count per benchmark. One process; polars is held to `--threads` threads (1 by
default, so every rate is per core). Ours and the previous scan alternate, `--rounds` times
each, and the medians are reported, so both see the same machine load.

    python -m benchmarks.decontaminate [--ngram 13] [--min-phrase-words 5] [--threads 1]

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np

from benchmarks import decontaminate_previous as previous
from benchmarks import default_mirror
from filters import decontaminate
from filters.benchmark_sets import BENCHMARK_NAMES, CATALOG, benchmark_texts
from filters.text import match_texts
from generators import existing
from instances.context import StageContext

_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """NFKC, lower-cased `\\w+` words, as ours uses."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def baseline_index(
    mirror: Path, ngram: int, min_phrase: int
) -> tuple[dict[tuple[str, ...], str], set[int]]:
    """Word-tuple n-grams (and short items as phrases) -> first benchmark; phrase lengths."""
    index: dict[tuple[str, ...], str] = {}
    lengths = set()
    for name in BENCHMARK_NAMES:
        phrases: Counter[tuple[str, ...]] = Counter()
        for text in benchmark_texts(CATALOG[name], mirror):
            tokens = words(text)
            if len(tokens) >= ngram:
                for i in range(len(tokens) - ngram + 1):
                    index.setdefault(tuple(tokens[i : i + ngram]), name)
            elif len(tokens) >= min_phrase:
                phrases[tuple(tokens)] += 1
        for phrase, seen in phrases.items():
            if seen == 1:  # a phrase that recurs in its benchmark is a template: skipped
                index.setdefault(phrase, name)
                lengths.add(len(phrase))
    return index, lengths


def baseline_scan(
    texts: list[str], index: dict[tuple[str, ...], str], ngram: int, lengths: set[int]
) -> list[str | None]:
    """The first benchmark each text matches (longest phrase length first), or None."""
    order = [ngram, *sorted(lengths, reverse=True)]
    found: list[str | None] = []
    for text in texts:
        tokens = words(text)
        hit = None
        for length in order:
            for i in range(len(tokens) - length + 1):
                hit = index.get(tuple(tokens[i : i + length]))
                if hit:
                    break
            if hit:
                break
        found.append(hit)
    return found


def _timed(scan, texts: list[str], index) -> tuple[tuple, float, float]:
    """The scan's result, its wall seconds and this process's CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = scan(texts, index)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _alternate(texts: list[str], ours_index, previous_index, rounds: int) -> dict[str, list]:
    """Ours and the previous scan in turn, `rounds` times: results and times of each."""
    runs: dict[str, list] = {"ours": [], "previous": []}
    for _ in range(rounds):
        runs["ours"].append(_timed(decontaminate.scan, texts, ours_index))
        runs["previous"].append(_timed(previous.scan, texts, previous_index))
    return runs


def _rates(rows: int, runs: list) -> tuple[float, float]:
    """Median rows per wall second and per CPU second."""
    return (
        rows / statistics.median(wall for _, wall, _ in runs),
        rows / statistics.median(cpu for _, _, cpu in runs),
    )


def _best(rows: int, runs: list) -> float:
    """Rows per wall second of the fastest run (the least disturbed by other work)."""
    return rows / min(wall for _, wall, _ in runs)


def main() -> None:
    """Scan Alpaca with all three methods and print the comparison; last line JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", default=str(default_mirror()))
    parser.add_argument("--ngram", type=int, default=13)
    parser.add_argument("--min-phrase-words", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="polars threads (1: per core)")
    parser.add_argument("--rounds", type=int, default=5, help="timed scans of ours and previous")
    options = parser.parse_args()
    if os.environ.get("POLARS_MAX_THREADS") != str(options.threads):
        # polars sizes its thread pool when it is imported: start again with the setting.
        env = {**os.environ, "POLARS_MAX_THREADS": str(options.threads)}
        argv = [sys.executable, "-m", "benchmarks.decontaminate", *sys.argv[1:]]
        os.execve(sys.executable, argv, env)
    import polars as pl

    load_before = os.getloadavg()
    mirror = Path(options.mirror)
    ctx = StageContext(mirror=mirror)
    table = existing.generate(existing.Config(dataset="stanford_alpaca"), ctx).kept
    texts = match_texts(table, "prompt_response")
    names = tuple(BENCHMARK_NAMES)
    ngram, min_phrase = options.ngram, options.min_phrase_words

    started = time.perf_counter()
    index = decontaminate.build_index(names, ngram, min_phrase, mirror)
    ours_index_s = time.perf_counter() - started
    started = time.perf_counter()
    previous_index = previous.build_index(names, ngram, min_phrase, mirror)
    previous_index_s = time.perf_counter() - started
    decontaminate.scan(texts[:1000], index)  # warm up
    previous.scan(texts[:1000], previous_index)

    runs = _alternate(texts, index, previous_index, options.rounds)
    only_ngram = index.model_copy(update={"by_length": {ngram: index.by_length[ngram]}})
    previous_only = {**previous_index, "by_length": {ngram: previous_index["by_length"][ngram]}}
    ngram_runs = _alternate(texts, only_ngram, previous_only, max(options.rounds // 2, 1))

    started = time.perf_counter()
    table_index, lengths = baseline_index(mirror, ngram, min_phrase)
    reference_index_s = time.perf_counter() - started
    started = time.perf_counter()
    reference = baseline_scan(texts, table_index, ngram, lengths)
    reference_scan_s = time.perf_counter() - started
    load_after = os.getloadavg()

    rows = len(texts)
    ours_result, previous_result = runs["ours"][0][0], runs["previous"][0][0]
    ours = [None if o < 0 else names[o] for o in ours_result[0].tolist()]
    identical = all(
        np.array_equal(a, b) for a, b in zip(ours_result, previous_result, strict=True)
    ) and all(np.array_equal(run[0][0], ours_result[0]) for run in runs["ours"])
    agree = float(
        np.mean([(a is None) == (b is None) for a, b in zip(ours, reference, strict=True)])
    )
    same_reason = float(np.mean([a == b for a, b in zip(ours, reference, strict=True)]))
    ours_wall, ours_cpu = _rates(rows, runs["ours"])
    previous_wall, previous_cpu = _rates(rows, runs["previous"])
    ours_ngram, _ = _rates(rows, ngram_runs["ours"])
    previous_ngram, _ = _rates(rows, ngram_runs["previous"])
    counts = Counter(name for name in ours if name)
    per_benchmark = {name: counts.get(name, 0) for name in names}
    threads = pl.thread_pool_size()
    print(
        f"{rows:,} Alpaca rows against {', '.join(names)} ({ngram}-grams, items of "
        f"{min_phrase}-{ngram - 1} words as whole phrases); 1 process, {threads} polars "
        f"thread(s), {os.cpu_count()} CPUs, load {load_before[0]:.2f} -> {load_after[0]:.2f}"
    )
    print(
        f"     ours: index {ours_index_s:.2f} s, {ours_wall:,.0f} rows/s "
        f"({ours_cpu:,.0f} per CPU second), median of {options.rounds}; best "
        f"{_best(rows, runs['ours']):,.0f} rows/s"
    )
    print(
        f" previous: index {previous_index_s:.2f} s, {previous_wall:,.0f} rows/s "
        f"({previous_cpu:,.0f} per CPU second), median of {options.rounds}; best "
        f"{_best(rows, runs['previous']):,.0f} rows/s"
    )
    print(
        f"reference: index {reference_index_s:.2f} s, {rows / reference_scan_s:,.0f} rows/s "
        "(pure Python, once)"
    )
    print(
        f"{ngram}-grams only (no phrases): ours {ours_ngram:,.0f} rows/s, "
        f"previous {previous_ngram:,.0f} rows/s"
    )
    print(
        f"speedup over previous {ours_wall / previous_wall:.2f}x wall, "
        f"{ours_cpu / previous_cpu:.2f}x CPU; agreement with the reference {agree:.4f} "
        f"(same benchmark {same_reason:.4f}); identical to previous: {identical}"
    )
    print(
        "contaminated rows per benchmark: "
        + ", ".join(f"{k} {v}" for k, v in per_benchmark.items())
    )
    print(
        json.dumps(
            {
                "bench": "decontaminate",
                "rows": rows,
                "processes": 1,
                "polars_threads": threads,
                "cpus": os.cpu_count(),
                "load_1m": [round(load_before[0], 2), round(load_after[0], 2)],
                "rounds": options.rounds,
                "ours_rows_per_s": round(ours_wall),
                "ours_best_rows_per_s": round(_best(rows, runs["ours"])),
                "ours_rows_per_cpu_s": round(ours_cpu),
                "previous_rows_per_s": round(previous_wall),
                "previous_best_rows_per_s": round(_best(rows, runs["previous"])),
                "previous_rows_per_cpu_s": round(previous_cpu),
                "reference_rows_per_s": round(rows / reference_scan_s),
                "speedup_vs_previous": round(ours_wall / previous_wall, 2),
                "speedup_vs_previous_cpu": round(ours_cpu / previous_cpu, 2),
                "ours_ngram_only_rows_per_s": round(ours_ngram),
                "previous_ngram_only_rows_per_s": round(previous_ngram),
                "ours_index_s": round(ours_index_s, 2),
                "previous_index_s": round(previous_index_s, 2),
                "reference_index_s": round(reference_index_s, 2),
                "agreement": round(agree, 4),
                "same_benchmark": round(same_reason, 4),
                "identical_to_previous": identical,
                "contaminated": per_benchmark,
                "contaminated_total": sum(per_benchmark.values()),
                "ngram": ngram,
                "min_phrase_words": min_phrase,
            }
        )
    )


if __name__ == "__main__":
    main()
