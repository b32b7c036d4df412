"""Synthetic instance rows for the scale benchmark, made a shard at a time with numpy and Arrow.

Each row is a Stanford Alpaca row (cycled) whose prompt and response words are edited: about
15% of the words (at least one) replaced by words of the Alpaca vocabulary, and one made-up
word (`zq` + the row number in base 26) inserted into the response, so every row is distinct.
A shard is a pure function of (seed, first row, row count): no Python loop runs per word, and
the ids (`instances.ids.instance_id`) are hashed from a canonical JSON built by Arrow kernels.

    >>> table = synthetic_shard(default_mirror(), 0, 3, seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from instances import INSTANCE_SCHEMA

EDIT_RATE = 0.15
VOCABULARY_ROWS = 2000  # the replacement words: those of Alpaca's first rows
CONSTANTS = {
    "source": "synthetic",
    "origin": "distilled",
    "task": "alpaca",
    "category": "general",
    "template": "alpaca",
    "lang": "en",
    "meta": "{}",
}


@dataclass(frozen=True)
class Words:
    """Alpaca tokenised once: every distinct word, and each row's prompt/response word ids."""

    words: pa.Array  # string, every distinct word (NFC, no whitespace or control characters)
    prompt: tuple[np.ndarray, np.ndarray]  # (flat word ids, offsets per row)
    response: tuple[np.ndarray, np.ndarray]
    vocabulary: np.ndarray  # word ids edits draw from


def _clean(word: str) -> str | None:
    word = unicodedata.normalize("NFC", word)
    if any(unicodedata.category(c)[0] in "CZ" for c in word):
        return None  # control or separator characters would need JSON escapes of their own
    return word


@lru_cache(maxsize=2)
def alpaca_words(mirror: str) -> Words:
    """Stanford Alpaca (from the mirror) as word ids (split and encoded by Arrow kernels)."""
    rows = json.loads((Path(mirror) / "stanford_alpaca" / "alpaca_data.json").read_text("utf-8"))
    prompts = [r["instruction"] + (f"\n\n{r['input']}" if r["input"] else "") for r in rows]
    texts = pa.array(prompts + [r["output"] for r in rows], pa.string())
    split = pc.utf8_split_whitespace(texts)
    encoded = pc.dictionary_encode(split.flatten())
    cleaned = [_clean(w) for w in encoded.dictionary.to_pylist()]
    words = sorted({w for w in cleaned if w})
    number = {w: i for i, w in enumerate(words)}
    remap = np.array([number[w] if w else -1 for w in cleaned], np.int64)
    ids = remap[encoded.indices.to_numpy()]
    row_of = np.repeat(np.arange(len(texts)), pc.list_value_length(split).to_numpy())
    keep = ids >= 0
    ids, row_of = ids[keep], row_of[keep]
    offsets = np.searchsorted(row_of, np.arange(len(texts) + 1))
    half = len(rows)
    prompt = (ids[: offsets[half]], offsets[: half + 1])
    response = (ids[offsets[half] :], offsets[half:] - offsets[half])
    chosen = np.unique(ids[: offsets[VOCABULARY_ROWS]])
    chosen = np.union1d(chosen, response[0][: response[1][VOCABULARY_ROWS]])
    return Words(pa.array(words, pa.string()), prompt, response, chosen)


