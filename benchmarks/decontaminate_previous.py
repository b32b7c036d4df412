"""The previous decontamination scan (filters/decontaminate.py at commit 33b854a), frozen as the
named baseline of benchmarks/decontaminate.py.

Words are cut by polars (`str.extract_all(r"\\w+")` on every text, NFKC first where a text has
characters beyond ASCII) and hashed with polars' string hash; the five-word prefix of every word
position inside a text is avalanched and screened by a packed bitmap of 2**27 bits, and
positions that pass are extended to 13 words. Same rules and verdicts as the current filter;
only the speed differs. Built-in benchmarks only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from filters.benchmark_sets import CATALOG, benchmark_texts

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_BITS = 24
_PREFIX_BITS = 27


def _avalanche(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        values ^= values >> np.uint64(30)
        values *= _MIX1
        values ^= values >> np.uint64(27)
        values *= _MIX2
        values ^= values >> np.uint64(31)
    return values


def word_hashes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(polars hashes of every word of every text, words per text), as filters/minhash did."""
    series = pl.Series("text", list(texts), dtype=pl.String).fill_null("")
    non_ascii = series.str.contains(r"[^\x00-\x7F]").arg_true()
    if non_ascii.len():
        series = series.scatter(non_ascii, series.gather(non_ascii).str.normalize("NFKC"))
    words = series.str.to_lowercase().str.extract_all(r"\w+")
    counts = words.list.len().fill_null(0).to_numpy().astype(np.int64)
    flat = words.explode().drop_nulls()
    if flat.len() == 0:
        return np.zeros(0, np.uint64), counts
    return flat.hash(seed=0).to_numpy().astype(np.uint64, copy=False), counts


def _ngrams(hashes: np.ndarray, counts: np.ndarray, n: int) -> np.ndarray:
    """Avalanched folds of every run of `n` words inside one text."""
    windows = max(hashes.size - n + 1, 0)
    ends = np.cumsum(counts)
    remaining = ends[np.repeat(np.arange(counts.size), counts)] - np.arange(hashes.size)
    acc = np.full(windows, _GOLDEN, np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(n):
            acc *= _MIX1
            acc += hashes[offset : offset + windows]
    return _avalanche(acc[remaining[:windows] >= n])


def _bits(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    top = hashes >> np.uint64(64 - _PREFIX_BITS)
    return top >> np.uint64(3), top & np.uint64(7)


def build_index(names: tuple[str, ...], ngram: int, min_phrase: int, mirror: Path) -> dict:
    """Sorted n-gram and phrase hashes per length with their benchmark, and both bitmaps."""
    collected: dict[int, list[tuple[np.ndarray, int]]] = {}
    prefix = np.zeros(1 << (_PREFIX_BITS - 3), np.uint8)
    for number, name in enumerate(names):
        hashes, counts = word_hashes(benchmark_texts(CATALOG[name], mirror))
        byte, bit = _bits(_ngrams(hashes, counts, min_phrase))
        np.bitwise_or.at(prefix, byte, (1 << bit).astype(np.uint8))
        collected.setdefault(ngram, []).append((_ngrams(hashes, counts, ngram), number))
        for length in range(min_phrase, ngram):
            starts = (np.cumsum(counts) - counts)[counts == length]
            words = hashes[starts[:, None] + np.arange(length)[None, :]].reshape(-1)
            phrases = _ngrams(words, np.full(starts.size, length), length)
            unique, seen = np.unique(phrases, return_counts=True)
            collected.setdefault(length, []).append((unique[seen == 1], number))
    by_length = {}
    for length, parts in collected.items():
        values = np.concatenate([part for part, _ in parts])
        owners = np.concatenate([np.full(part.size, n, np.int16) for part, n in parts])
        unique, first = np.unique(values, return_index=True)
        if unique.size:
            by_length[length] = (unique, owners[first])
    bitmap = np.zeros(1 << _BITS, bool)
    for known, _ in by_length.values():
        bitmap[known >> np.uint64(64 - _BITS)] = True
    return {"by_length": by_length, "bitmap": bitmap, "prefix": prefix, "first": min_phrase}


def _lookup(index: dict, length: int, grams: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    known, owners = index["by_length"][length]
    maybe = np.flatnonzero(index["bitmap"][grams >> np.uint64(64 - _BITS)])
    at = np.minimum(np.searchsorted(known, grams[maybe]), known.size - 1)
    found = known[at] == grams[maybe]
    return maybe[found], owners[at[found]]


def _hits(texts: list[str], index: dict) -> list[tuple]:
    hashes, counts = word_hashes(texts)
    first = index["first"]
    if hashes.size < first:
        return []
    doc_of_word = np.repeat(np.arange(counts.size), counts)
    first_of_doc = np.cumsum(counts) - counts
    remaining = (first_of_doc + counts)[doc_of_word] - np.arange(hashes.size)
    windows = hashes.size - first + 1
    found = []
    with np.errstate(over="ignore"):
        acc = np.full(windows, _GOLDEN, np.uint64)
        for offset in range(first):
            acc *= _MIX1
            acc += hashes[offset : offset + windows]
        starts = np.flatnonzero(remaining[:windows] >= first)
        byte, bit = _bits(_avalanche(acc[starts]))
        position = starts[(index["prefix"][byte] >> bit.astype(np.uint8)) & 1 > 0]
        acc = acc[position]
        for length in range(first, max(index["by_length"]) + 1):
            if length > first:
                inside = remaining[position] >= length
                position, acc = position[inside], acc[inside]
                acc *= _MIX1
                acc += hashes[position + length - 1]
            if length in index["by_length"] and position.size:
                hit, owners = _lookup(index, length, _avalanche(acc.copy()))
                docs = doc_of_word[position[hit]]
                found.append((length, docs, position[hit] - first_of_doc[docs], owners))
    return found


def scan(texts: list[str], index: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each text: the matched benchmark's number (-1 if none), the phrase length and start."""
    owner = np.full(len(texts), -1, np.int64)
    length_of = np.zeros(len(texts), np.int64)
    start_of = np.zeros(len(texts), np.int64)
    for length, docs, starts, owners in sorted(_hits(texts, index), key=lambda f: -f[0]):
        fresh = owner[docs] < 0
        hit_docs, first = np.unique(docs[fresh], return_index=True)
        owner[hit_docs] = owners[fresh][first]
        length_of[hit_docs] = length
        start_of[hit_docs] = starts[fresh][first]
    return owner, length_of, start_of
