"""Near deduplication: MinHash signatures per shard in parallel, LSH bands grouped with polars,
candidate pairs verified, scipy components, the best row of each cluster kept.

Nothing holds every row's signature in one index: each shard (of `shard_size` rows) is turned
into band keys (one uint64 per row and band) in a worker process, and only those keys come back.
Rows sharing a key in any band are candidates; with `verify` on, a candidate pair counts only if
its exact Jaccard similarity on the same shingles (or its rapidfuzz ratio) reaches `threshold`.
A cluster (connected pairs) keeps one row - source priority, then quality, then position - and
the others point to it with `duplicate_of`, even when linked to it only through another member.

Reject reason: `near_duplicate`. Rows without any word are never near duplicates (see
`exact_dedup` and `length` for empty text).
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Literal

import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator
from tqdm.auto import tqdm

from filters import minhash
from filters.components import components
from filters.dispatch import Verdicts
from filters.ranking import survivors
from filters.text import match_texts, normalise_for_match
from instances.context import StageContext

STAGE = "near_dedup"
NEAR_DUPLICATE = "near_duplicate"


class Config(BaseModel):
    """Near dedup settings: shingles, MinHash/LSH, verification, sharding and survival order."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["near_dedup"] = "near_dedup"
    fields: Literal["prompt", "prompt_response"] = Field(
        default="prompt", description="compare the prompt only, or prompt and response"
    )
    ngram: int = Field(default=3, ge=1, le=32, description="words per shingle")
    num_perm: int = Field(default=128, ge=8, le=1024, description="MinHash permutations")
    threshold: float = Field(default=0.8, gt=0, le=1, description="Jaccard similarity of dupes")
    recall_at_threshold: float = Field(
        default=0.9,
        gt=0,
        lt=1,
        description="chance that a pair exactly at the threshold becomes a candidate (picks bands)",
    )
    bands: int | None = Field(default=None, ge=1, description="LSH bands (with rows_per_band)")
    rows_per_band: int | None = Field(default=None, ge=1, description="signature rows per band")
    verify: Literal["jaccard", "rapidfuzz", "none"] = Field(
        default="jaccard", description="check candidate pairs before treating them as duplicates"
    )
    max_bucket_pairs: int = Field(
        default=32,
        ge=2,
        le=10_000,
        description="a band bucket larger than this is checked against its first row only",
    )
    shard_size: int = Field(default=20_000, ge=100, description="rows per signature shard")
    workers: int = Field(default=2, ge=1, le=64, description="shards computed at once")
    executor: Literal["thread", "process"] = Field(
        default="thread",
        description="run shards in threads (numpy and polars release the GIL; no start-up) or "
        "in processes (forkserver; for tables whose signatures outgrow one process)",
    )
    seed: int = Field(default=0, ge=0, description="hash seed of shingles and permutations")
    source_priority: list[str] = Field(
        default_factory=list, description="sources in survival order; unlisted sources come last"
    )
    quality_key: str | None = Field(
        default=None, description="meta key of a numeric quality score; higher survives"
    )

    @model_validator(mode="after")
    def _bands_fit(self) -> Config:
        if (self.bands is None) != (self.rows_per_band is None):
            raise ValueError("give both bands and rows_per_band, or neither")
        if self.bands is not None and self.bands * self.rows_per_band > self.num_perm:
            raise ValueError(
                f"bands x rows_per_band = {self.bands * self.rows_per_band} exceeds "
                f"num_perm = {self.num_perm}"
            )
        return self

    def banding(self) -> tuple[int, int]:
        """The (bands, rows per band) in use: as given, or chosen for the threshold."""
        if self.bands is not None and self.rows_per_band is not None:
            return self.bands, self.rows_per_band
        return minhash.optimal_bands(self.threshold, self.num_perm, self.recall_at_threshold)


def _pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers fork from a server that preloads `minhash` (and `__main__`).

    The server is started once per process and reused by later pools; it holds no threads, so
    forking from it is safe (polars is threaded and must not be forked mid-flight).
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "filters.minhash"])
    return ProcessPoolExecutor(workers, mp_context=context)