def _rows(part: tuple[np.ndarray, np.ndarray], base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The word ids of rows `base` (flat, with offsets)."""
    flat, offsets = part
    starts, lengths = offsets[base], offsets[base + 1] - offsets[base]
    out_offsets = np.concatenate([[0], np.cumsum(lengths)])
    within = np.arange(out_offsets[-1]) - np.repeat(out_offsets[:-1], lengths)
    return flat[np.repeat(starts, lengths) + within], out_offsets


def _edit(ids: np.ndarray, offsets: np.ndarray, vocabulary: np.ndarray, rng) -> np.ndarray:
    """`ids` with round(15%) (at least 1) words of every non-empty row replaced."""
    lengths = np.diff(offsets)
    edits = np.where(lengths > 0, np.maximum(1, np.round(lengths * EDIT_RATE)), 0).astype(np.int64)
    rows = np.repeat(np.arange(lengths.size), edits)
    where = offsets[rows] + (rng.random(rows.size) * lengths[rows]).astype(np.int64)
    out = ids.copy()
    out[where] = vocabulary[rng.integers(0, vocabulary.size, rows.size)]
    return out


def _insert(
    ids: np.ndarray, offsets: np.ndarray, new_ids: np.ndarray, rng
) -> tuple[np.ndarray, np.ndarray]:
    """Every row with the word `new_ids[row]` inserted at a random position."""
    lengths = np.diff(offsets)
    at = (rng.random(lengths.size) * (lengths + 1)).astype(np.int64)
    out_offsets = offsets + np.arange(offsets.size)
    rows = np.repeat(np.arange(lengths.size), lengths)
    within = np.arange(ids.size) - offsets[rows]
    out = np.empty(ids.size + lengths.size, np.int64)
    out[out_offsets[rows] + within + (within >= at[rows])] = ids
    out[out_offsets[:-1] + at] = new_ids
    return out, out_offsets


def made_up_word(number: int) -> str:
    """`zq` and `number` in base 26 (a..z, least significant first): a word Alpaca lacks."""
    letters = []
    while True:
        number, rest = divmod(number, 26)
        letters.append(chr(ord("a") + rest))
        if not number:
            return "zq" + "".join(letters)


def _joined(words: pa.Array, ids: np.ndarray, offsets: np.ndarray) -> pa.Array:
    lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), words.take(pa.array(ids)))
    return pc.binary_join(lists, " ")


def _json_string(text: pa.Array) -> pa.Array:
    escaped = pc.replace_substring(text, "\\", "\\\\")
    return pc.replace_substring(escaped, '"', '\\"')


def synthetic_shard(mirror: str | Path, first: int, count: int, seed: int) -> pa.Table:
    """Rows `first` .. `first + count - 1` of the synthetic set, in `INSTANCE_SCHEMA`."""
    data = alpaca_words(str(mirror))
    rng = np.random.default_rng([seed, first, count])
    numbers = np.arange(first, first + count, dtype=np.int64)
    base = numbers % (data.prompt[1].size - 1)
    prompt_ids, prompt_offsets = _rows(data.prompt, base)
    prompt_ids = _edit(prompt_ids, prompt_offsets, data.vocabulary, rng)
    reply_ids, reply_offsets = _rows(data.response, base)
    reply_ids = _edit(reply_ids, reply_offsets, data.vocabulary, rng)
    made_up = pa.array([made_up_word(int(n)) for n in numbers], pa.string())
    words = pa.concat_arrays([data.words, made_up])
    new_ids = len(data.words) + np.arange(count, dtype=np.int64)
    reply_ids, reply_offsets = _insert(reply_ids, reply_offsets, new_ids, rng)
    user = _joined(words, prompt_ids, prompt_offsets)
    assistant = _joined(words, reply_ids, reply_offsets)
    return instance_table(user, assistant)


def instance_table(user: pa.Array, assistant: pa.Array) -> pa.Table:
    """One user and one assistant turn per row (texts already normalised) as instances."""
    count = len(user)
    order = np.arange(2 * count).reshape(2, count).T.ravel()  # user 0, assistant 0, user 1, ...
    contents = pa.concat_arrays([user, assistant]).take(pa.array(order))
    roles = pa.array(np.tile(np.array(["user", "assistant"], dtype=object), count), pa.string())
    turns = pa.StructArray.from_arrays([roles, contents], names=["role", "content"])
    messages = pa.ListArray.from_arrays(pa.array(np.arange(0, 2 * count + 1, 2), pa.int32()), turns)
    canonical = pc.binary_join_element_wise(
        '[{"content":"',
        _json_string(user),
        '","role":"user"},{"content":"',
        _json_string(assistant),
        '","role":"assistant"}]',
        "",
    )
    ids = [hashlib.sha256(text.encode()).hexdigest()[:32] for text in canonical.to_pylist()]
    columns = {"id": pa.array(ids, pa.string()), "messages": messages}
    columns.update(
        {name: pa.array([value] * count, pa.string()) for name, value in CONSTANTS.items()}
    )
    return pa.table(columns).cast(INSTANCE_SCHEMA)
