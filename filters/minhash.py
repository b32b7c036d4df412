"""Vectorised MinHash: word n-gram shingles, signatures, LSH band keys and their parameters.

Texts are NFKC-normalised, lower-cased and split into words (`\\w+`) by polars; each word is
hashed once and consecutive words are mixed into 64-bit n-gram hashes with numpy, so no Python
loop runs per shingle. A text of fewer than `ngram` words (but at least one) is one shingle.
Signatures use `num_perm` random affine permutations of the upper 32 bits of each shingle hash
(`a * x + b mod 2**32`, `a` odd) and keep the minimum per text. Bands of `rows` signature values
are folded into one 64-bit key each: two texts whose keys agree in any band are LSH candidates.

Everything here is a pure function of its inputs and the `seed`, so shards computed in different
processes agree.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import lru_cache

import numpy as np
import polars as pl

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
# The n-gram fold's start value (seed 0) and multiplier, for callers that extend it themselves.
GOLDEN, MIX1 = _GOLDEN, _MIX1
_MIX2 = np.uint64(0x94D049BB133111EB)
# The sentinel that stands for "no word here" inside a short text's only shingle.
_ABSENT = np.uint64(0x5BD1E9955BD1E995)
# Pairs `jaccard_many` compares at once: bounds its (pairs x shingles) arrays.
PAIR_BLOCK = 200_000


def _avalanche(values: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, applied in place to uint64 `values` (returned for chaining)."""
    with np.errstate(over="ignore"):
        values ^= values >> np.uint64(30)
        values *= _MIX1
        values ^= values >> np.uint64(27)
        values *= _MIX2
        values ^= values >> np.uint64(31)
    return values


avalanche = _avalanche