def band_frame(texts: list[str], config: Config, show_progress: bool = False) -> pl.DataFrame:
    """Band keys of all `texts` as a polars frame (row, key), computed shard by shard.

    With more than one shard, `config.workers` shards run at once, in threads or processes
    (`config.executor`); each returns only its band keys.
    """
    shards = [texts[i : i + config.shard_size] for i in range(0, len(texts), config.shard_size)]
    bands, rows = config.banding()
    keys_of = functools.partial(
        minhash.text_band_keys,
        ngram=config.ngram,
        num_perm=config.num_perm,
        bands=bands,
        rows=rows,
        seed=config.seed,
    )
    progress = tqdm(total=len(shards), desc="near_dedup signatures", disable=not show_progress)
    results = []
    if config.workers > 1 and len(shards) > 1:
        workers = min(config.workers, len(shards))
        pool = _pool(workers) if config.executor == "process" else ThreadPoolExecutor(workers)
        with pool:
            for result in pool.map(keys_of, shards):
                results.append(result)
                progress.update()
    else:
        for shard in shards:
            results.append(keys_of(shard))
            progress.update()
    progress.close()
    frames = []
    for index, (keys, present) in enumerate(results):
        positions = np.flatnonzero(present) + index * config.shard_size
        frames.append(
            pl.DataFrame(
                {
                    "row": np.repeat(positions, keys.shape[1]).astype(np.int64),
                    "key": keys[present].reshape(-1),
                }
            )
        )
    if not frames:
        return pl.DataFrame(schema={"row": pl.Int64, "key": pl.UInt64})
    return pl.concat(frames)


def candidate_pairs(bands: pl.DataFrame, max_bucket_pairs: int) -> list[tuple[int, int]]:
    """Distinct (i, j) row pairs, i < j, sharing a band key (band keys are unique per band).

    A bucket of at most `max_bucket_pairs` rows yields all its pairs; a larger one pairs each
    row with the bucket's first row only (large buckets are mostly exact copies).
    """
    if bands.is_empty():
        return []
    buckets = (
        bands.filter(pl.col("key").is_duplicated())
        .group_by("key")
        .agg(pl.col("row").sort())
        .get_column("row")
        .to_list()
    )
    pairs: set[tuple[int, int]] = set()
    for members in buckets:
        if len(members) <= max_bucket_pairs:
            pairs.update(itertools.combinations(members, 2))
        else:
            pairs.update((members[0], other) for other in members[1:])
    return sorted(pairs)


def verified_pairs(
    texts: list[str], pairs: list[tuple[int, int]], config: Config
) -> list[tuple[int, int]]:
    """The candidate `pairs` whose similarity reaches the threshold (all of them without verify)."""
    if config.verify == "none" or not pairs:
        return pairs
    involved = sorted({row for pair in pairs for row in pair})
    index = {row: n for n, row in enumerate(involved)}
    if config.verify == "jaccard":
        # Each involved row's distinct shingles in one flat array; Jaccard of all pairs at once.
        hashes, offsets = minhash.unique_shingles(
            [texts[row] for row in involved], config.ngram, config.seed
        )
        left = np.array([index[i] for i, _ in pairs], np.int64)
        right = np.array([index[j] for _, j in pairs], np.int64)
        similar = minhash.jaccard_many(hashes, offsets, left, right) >= config.threshold
        return [pair for pair, keep in zip(pairs, similar.tolist(), strict=True) if keep]
    from rapidfuzz import fuzz

    normal = [normalise_for_match(texts[row]) for row in involved]
    cutoff = config.threshold * 100
    return [
        (i, j)
        for i, j in pairs
        if fuzz.ratio(normal[index[i]], normal[index[j]], score_cutoff=cutoff) >= cutoff
    ]


def verdicts(table: pa.Table, config: Config, ctx: StageContext | None = None) -> Verdicts:
    """Judge every row that is a near duplicate of a better row (MinHash LSH, verified).

    Columns read: messages, source, meta, id. Verdicts: reason `near_duplicate` and
    duplicate_of = the id of the row kept in its cluster.
    The report's extras give bands, rows per band, candidate and verified pairs and clusters.
    """
    started = time.perf_counter()
    show = bool(ctx and ctx.show_progress)
    texts = match_texts(table, config.fields)
    bands, rows = config.banding()
    frame = band_frame(texts, config, show)
    signed = time.perf_counter()
    pairs = candidate_pairs(frame, config.max_bucket_pairs)
    grouped = time.perf_counter()
    verified = verified_pairs(texts, pairs, config)
    labels = components(table.num_rows, verified)
    duplicate_of = survivors(table, labels.tolist(), config.source_priority, config.quality_key)
    reasons = [None if d is None else NEAR_DUPLICATE for d in duplicate_of]
    sizes = np.bincount(labels, minlength=table.num_rows)
    extras = {
        "bands": bands,
        "rows_per_band": rows,
        "candidate_pairs": len(pairs),
        "verified_pairs": len(verified),
        "clusters": int((sizes > 1).sum()),
        "signature_seconds": round(signed - started, 3),
        "bucket_seconds": round(grouped - signed, 3),
        "verify_seconds": round(time.perf_counter() - grouped, 3),
    }
    return Verdicts(reasons, duplicate_of, extras)
