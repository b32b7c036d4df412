"""Decontamination: ours (hashed n-grams in sorted numpy arrays, vectorised lookups) against a
pure-Python scan (a set of word-tuple n-grams, one row and one n-gram at a time) with the same
rules, on all Stanford Alpaca rows against the seven benchmark test sets.

Both match word 13-grams, and benchmark items shorter than 13 words (at least 5, and not
recurring in their benchmark) as whole phrases. Reports rows per second of each scan, their
agreement, the time to build the benchmark n-gram index, and Alpaca's contamination count per
benchmark.

    python -m benchmarks.decontaminate [--ngram 13] [--min-phrase-words 5]

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import time
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np

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


def main() -> None:
    """Scan Alpaca with both methods and print the comparison; last line JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", default=str(default_mirror()))
    parser.add_argument("--ngram", type=int, default=13)
    parser.add_argument("--min-phrase-words", type=int, default=5)
    options = parser.parse_args()
    mirror = Path(options.mirror)
    ctx = StageContext(mirror=mirror)
    table = existing.generate(existing.Config(dataset="stanford_alpaca"), ctx).kept
    texts = match_texts(table, "prompt_response")
    names = tuple(BENCHMARK_NAMES)

    started = time.perf_counter()
    index = decontaminate.build_index(names, options.ngram, options.min_phrase_words, mirror)
    ours_index_s = time.perf_counter() - started
    decontaminate.scan(texts[:1000], index)  # warm up polars' thread pool
    times = []
    for _ in range(3):
        started = time.perf_counter()
        owner, _, _ = decontaminate.scan(texts, index)
        times.append(time.perf_counter() - started)
    ours_scan_s = sorted(times)[1]  # median of three
    ours = [None if o < 0 else names[o] for o in owner.tolist()]
    only_ngram = index.model_copy(
        update={"by_length": {options.ngram: index.by_length[options.ngram]}}
    )
    started = time.perf_counter()
    decontaminate.scan(texts, only_ngram)
    ours_ngram_only_s = time.perf_counter() - started

    started = time.perf_counter()
    table_index, lengths = baseline_index(mirror, options.ngram, options.min_phrase_words)
    base_index_s = time.perf_counter() - started
    started = time.perf_counter()
    base = baseline_scan(texts, table_index, options.ngram, lengths)
    base_scan_s = time.perf_counter() - started
    started = time.perf_counter()
    baseline_scan(texts, table_index, options.ngram, set())
    base_ngram_only_s = time.perf_counter() - started

    rows = len(texts)
    agree = float(np.mean([(a is None) == (b is None) for a, b in zip(ours, base, strict=True)]))
    counts = Counter(name for name in ours if name)
    per_benchmark = {name: counts.get(name, 0) for name in names}
    print(
        f"{rows:,} Alpaca rows against {', '.join(names)} ({options.ngram}-grams, "
        f"items of {options.min_phrase_words}-{options.ngram - 1} words as whole phrases)"
    )
    print(
        f"    ours: index {ours_index_s:.2f} s, scan {ours_scan_s:.2f} s "
        f"= {rows / ours_scan_s:,.0f} rows/s"
    )
    print(
        f"baseline: index {base_index_s:.2f} s, scan {base_scan_s:.2f} s "
        f"= {rows / base_scan_s:,.0f} rows/s (pure Python)"
    )
    print(
        f"{options.ngram}-grams only (no phrases): ours {rows / ours_ngram_only_s:,.0f} rows/s, "
        f"baseline {rows / base_ngram_only_s:,.0f} rows/s"
    )
    print(f"speedup {base_scan_s / ours_scan_s:.1f}x, agreement {agree:.4f}")
    print(
        "contaminated rows per benchmark: "
        + ", ".join(f"{k} {v}" for k, v in per_benchmark.items())
    )
    print(
        json.dumps(
            {
                "bench": "decontaminate",
                "rows": rows,
                "ours_rows_per_s": round(rows / ours_scan_s),
                "baseline_rows_per_s": round(rows / base_scan_s),
                "ratio": round(base_scan_s / ours_scan_s, 2),
                "ours_ngram_only_rows_per_s": round(rows / ours_ngram_only_s),
                "baseline_ngram_only_rows_per_s": round(rows / base_ngram_only_s),
                "ours_index_s": round(ours_index_s, 2),
                "baseline_index_s": round(base_index_s, 2),
                "agreement": round(agree, 4),
                "contaminated": per_benchmark,
                "contaminated_total": sum(per_benchmark.values()),
                "ngram": options.ngram,
                "min_phrase_words": options.min_phrase_words,
            }
        )
    )


if __name__ == "__main__":
    main()
