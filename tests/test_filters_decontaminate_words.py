"""Decontamination's word stream: the same words as the regex cut, one hash per word, any path."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import polars as pl

from filters import decontaminate
from filters.decontaminate_words import word_stream

_MASK = (1 << 64) - 1
TEXTS = [
    "Hello, World! snake_case 42x",  # ASCII: cut as bytes
    "",
    None,
    "internationalisation antidisestablishmentarianism",  # words over 8 and 16 bytes
    "She said \u201chello world\u201d \u2013 twice\u2026",  # curly quotes, dash: bytes too
    "Caf\u00e9 CR\u00c8ME br\u00fbl\u00e9e for HELLO world",  # letters beyond ASCII: polars
    "\ufb01ne \u00bd cup",  # NFKC: the ligature becomes "fine", the half "1/2" (fraction slash)
    "tab\tand\x00nul separated",
]


def _avalanche(x: int) -> int:
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _word_hash(word: str) -> int:
    """The documented rule, one word at a time in plain Python."""
    data = word.encode("utf-8")
    value = int.from_bytes(data[:8], "little")
    for at in range(8, len(data), 8):
        value = _avalanche(value) ^ int.from_bytes(data[at : at + 8], "little")
    return _avalanche(value)


def _words(text: str | None) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFKC", text or "").lower())


def test_stream_has_the_regex_words_of_every_text_hashed_by_the_rule():
    order, hashes, counts = word_stream(TEXTS)
    assert sorted(order.tolist()) == list(range(len(TEXTS)))
    assert order.tolist()[:4] == [0, 1, 2, 3]  # ASCII texts first, in their order
    ends = np.cumsum(counts)
    for at, text in enumerate(order.tolist()):
        got = hashes[ends[at] - counts[at] : ends[at]].tolist()
        assert got == [_word_hash(word) for word in _words(TEXTS[text])], TEXTS[text]
    assert counts[order.tolist().index(6)] == 4  # "fine", "1", "2", "cup"


def test_a_word_hashes_alike_on_the_byte_path_and_the_polars_path():
    _, ascii_hashes, _ = word_stream(["hello world"])
    order, hashes, counts = word_stream(["\u00e9t\u00e9 HELLO World"])
    assert counts.tolist() == [3]
    assert hashes[1:].tolist() == ascii_hashes.tolist()


def test_combining_marks_are_word_characters_as_polars_cuts_them():
    text = "Apple Inc. \u0326\u0326 was founded"
    _, _, counts = word_stream([text])
    regex = pl.Series([text]).str.to_lowercase().str.extract_all(r"\w+").list.len()
    assert counts.tolist() == regex.to_list() == [5]


def test_hits_are_reported_at_their_rows_whichever_path_cut_them(mirror):
    index = decontaminate.build_index(("truthfulqa",), 13, 5, mirror)
    question = "What happens to you if you eat watermelon seeds?"
    texts = [
        f"Caf\u00e9 quiz: {question}",  # polars path
        "Nothing to see here, just a plain prompt.",
        f"\u201c{question}\u201d she asked",  # byte path, after the ASCII rows
        f"Plain: {question}",
    ]
    owner, length, start = decontaminate.scan(texts, index)
    assert owner.tolist() == [0, -1, 0, 0]
    assert length.tolist() == [9, 0, 9, 9]
    assert start.tolist() == [2, 0, 0, 1]
