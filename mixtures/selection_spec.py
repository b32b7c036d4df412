"""The recipe's `select:` block: best score first, optionally diversity-aware (pydantic only)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class EmbeddingSpec(BaseModel):
    """How rows become vectors for the diversity distance.

    `hashed_tfidf` (the default) needs no download: word n-grams hashed into `features` buckets,
    TF-IDF weighted; the greedy compares exact TF-IDF cosines, k-means runs on the TF-IDF
    reduced to `dims` with randomized SVD. `encoder` runs a
    sentence-transformers model (or any transformers encoder, mean-pooled) from `model`.
    """

    model_config = ConfigDict(extra="forbid")

    kind: Literal["hashed_tfidf", "encoder"] = "hashed_tfidf"
    text: Literal["prompt", "prompt_response"] = Field(
        default="prompt", description="what is embedded: the prompt, or prompt and response"
    )
    dims: int = Field(default=128, ge=2, le=4096, description="dimensions after the SVD")
    ngram_min: int = Field(default=1, ge=1, le=5)
    ngram_max: int = Field(default=2, ge=1, le=5)
    features: int = Field(default=2**18, ge=2**8, le=2**24, description="hash buckets")
    stop_words: bool = Field(default=True, description="drop English stop words before hashing")
    model: str | None = Field(default=None, description="encoder: a local path or Hub id")
    batch_size: int = Field(default=32, ge=1, le=4096)

    @model_validator(mode="after")
    def _check(self) -> EmbeddingSpec:
        if self.kind == "encoder" and not self.model:
            raise ValueError("an encoder embedding needs model: a local path or a Hub id")
        if self.ngram_min > self.ngram_max:
            raise ValueError(f"ngram_min {self.ngram_min} is above ngram_max {self.ngram_max}")
        return self


class DiversitySpec(BaseModel):
    """Diversity-aware selection.

    `greedy` (DEITA-style): rows best score first, a row is skipped when its cosine similarity
    to a row already kept exceeds `max_similarity`. `clusters`: k-means with `clusters` centres,
    rows drawn evenly across clusters (best score first in each, at most `cap` per cluster).
    Either way the report shows the cluster histogram before and after.
    """

    model_config = ConfigDict(extra="forbid")

    method: Literal["greedy", "clusters"] = "greedy"
    max_similarity: float = Field(
        default=0.9,
        gt=0,
        lt=1,
        description="greedy: skip rows more similar than this to a kept row",
    )
    clusters: int = Field(default=20, ge=2, le=10_000, description="k of the k-means")
    cap: int | None = Field(default=None, ge=1, description="clusters: most rows per cluster")
    embedding: EmbeddingSpec = Field(default_factory=EmbeddingSpec)


class SelectSpec(BaseModel):
    """`select: {by: quality, diversity: {...}}`: which rows fill the amount, best first."""

    model_config = ConfigDict(extra="forbid")

    by: str = Field(
        default="quality",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="meta key of the score (higher first; unscored rows last)",
    )
    diversity: DiversitySpec | None = Field(
        default=None, description="without it: the best-scored rows, no diversity check"
    )
