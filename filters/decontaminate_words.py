"""The words decontamination matches on, as 64-bit hashes, cut and hashed in bulk.

A word is a `\\w+` run of the NFKC-normalised, lower-cased text, as polars' regex cuts it (the
filter's rule since it first used polars). ASCII texts - nearly all of an English corpus - need
neither NFKC nor Unicode rules: they are joined into one byte buffer, a 256-entry table
lower-cases letters and zeroes every other non-word byte, words are the runs of non-zero bytes,
and each word's bytes are read eight at a time as little-endian integers. A text with other
characters is NFKC-normalised (Python's `unicodedata`, the exact reference's tables); if none
of those characters is a word character it joins the byte buffer with each of them as "?",
otherwise polars lower-cases and cuts it, and its words' UTF-8 bytes are hashed by the same
rule, so a word has one hash whichever path it took.

The hash of a word of bytes `b`: `h = chunk_0`, then `h = avalanche(h) ^ chunk_k` for each
further eight bytes (zero-padded), and `avalanche(h)` at the end (splitmix64's finaliser). Two
different words of at most eight bytes never share a hash.
"""

from __future__ import annotations

import operator
import unicodedata
from collections.abc import Sequence
from itertools import compress

import numpy as np
import polars as pl

_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
# A run of words folds as `acc = acc * MIX1 + word`, from GOLDEN (as filters/minhash.py does).
GOLDEN, MIX1 = np.uint64(0x9E3779B97F4A7C15), _MIX1
_MIX2 = np.uint64(0x94D049BB133111EB)
# _MASKS[n] keeps the first n bytes of a little-endian uint64 (n = 0..8).
_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(9)], np.uint64)
# A character beyond ASCII that polars' `\\w` matches (every character that lower-casing
# changes is one: letters, circled letters, Roman numerals).
_NON_ASCII_WORD = r"[\w&&[^\x00-\x7F]]"
_PAD = 8  # zero bytes after the last word, so every eight-byte read stays inside the buffer


def _table() -> bytes:
    """Byte -> itself lower-cased if it is an ASCII word character (`[A-Za-z0-9_]`), else 0."""
    table = bytearray(256)
    for byte in range(128):
        char = chr(byte)
        if char.isalnum() or char == "_":
            table[byte] = ord(char.lower())
    return bytes(table)


_ASCII_WORDS = _table()


