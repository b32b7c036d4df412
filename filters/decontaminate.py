"""Benchmark decontamination: reject rows that share a word n-gram with a benchmark test set.

Texts on both sides are NFKC-normalised, lower-cased and cut into `\\w+` words. A row is
contaminated by a benchmark when it contains any run of `ngram` (13 by default) consecutive
words of one of the benchmark's items. An item shorter than `ngram` words - many TruthfulQA
questions are - is matched as a whole phrase instead: the row must contain all of its words, in
order and adjacent. Items shorter than `min_phrase_words` are ignored (too generic to mean a
leak), and so are short items that recur in their benchmark (question templates such as
"Which of the following statements is true?"; `skip_repeated_phrases`). The benchmark n-grams
are built once per process into sorted hash arrays (one per phrase length); a shard's rows become
one stream of word hashes (`filters.decontaminate_words`), every position of which is screened
at once by a bitmap of the benchmarks' leading `min_phrase_words` words, and only the few that
pass are extended and looked up: no Python loop per row or per n-gram.

Reject reason: `contaminated:<benchmark>` (the first benchmark found, in catalog order for an
n-gram several share). The report's extras give, per benchmark, the rows matched and one
example n-gram.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator
from tqdm.auto import tqdm

from filters import decontaminate_words
from filters.benchmark_sets import (
    BENCHMARK_NAMES,
    CATALOG,
    BenchmarkName,
    benchmark_files,
    benchmark_texts,
)
from filters.decontaminate_words import avalanche, grams, runs
from filters.dispatch import Verdicts
from filters.extra_benchmarks import ExtraBenchmark, extra_files, extra_texts
from filters.text import match_texts
from instances.context import StageContext

STAGE = "decontaminate"
CONTAMINATED = "contaminated"

_WORD = re.compile(r"\w+")
_BITS = 24
# A packed bitmap of 2**25 bits (4 MB, so lookups mostly hit the cache) of the benchmarks'
# leading words: about 2% of its bits are set for the seven built-in benchmarks.
_PREFIX_BITS = 25


def reason_for(benchmark: str) -> str:
    """The reject reason of a row contaminated by `benchmark`: `contaminated:<benchmark>`."""
    return f"{CONTAMINATED}:{benchmark}"


class Config(BaseModel):
    """Which benchmarks to check, the n-gram length and the shortest item matched as a phrase."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["decontaminate"] = "decontaminate"
    benchmarks: list[BenchmarkName] = Field(
        default_factory=lambda: list(BENCHMARK_NAMES),
        description="built-in benchmarks ([] with extra_benchmarks: only those)",
    )
    extra_benchmarks: list[ExtraBenchmark] = Field(
        default_factory=list,
        exclude_if=lambda value: not value,  # recipes without them keep their lock hash
        description="more benchmarks: {name, data: <dataset spec>, text: prompt|response|both}",
    )
    ngram: int = Field(default=13, ge=2, le=64, description="words per matching n-gram")
    min_phrase_words: int = Field(
        default=5,
        ge=1,
        description="shorter items are ignored; longer ones below ngram match whole",
    )
    fields: Literal["prompt", "prompt_response"] = Field(
        default="prompt_response", description="scan the prompt only, or prompt and response"
    )
    skip_repeated_phrases: bool = Field(
        default=True,
        description="ignore short items that recur in their benchmark (question templates)",
    )

    @model_validator(mode="after")
    def _phrase_below_ngram(self) -> Config:
        if self.min_phrase_words > self.ngram:
            raise ValueError(
                f"min_phrase_words ({self.min_phrase_words}) must not exceed ngram ({self.ngram})"
            )
        names = [*self.benchmarks, *(extra.name for extra in self.extra_benchmarks)]
        if not names:
            raise ValueError("no benchmark to check: name built-ins or give extra_benchmarks")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"benchmark names must be unique; repeated: {repeated}")
        return self

    def extra_keys(self) -> tuple[str, ...]:
        """The extra benchmarks as hashable keys (for `build_index`'s cache)."""
        return tuple(extra.key() for extra in self.extra_benchmarks)


