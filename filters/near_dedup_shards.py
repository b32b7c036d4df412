"""Near dedup as map + reduce over shards, with the verdicts of `filters.near_dedup.run`.

Map (per shard, in a worker, `BATCH_ROWS` rows at a time): the LSH band keys of every row
that has a shingle, one uint64 column per band, with the row's global position, id, source
priority and quality. Reduce: band by band (keys of different bands never meet), the rows
sharing a key are grouped by polars and turned into candidate pairs (`max_bucket_pairs` as in
the in-memory filter); the pairs are verified on exact Jaccard of the rows' shingle sets,
vectorised (`minhash.jaccard_many`), and clustered by connected components (numpy label
propagation). Memory: one batch's texts and signatures, one band's keys at a time, the
candidate pairs, and the shingles of rows that are in some pair.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from filters import minhash
from filters.components import components
from filters.dedup_shards import ranking_columns
from filters.near_dedup import Config
from filters.text import match_texts, normalise_for_match

# Rows of a shard whose texts and signatures are computed at once (bounds the map's memory).
BATCH_ROWS = 2048
# The columns the map step reads: the text, and what survival is ranked on.
READ_COLUMNS = ["id", "messages", "source", "meta"]


def band_column(band: int) -> str:
    """The name of band `band`'s key column in a band table."""
    return f"band{band:03d}"


def band_table(table: pa.Table, config: Config, offset: int) -> pa.Table:
    """Map step for one shard whose first row is global row `offset`: band keys per row."""
    bands, rows = config.banding()
    keys, present = minhash.text_band_keys(
        match_texts(table, config.fields),
        ngram=config.ngram,
        num_perm=config.num_perm,
        bands=bands,
        rows=rows,
        seed=config.seed,
    )
    mask = pa.array(present)
    columns = {"row": pa.array(np.flatnonzero(present).astype(np.int64) + offset)}
    columns.update({band_column(b): pa.array(keys[present, b]) for b in range(bands)})
    for name, values in ranking_columns(table, config.source_priority, config.quality_key).items():
        columns[name] = values.filter(mask)
    return pa.table(columns)


def shard_band_table(
    source: str, config: Config, offset: int, batch_rows: int = BATCH_ROWS
) -> pa.Table:
    """Map step for the shard file `source` (first row global row `offset`), read in batches.

    The band keys are the same as `band_table` of the whole shard gives; only `batch_rows`
    rows' texts, words and signatures are held at once.
    """
    file = pq.ParquetFile(source)
    parts = []
    for batch in file.iter_batches(batch_size=batch_rows, columns=READ_COLUMNS, use_threads=False):
        parts.append(band_table(pa.Table.from_batches([batch]), config, offset))
        offset += batch.num_rows
    if not parts:
        empty = file.schema_arrow.empty_table().select(READ_COLUMNS)
        return band_table(empty, config, offset)
    return pa.concat_tables(parts).combine_chunks()


def texts_at(source: str, rows: np.ndarray, fields: str) -> list[str]:
    """The match texts of the shard file `source`'s sorted local `rows`, read in batches."""
    out: list[str] = []
    first = 0
    file = pq.ParquetFile(source)
    for batch in file.iter_batches(batch_size=BATCH_ROWS, columns=["messages"], use_threads=False):
        low, high = np.searchsorted(rows, [first, first + batch.num_rows])
        if high > low:
            wanted = pa.Table.from_batches([batch]).take(pa.array(rows[low:high] - first))
            out.extend(match_texts(wanted, fields))
        first += batch.num_rows
    return out


def bucket_pairs(rows: pl.Series, keys: pl.Series, max_bucket_pairs: int) -> np.ndarray:
    """Candidate pairs (i < j, as int64 [n, 2]) of rows that share a key in one band."""
    frame = pl.DataFrame({"row": rows, "key": keys}).filter(pl.col("key").is_duplicated())
    if frame.is_empty():
        return np.zeros((0, 2), np.int64)
    buckets = frame.group_by("key").agg(pl.col("row").sort()).get_column("row").to_list()
    left: list[int] = []
    right: list[int] = []
    for members in buckets:
        if len(members) <= max_bucket_pairs:
            for n, first in enumerate(members[:-1]):
                rest = members[n + 1 :]
                left.extend([first] * len(rest))
                right.extend(rest)
        else:
            left.extend([members[0]] * (len(members) - 1))
            right.extend(members[1:])
    return np.column_stack([np.array(left, np.int64), np.array(right, np.int64)])


def candidate_pairs(read_band: Callable[[str], pl.DataFrame], bands: int, limit: int) -> np.ndarray:
    """Distinct candidate pairs over all bands, sorted; `read_band(column)` gives (row, key)."""
    found = []
    for band in range(bands):
        frame = read_band(band_column(band))
        found.append(bucket_pairs(frame.get_column("row"), frame.get_column("key"), limit))
        del frame
    pairs = np.concatenate(found) if found else np.zeros((0, 2), np.int64)
    return np.unique(pairs, axis=0) if pairs.size else pairs


def verify(
    pairs: np.ndarray,
    texts_of: Callable[[np.ndarray], Iterable[tuple[np.ndarray, list[str]]]],
    config: Config,
) -> np.ndarray:
    """The `pairs` whose similarity (exact Jaccard, or rapidfuzz ratio) reaches the threshold.

    `texts_of(rows)` yields (positions, texts) for the sorted global `rows`, shard by shard.
    """
    if config.verify == "none" or not pairs.size:
        return pairs
    involved = np.unique(pairs)
    left = np.searchsorted(involved, pairs[:, 0])
    right = np.searchsorted(involved, pairs[:, 1])
    if config.verify == "rapidfuzz":
        from rapidfuzz import fuzz

        normal = [normalise_for_match(t) for _, texts in texts_of(involved) for t in texts]
        cutoff = config.threshold * 100
        keep = [
            fuzz.ratio(normal[i], normal[j], score_cutoff=cutoff) >= cutoff
            for i, j in zip(left.tolist(), right.tolist(), strict=True)
        ]
        return pairs[np.array(keep, bool)]
    parts, sizes = [], []
    for _, texts in texts_of(involved):
        hashes, offsets = minhash.unique_shingles(texts, config.ngram, config.seed)
        parts.append(hashes)
        sizes.append(np.diff(offsets))
    hashes = np.concatenate(parts) if parts else np.zeros(0, np.uint64)
    offsets = np.concatenate([[0], np.cumsum(np.concatenate(sizes))]).astype(np.int64)
    keep = minhash.jaccard_many(hashes, offsets, left, right) >= config.threshold
    return pairs[keep]


def cluster_labels(pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows in some pair and a component label for each: the position (in the rows) of its
    component's smallest row (scipy's connected components).

    >>> cluster_labels(np.array([[3, 9], [1, 9], [4, 5]]))[1].tolist()
    [0, 0, 2, 2, 0]
    """
    nodes = np.unique(pairs)
    if not nodes.size:
        return nodes, np.zeros(0, np.int64)
    left, right = np.searchsorted(nodes, pairs[:, 0]), np.searchsorted(nodes, pairs[:, 1])
    return nodes, components(nodes.size, np.column_stack([left, right]))