def avalanche(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, in place on uint64 `values` (returned for chaining)."""
    scratch = np.empty_like(values)
    with np.errstate(over="ignore"):
        for shift, multiplier in ((30, _MIX1), (27, _MIX2), (31, None)):
            np.right_shift(values, np.uint64(shift), out=scratch)
            values ^= scratch
            if multiplier is not None:
                values *= multiplier
    return values


def hash_spans(data: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The hash of each word `data[start:start + length]` (uint8 `data` ends in 8 spare bytes)."""
    if not starts.size:
        return np.zeros(0, np.uint64)
    # Every byte offset read as a little-endian uint64 (an unaligned, overlapping view).
    words = np.ndarray((data.size - _PAD + 1,), "<u8", data, strides=(1,))
    hashes = words[starts]
    hashes &= np.take(_MASKS, lengths, mode="clip")  # lengths over 8 keep all 8 bytes
    longer = np.flatnonzero(lengths > 8)
    done = 8
    while longer.size:
        left = lengths[longer] - done
        chunk = words[starts[longer] + done] & np.take(_MASKS, left, mode="clip")
        hashes[longer] = avalanche(hashes[longer]) ^ chunk
        longer = longer[left > 8]
        done += 8
    return avalanche(hashes)


def _byte_words(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hashes and words per text for ASCII-only `texts`."""
    # A zero byte before each text and eight after the last: no word spans two texts, and
    # every eight-byte read stays inside the buffer.
    joined = "\0".join(["", *texts, "\0" * (_PAD - 1)]).encode("ascii")
    data = np.frombuffer(joined.translate(_ASCII_WORDS), np.uint8)
    is_word = data != 0
    # Bounds alternate (start, end, start, ...) since the buffer begins and ends with zeros.
    bounds = np.flatnonzero(is_word[1:] != is_word[:-1])
    starts, ends = bounds[0::2] + 1, bounds[1::2] + 1
    sizes = np.fromiter(map(len, texts), np.int64, len(texts)) + 1
    first_word = np.searchsorted(starts, np.cumsum(sizes) - sizes + 1)
    counts = np.diff(first_word, append=starts.size)
    return hash_spans(data, starts, ends - starts), counts


def _regex_words(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Hashes and words per text for NFKC-normalised `texts`, lower-cased and cut by polars."""
    words = pl.Series("text", texts, dtype=pl.String).str.to_lowercase().str.extract_all(r"\w+")
    counts = words.list.len().fill_null(0).to_numpy().astype(np.int64)
    flat = words.explode().drop_nulls().to_arrow(compat_level=pl.CompatLevel.oldest())
    if not len(flat):
        return np.zeros(0, np.uint64), counts
    _, offsets, payload = flat.buffers()
    offsets = np.frombuffer(offsets, np.int64)[flat.offset : flat.offset + len(flat) + 1]
    data = np.concatenate([np.frombuffer(payload, np.uint8), np.zeros(_PAD, np.uint8)])
    return hash_spans(data, offsets[:-1], np.diff(offsets)), counts


def _nfkc(text: str) -> str:
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def word_stream(texts: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The words of every text, hashed: (order, hashes, counts).

    The stream holds the texts in `order` (indices into `texts`: those cut as bytes first, the
    others after); `counts[i]` words of text `order[i]` follow those of `order[i - 1]`. A text
    with characters beyond ASCII is NFKC-normalised; if none of those characters is a word
    character (curly quotes, dashes, symbols), each becomes a non-word byte and the text is cut
    as bytes too; otherwise polars cuts it.
    """
    texts = ["" if text is None else text for text in texts]
    plain = list(map(str.isascii, texts))
    if all(plain):
        return np.arange(len(texts)), *_byte_words(texts)
    others = [_nfkc(text) for text in compress(texts, map(operator.not_, plain))]
    has_word = pl.Series(others, dtype=pl.String).str.contains(_NON_ASCII_WORD).to_list()
    # Non-word characters beyond ASCII become "?", a non-word ASCII character.
    simple = compress(others, map(operator.not_, has_word))
    hashes, counts = _byte_words(
        [*compress(texts, plain), *(t.encode("ascii", "replace").decode() for t in simple)]
    )
    if any(has_word):
        more, more_counts = _regex_words(list(compress(others, has_word)))
        hashes = np.concatenate([hashes, more])
        counts = np.concatenate([counts, more_counts])
    ascii_rows = np.array(plain, bool)
    other_rows = np.flatnonzero(~ascii_rows)
    regex_rows = np.array(has_word, bool)
    order = [np.flatnonzero(ascii_rows), other_rows[~regex_rows], other_rows[regex_rows]]
    return np.concatenate(order), hashes, counts


def folds(hashes: np.ndarray, length: int) -> np.ndarray:
    """The fold (not avalanched) of every run of `length` consecutive words of the stream.

    Runs across two texts are included; `runs` keeps only those inside one text.
    """
    windows = max(hashes.size - length + 1, 0)
    acc = np.full(windows, GOLDEN, np.uint64)
    with np.errstate(over="ignore"):
        for offset in range(length):
            acc *= MIX1
            acc += hashes[offset : offset + windows]
    return acc


def runs(hashes: np.ndarray, counts: np.ndarray, length: int) -> np.ndarray:
    """`folds` of the runs of `length` words inside one text (texts of `counts` words)."""
    ends = np.cumsum(counts)
    start = np.arange(max(hashes.size - length + 1, 0))
    text = np.searchsorted(ends, start, side="right")
    return folds(hashes, length)[ends[text] - start >= length]


def grams(hashes: np.ndarray, counts: np.ndarray, length: int) -> np.ndarray:
    """The hash of every n-gram of `length` words inside one text: its fold, avalanched."""
    return avalanche(runs(hashes, counts, length))