class BenchmarkIndex(BaseModel):
    """Benchmark n-gram hashes by phrase length: sorted hashes and the benchmark of each."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    names: tuple[str, ...]
    by_length: dict[int, tuple[np.ndarray, np.ndarray]]
    bitmap: np.ndarray
    prefix_words: int
    prefix_bitmap: np.ndarray
    items: dict[str, int]
    phrase_items: dict[str, int]
    repeated_phrases: dict[str, int]


def _phrase_hashes(hashes: np.ndarray, counts: np.ndarray, length: int) -> np.ndarray:
    """The hash of each whole text of exactly `length` words (same hash as its n-gram)."""
    starts = (np.cumsum(counts) - counts)[counts == length]
    if not starts.size:
        return np.zeros(0, np.uint64)
    words = hashes[starts[:, None] + np.arange(length)[None, :]]
    return grams(words.reshape(-1), np.full(starts.size, length), length)


@lru_cache(maxsize=8)
def build_index(
    names: tuple[str, ...],
    ngram: int,
    min_phrase_words: int,
    mirror: Path | None,
    show_progress: bool = False,
    skip_repeated_phrases: bool = True,
    extra: tuple[str, ...] = (),
) -> BenchmarkIndex:
    """Hash every benchmark n-gram (and every short item as a phrase) once; cached per process.

    With `skip_repeated_phrases`, a short item that occurs more than once in its benchmark
    (a question template such as "Which of the following statements is true?") is not used.
    `extra` are `ExtraBenchmark` keys, indexed after the built-ins under their own names.
    """
    extras = {b.name: b for b in (ExtraBenchmark.model_validate_json(key) for key in extra)}
    names = (*names, *extras)
    collected: dict[int, list[tuple[np.ndarray, int]]] = {}
    items, phrase_items, skipped = {}, {}, {}
    # Every n-gram or phrase the index holds begins with `min_phrase_words` words of some
    # benchmark text: a bit per such leading run lets a scan skip most word positions early.
    prefix_bitmap = np.zeros(1 << (_PREFIX_BITS - 3), np.uint8)
    for number, name in enumerate(tqdm(names, desc="benchmark n-grams", disable=not show_progress)):
        if name in extras:
            texts = extra_texts(extras[name])
        else:
            texts = benchmark_texts(CATALOG[name], mirror)
        _, hashes, counts = decontaminate_words.word_stream(texts)
        _set_bits(prefix_bitmap, runs(hashes, counts, min_phrase_words))
        items[name] = len(texts)
        phrase_items[name], skipped[name] = 0, 0
        collected.setdefault(ngram, []).append((grams(hashes, counts, ngram), number))
        for length in range(min_phrase_words, ngram):
            phrases = _phrase_hashes(hashes, counts, length)
            if skip_repeated_phrases and phrases.size:
                unique, seen = np.unique(phrases, return_counts=True)
                skipped[name] += int(seen[seen > 1].sum())
                phrases = unique[seen == 1]
            phrase_items[name] += int(phrases.size)
            collected.setdefault(length, []).append((phrases, number))
    by_length = {}
    for length, parts in collected.items():
        values = np.concatenate([part for part, _ in parts])
        owners = np.concatenate([np.full(part.size, n, np.int16) for part, n in parts])
        unique, first = np.unique(values, return_index=True)  # first: earliest benchmark wins
        if unique.size:
            by_length[length] = (unique, owners[first])
    # A bit per top-_BITS-bit hash prefix of any benchmark n-gram: rows are screened with one
    # array lookup per n-gram, and only the few that pass are searched for.
    bitmap = np.zeros(1 << _BITS, bool)
    for known, _ in by_length.values():
        bitmap[known >> np.uint64(64 - _BITS)] = True
    return BenchmarkIndex(
        names=names,
        by_length=by_length,
        bitmap=bitmap,
        prefix_words=min_phrase_words,
        prefix_bitmap=prefix_bitmap,
        items=items,
        phrase_items=phrase_items,
        repeated_phrases=skipped,
    )


def _set_bits(bitmap: np.ndarray, hashes: np.ndarray) -> None:
    """Set the bit of each hash's top `_PREFIX_BITS` bits in the packed `bitmap`."""
    top = hashes >> np.uint64(64 - _PREFIX_BITS)
    np.bitwise_or.at(bitmap, top >> np.uint64(3), (1 << (top & np.uint64(7))).astype(np.uint8))