def word_hashes(texts: Sequence[str], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Hash every word of every text: (uint64 hashes of all words, words per text).

    Words are `\\w+` runs of the NFKC-normalised, lower-cased text.
    """
    series = pl.Series("text", list(texts), dtype=pl.String).fill_null("")
    # NFKC changes nothing in ASCII text: normalise only the texts that need it.
    non_ascii = series.str.contains(r"[^\x00-\x7F]").arg_true()
    if non_ascii.len():
        series = series.scatter(non_ascii, series.gather(non_ascii).str.normalize("NFKC"))
    words = series.str.to_lowercase().str.extract_all(r"\w+")
    counts = words.list.len().fill_null(0).to_numpy().astype(np.int64)
    flat = words.explode().drop_nulls()
    if flat.len() == 0:
        return np.zeros(0, np.uint64), counts
    return flat.hash(seed=seed).to_numpy().astype(np.uint64, copy=False), counts


def _fold(columns: Sequence[np.ndarray], seed: int) -> np.ndarray:
    """Fold equal-length uint64 arrays, in order, into one well-mixed uint64 hash each."""
    with np.errstate(over="ignore"):
        acc = np.full(columns[0].shape, np.uint64(seed + 1) * _GOLDEN, np.uint64)
        for column in columns:
            acc *= _MIX1
            acc += column
        return _avalanche(acc)


def word_ngrams(
    hashes: np.ndarray, counts: np.ndarray, ngram: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every run of exactly `ngram` consecutive words inside one text, hashed.

    Takes `word_hashes` output; returns (n-gram hashes, text index, first word's position in
    its text). Texts shorter than `ngram` contribute nothing.
    """
    return next(iter_word_ngrams(hashes, counts, [ngram], seed))[1:]


def iter_word_ngrams(
    hashes: np.ndarray, counts: np.ndarray, lengths: Sequence[int], seed: int = 0
) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """`word_ngrams` for several lengths at once: (length, hashes, text index, position).

    The fold is extended one word at a time, so all lengths up to the longest cost one pass
    per word position rather than one per word of every length.
    """
    wanted = set(lengths)
    longest = max(wanted)
    ends = np.cumsum(counts)
    doc_of_word = np.repeat(np.arange(counts.size), counts)
    first_of_doc = ends - counts
    remaining = ends[doc_of_word] - np.arange(hashes.size)  # words left in the text from here
    with np.errstate(over="ignore"):
        acc = np.full(hashes.size, np.uint64(seed + 1) * _GOLDEN, np.uint64)
        for length in range(1, longest + 1):
            windows = hashes.size - length + 1
            if windows <= 0:
                empty = np.zeros(0, np.int64)
                for rest in sorted(n for n in wanted if n >= length):
                    yield rest, np.zeros(0, np.uint64), empty, empty
                return
            acc = acc[:windows]
            acc *= _MIX1
            acc += hashes[length - 1 : length - 1 + windows]
            if length not in wanted:
                continue
            inside = np.flatnonzero(remaining[:windows] >= length)
            docs = doc_of_word[inside]
            yield length, _avalanche(acc[inside]), docs, inside - first_of_doc[docs]


def shingle_hashes(
    texts: Sequence[str], ngram: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Hashed word n-gram shingles of each text: (uint64 hashes, offsets of length len(texts)+1).

    The shingles of text `i` are `hashes[offsets[i]:offsets[i + 1]]` (repeats kept; MinHash does
    not care). A text with 0 < words < `ngram` gives one shingle over all its words; an empty
    text gives none.
    """
    hashes, counts = word_hashes(texts, seed)
    ends = np.cumsum(counts)
    short = np.flatnonzero((counts > 0) & (counts < ngram))
    per_doc = np.maximum(counts - ngram + 1, 0)
    per_doc[short] = 1
    offsets = np.concatenate([[0], np.cumsum(per_doc)]).astype(np.int64)
    out = np.empty(int(offsets[-1]), np.uint64)
    windows = hashes.size - ngram + 1
    if windows > 0:
        # Every window of `ngram` consecutive words; keep those inside one text.
        full = _fold([hashes[k : windows + k] for k in range(ngram)], seed)
        doc_of_word = np.repeat(np.arange(counts.size), counts)[:windows]
        inside = np.arange(windows) + ngram <= ends[doc_of_word]
        slots = np.ones(out.size, bool)
        slots[offsets[short]] = False
        out[slots] = full[inside]
    if short.size:
        starts = ends[short] - counts[short]
        columns = [
            np.where(k < counts[short], hashes[np.minimum(starts + k, hashes.size - 1)], _ABSENT)
            for k in range(ngram)
        ]
        out[offsets[short]] = _fold(columns, seed)
    return out, offsets


@lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The `num_perm` (a, b) uint32 pairs of the affine permutations (a odd), from `seed`."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**31, num_perm, dtype=np.uint64).astype(np.uint32) * np.uint32(2) + 1
    b = rng.integers(0, 2**32, num_perm, dtype=np.uint64).astype(np.uint32)
    return a.astype(np.uint32), b


def signatures(
    hashes: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int = 0, block: int = 64
) -> np.ndarray:
    """MinHash signatures (uint32, one row per text) of the shingles laid out as `offsets` says.

    A text without shingles gets a row of 0xFFFFFFFF (callers leave such texts out of LSH).
    """
    a, b = permutations(num_perm, seed)
    keys = (hashes >> np.uint64(32)).astype(np.uint32)
    sizes = np.diff(offsets)
    out = np.full((sizes.size, num_perm), np.iinfo(np.uint32).max, np.uint32)
    present = np.flatnonzero(sizes > 0)
    # Work on a few dozen texts at a time so the (shingles x num_perm) block stays in cache.
    for first in range(0, present.size, block):
        rows = present[first : first + block]
        lo, hi = offsets[rows[0]], offsets[rows[-1] + 1]
        values = np.multiply(keys[lo:hi, None], a[None, :])
        values += b
        # Only texts with shingles are in `rows`, and they are consecutive in `keys` order.
        out[rows] = np.minimum.reduceat(values, offsets[rows] - lo, axis=0)
    return out


def band_keys(signature: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 key per (text, band): the band's `rows` signature values folded and mixed.

    Each band folds from its own start value, so keys of different bands never meet.
    """
    if bands * rows > signature.shape[1]:
        raise ValueError(f"{bands} bands x {rows} rows exceed {signature.shape[1]} permutations")
    keys = np.empty((signature.shape[0], bands), np.uint64)
    with np.errstate(over="ignore"):
        for band in range(bands):
            acc = np.full(signature.shape[0], np.uint64(band + 1) * _GOLDEN, np.uint64)
            for column in range(band * rows, (band + 1) * rows):
                acc = _avalanche(acc ^ signature[:, column].astype(np.uint64))
            keys[:, band] = acc
    return keys


def candidate_probability(similarity: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Chance that two texts of Jaccard `similarity` share at least one of `bands` bands."""
    return 1.0 - (1.0 - np.power(similarity, rows)) ** bands


@lru_cache(maxsize=64)
def optimal_bands(threshold: float, num_perm: int, recall_at_threshold: float) -> tuple[int, int]:
    """The (bands, rows), bands * rows <= num_perm, that best separate pairs at `threshold`.

    Among the choices whose chance of making a pair of Jaccard exactly `threshold` a candidate
    is at least `recall_at_threshold`, the one with the smallest false-positive area (candidate
    probability integrated below the threshold) wins; if none reaches it, the most likely does.

    >>> optimal_bands(0.8, 128, 0.9)
    (13, 8)
    """
    below = np.linspace(0.0, threshold, 201)
    best: tuple[float, float, int, int] | None = None
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            at = float(candidate_probability(np.array(threshold), bands, rows))
            fp = float(np.trapezoid(candidate_probability(below, bands, rows), below))
            score = (
                0.0 if at >= recall_at_threshold else 1.0,
                fp if at >= recall_at_threshold else -at,
            )
            if best is None or score < best[:2]:
                best = (*score, bands, rows)
    assert best is not None
    return best[2], best[3]


def text_band_keys(
    texts: Sequence[str],
    *,
    ngram: int,
    num_perm: int,
    bands: int,
    rows: int,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Band keys of `texts` and a mask of the texts that have any shingle (one call per shard)."""
    hashes, offsets = shingle_hashes(texts, ngram, seed)
    signature = signatures(hashes, offsets, num_perm, seed)
    return band_keys(signature, bands, rows), np.diff(offsets) > 0


def shingle_sets(texts: Sequence[str], ngram: int, seed: int = 0) -> list[frozenset[int]]:
    """The set of shingle hashes of each text (for exact Jaccard checks of candidate pairs)."""
    hashes, offsets = shingle_hashes(texts, ngram, seed)
    values = hashes.tolist()
    return [frozenset(values[offsets[i] : offsets[i + 1]]) for i in range(len(texts))]


def jaccard(left: frozenset[int], right: frozenset[int]) -> float:
    """Exact Jaccard similarity of two sets (0.0 when both are empty)."""
    if not left and not right:
        return 0.0
    shared = len(left & right)
    return shared / (len(left) + len(right) - shared)


def unique_shingles(
    texts: Sequence[str], ngram: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Each text's distinct shingle hashes, sorted (CSR: hashes, offsets of len(texts) + 1)."""
    hashes, offsets = shingle_hashes(texts, ngram, seed)
    owner = np.repeat(np.arange(len(texts)), np.diff(offsets))
    order = np.lexsort((hashes, owner))
    hashes, owner = hashes[order], owner[order]
    keep = np.ones(hashes.size, bool)
    keep[1:] = (hashes[1:] != hashes[:-1]) | (owner[1:] != owner[:-1])
    hashes, owner = hashes[keep], owner[keep]
    counts = np.bincount(owner, minlength=len(texts))
    return hashes, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _gather(hashes: np.ndarray, offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """The shingles of `rows` laid end to end, and the number of each row's shingles."""
    starts, sizes = offsets[rows], offsets[rows + 1] - offsets[rows]
    base = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    return hashes[base + np.arange(int(sizes.sum()))], sizes


def jaccard_many(
    hashes: np.ndarray, offsets: np.ndarray, left: np.ndarray, right: np.ndarray
) -> np.ndarray:
    """Exact Jaccard similarity of the shingle sets of rows left[k] and right[k] (CSR input).

    Equal to `filters.minhash.jaccard` on the same sets: shared / (|A| + |B| - shared).
    """
    out = np.zeros(left.size, np.float64)
    for first in range(0, left.size, PAIR_BLOCK):
        a, b = left[first : first + PAIR_BLOCK], right[first : first + PAIR_BLOCK]
        values_a, sizes_a = _gather(hashes, offsets, a)
        values_b, sizes_b = _gather(hashes, offsets, b)
        pair = np.concatenate(
            [np.repeat(np.arange(a.size), sizes_a), np.repeat(np.arange(b.size), sizes_b)]
        )
        values = np.concatenate([values_a, values_b])
        order = np.lexsort((values, pair))
        pair, values = pair[order], values[order]
        same = (pair[1:] == pair[:-1]) & (values[1:] == values[:-1])
        shared = np.bincount(pair[1:][same], minlength=a.size)
        union = sizes_a + sizes_b - shared
        with np.errstate(invalid="ignore", divide="ignore"):
            out[first : first + a.size] = np.where(union > 0, shared / np.maximum(union, 1), 0.0)
    return out
