"""The novelty gate: ROUGE-L F of a candidate against every pool instruction, fast and exact.

Scores equal `rouge_score.rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)` bit for bit
(as the Self-Instruct pipeline used it: `scorer.score(candidate, pool_instruction)`): the same
tokenisation (lowercase, non-alphanumerics to spaces, split, keep `[a-z0-9]+` tokens), the LCS
length of the token sequences (computed by rapidfuzz's `LCSseq` over token ids mapped to code
points), and F computed with rouge_score's own float expression, so ties at the threshold agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import LCSseq

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_SPACES = re.compile(r"\s+")
_VALID = re.compile(r"^[a-z0-9]+$")
_SURROGATES = 0xD800
_SURROGATE_SPAN = 0x800


def rouge_tokens(text: str) -> list[str]:
    """Tokens of `text` as rouge_score's default tokenizer (no stemmer) makes them.

    >>> rouge_tokens("Write a haiku -- about the SEA!")
    ['write', 'a', 'haiku', 'about', 'the', 'sea']
    """
    text = _NON_ALNUM.sub(" ", text.lower())
    return [token for token in _SPACES.split(text) if _VALID.match(token)]


def rouge_l_f(lcs: np.ndarray, target_len: int, prediction_lens: np.ndarray) -> np.ndarray:
    """ROUGE-L F of one target against many predictions, as rouge_score computes it.

    precision = lcs / len(prediction), recall = lcs / len(target),
    F = 2 * precision * recall / (precision + recall), 0 where either side has no tokens.
    Float64 numpy operations in the same order give the same IEEE results as Python floats.
    """
    lcs = lcs.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = lcs / prediction_lens.astype(np.float64)
        recall = lcs / float(target_len) if target_len else np.zeros_like(lcs)
        total = precision + recall
        scores = 2 * precision * recall / total
    valid = (prediction_lens > 0) & (target_len > 0) & (total > 0)
    return np.where(valid, scores, 0.0)


@dataclass
class NoveltyIndex:
    """A growing pool of instructions scored by ROUGE-L against each new candidate.

    >>> index = NoveltyIndex(["Give three tips for staying healthy."])
    >>> round(float(index.scores("Give three tips for staying happy.").max()), 4)
    0.8333
    """

    texts: list[str] = field(default_factory=list)
    _vocab: dict[str, int] = field(default_factory=dict, repr=False)
    _encoded: list[str] = field(default_factory=list, repr=False)
    _lengths: list[int] = field(default_factory=list, repr=False)
    _length_array: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        texts, self.texts = list(self.texts), []
        for text in texts:
            self.add(text)

    def _encode(self, text: str) -> tuple[str, int]:
        ids = []
        for token in rouge_tokens(text):
            index = self._vocab.setdefault(token, len(self._vocab))
            # one code point per token id, skipping the surrogate range
            code = index + 1 + (_SURROGATE_SPAN if index + 1 >= _SURROGATES else 0)
            ids.append(chr(code))
        return "".join(ids), len(ids)

    def add(self, text: str) -> None:
        """Add `text` to the pool."""
        encoded, length = self._encode(text)
        self.texts.append(text)
        self._encoded.append(encoded)
        self._lengths.append(length)
        self._length_array = None

    def truncate(self, size: int) -> None:
        """Drop every text added after the first `size` (undo a round that did not complete)."""
        del self.texts[size:], self._encoded[size:], self._lengths[size:]
        self._length_array = None

    def __len__(self) -> int:
        return len(self.texts)

    def scores(self, candidate: str) -> np.ndarray:
        """ROUGE-L F of `candidate` (as target) against every pool text (as prediction)."""
        if not self.texts:
            return np.zeros(0, dtype=np.float64)
        if self._length_array is None:
            self._length_array = np.asarray(self._lengths, dtype=np.int64)
        encoded, length = self._encode(candidate)
        lcs = process.cdist(
            [encoded], self._encoded, scorer=LCSseq.similarity, dtype=np.int32, workers=1
        )[0]
        return rouge_l_f(lcs, length, self._length_array)

    def most_similar(self, scores: np.ndarray, n: int = 10) -> dict[str, float]:
        """The `n` pool texts with the highest scores, best first, as {text: score}."""
        order = np.argsort(scores, kind="stable")[::-1][:n]
        return {self.texts[i]: float(scores[i]) for i in order}

    def dump(self) -> dict:
        """The index as JSON-ready data (texts, vocabulary, encoded token sequences), so a
        later run loads it instead of tokenising the whole pool again."""
        return {
            "texts": self.texts,
            "vocab": list(self._vocab),
            "encoded": self._encoded,
            "lengths": self._lengths,
        }

    @classmethod
    def load(cls, data: dict) -> NoveltyIndex:
        """The index `dump` wrote (no text is tokenised again)."""
        index = cls()
        index.texts = list(data["texts"])
        index._vocab = {token: number for number, token in enumerate(data["vocab"])}
        index._encoded = list(data["encoded"])
        index._lengths = [int(n) for n in data["lengths"]]
        if not len(index.texts) == len(index._encoded) == len(index._lengths):
            raise ValueError("texts, encoded and lengths differ in length")
        return index