def _has_bits(bitmap: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """Whether the bit of each hash's top `_PREFIX_BITS` bits is set in the packed `bitmap`."""
    top = (hashes >> np.uint64(64 - _PREFIX_BITS)).astype(np.int32)
    byte = np.take(bitmap, top >> 3)
    np.right_shift(byte, (top & 7).astype(np.uint8), out=byte)
    byte &= 1
    return byte.view(bool)


def _lookup(index: BenchmarkIndex, length: int, grams: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of `grams` (n-gram hashes of one length) the index holds, and their benchmarks."""
    known, owners = index.by_length[length]
    maybe = np.flatnonzero(index.bitmap[grams >> np.uint64(64 - _BITS)])
    at = np.minimum(np.searchsorted(known, grams[maybe]), known.size - 1)
    found = known[at] == grams[maybe]
    return maybe[found], owners[at[found]]


def _hits(texts: list[str], index: BenchmarkIndex) -> list[tuple]:
    """Every (length, text, start, benchmark) of an indexed n-gram or phrase in `texts`.

    The first `prefix_words` words at every position of the whole word stream are screened
    by the prefix bitmap at once (runs across two texts included: they are dropped after);
    only positions that pass are extended, a word at a time, to longer n-grams.
    """
    order, hashes, counts = decontaminate_words.word_stream(texts)
    first = index.prefix_words
    ends = np.cumsum(counts)
    acc = decontaminate_words.folds(hashes, first)
    position = np.flatnonzero(_has_bits(index.prefix_bitmap, acc))
    doc = np.searchsorted(ends, position, side="right")
    remaining = ends[doc] - position  # words left in the text from this position
    inside = remaining >= first
    position, doc, remaining = position[inside], doc[inside], remaining[inside]
    acc = acc[position]
    found = []
    with np.errstate(over="ignore"):
        for length in range(first, max(index.by_length) + 1):
            if length > first:
                inside = remaining >= length
                position, doc, remaining = position[inside], doc[inside], remaining[inside]
                acc = acc[inside]
                acc *= decontaminate_words.MIX1
                acc += hashes[position + length - 1]
            if length in index.by_length and position.size:
                hit, owners = _lookup(index, length, avalanche(acc.copy()))
                docs = doc[hit]
                starts = position[hit] - (ends[docs] - counts[docs])
                found.append((length, order[docs], starts, owners))
    return found


def scan(texts: list[str], index: BenchmarkIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each text: the matched benchmark's number (-1 if none), the phrase length and start."""
    owner = np.full(len(texts), -1, np.int64)
    length_of = np.zeros(len(texts), np.int64)
    start_of = np.zeros(len(texts), np.int64)
    if not index.by_length:  # benchmarks with no item long enough to match
        return owner, length_of, start_of
    # Longest phrase first; within a length, the earliest n-gram of the text.
    for length, docs, starts, owners in sorted(_hits(texts, index), key=lambda f: -f[0]):
        fresh = owner[docs] < 0
        hit_docs, first = np.unique(docs[fresh], return_index=True)
        owner[hit_docs] = owners[fresh][first]
        length_of[hit_docs] = length
        start_of[hit_docs] = starts[fresh][first]
    return owner, length_of, start_of


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def verdicts(table: pa.Table, config: Config, ctx: StageContext | None = None) -> Verdicts:
    """Judge rows containing a benchmark n-gram (or a short benchmark item as a phrase).

    Columns read: messages. Verdicts: reason `contaminated:<benchmark>`, or None. Extras:
    per benchmark, items, phrase items, rows matched and an example matched n-gram.
    """
    ctx = ctx or StageContext()
    index = build_index(
        tuple(config.benchmarks),
        config.ngram,
        config.min_phrase_words,
        ctx.mirror,
        ctx.show_progress,
        config.skip_repeated_phrases,
        config.extra_keys(),
    )
    texts = match_texts(table, config.fields)
    owner, lengths, starts = scan(texts, index)
    reasons = [None if o < 0 else reason_for(index.names[o]) for o in owner.tolist()]
    extras: dict[str, dict] = {}
    for number, name in enumerate(index.names):
        rows = np.flatnonzero(owner == number)
        example = None
        if rows.size:
            row = int(rows[0])
            words = _words(texts[row])
            example = " ".join(words[starts[row] : starts[row] + lengths[row]])
        extras[name] = {
            "items": index.items[name],
            "phrase_items": index.phrase_items[name],
            "repeated_phrases_skipped": index.repeated_phrases[name],
            "rows": int(rows.size),
            "example": example,
        }
    return Verdicts(reasons, extras={"ngram": config.ngram, "benchmarks": extras})


def inputs(config: Config, ctx: StageContext) -> list[Path]:
    """The mirror files this filter reads (for the manifest's sha256 lock)."""
    return benchmark_files(list(config.benchmarks), ctx.mirror) + extra_files(
        config.extra_benchmarks
    )
