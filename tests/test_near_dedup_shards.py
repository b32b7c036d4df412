"""The bounded-memory pieces of sharded near dedup agree with their plain counterparts."""

from __future__ import annotations

import random

import numpy as np
import pyarrow.parquet as pq
from curation_rows import row, table

from filters import near_dedup
from filters.components import components
from filters.near_dedup_shards import band_table, cluster_labels, shard_band_table


def smallest_in_component(nodes: int, pairs: list[tuple[int, int]]) -> list[int]:
    """Reference: each node's component's smallest node, by breadth-first search."""
    neighbours: dict[int, set[int]] = {n: set() for n in range(nodes)}
    for left, right in pairs:
        neighbours[left].add(right)
        neighbours[right].add(left)
    label = [-1] * nodes
    for start in range(nodes):
        if label[start] < 0:
            label[start], frontier = start, [start]
            while frontier:
                frontier = [m for n in frontier for m in neighbours[n] if label[m] < 0]
                for m in frontier:
                    label[m] = start
    return label


def test_cluster_labels_are_the_connected_components():
    rng = random.Random(7)
    for nodes in (2, 10, 300):
        pairs = [tuple(sorted(rng.sample(range(nodes), 2))) for _ in range(nodes // 2 + 1)]
        pairs += [(n, n + 1) for n in range(0, nodes - 1, 3)]  # chains
        rows, labels = cluster_labels(np.array(pairs, np.int64))
        expected = smallest_in_component(nodes, pairs)
        assert components(nodes, pairs).tolist() == expected
        assert rows.tolist() == sorted({r for pair in pairs for r in pair})
        assert labels.tolist() == [int(np.searchsorted(rows, expected[r])) for r in rows]


def test_a_long_chain_is_one_cluster():
    order = np.random.default_rng(0).permutation(5000)  # a path visited in random order
    pairs = np.sort(np.stack([order[:-1], order[1:]], axis=1), axis=1)
    rows, labels = cluster_labels(pairs)
    assert rows.tolist() == list(range(5000))
    assert set(labels.tolist()) == {0}


def test_no_pairs_give_no_clusters():
    rows, labels = cluster_labels(np.zeros((0, 2), np.int64))
    assert rows.size == 0 and labels.size == 0


def test_a_shard_read_in_batches_gives_the_whole_shards_band_keys(tmp_path):
    words = ["tides", "rice", "cooking", "poems", "rivers", "maps", "clocks", "bread"]
    rows = table(
        [
            row(" ".join(words[(n + k) % len(words)] for k in range(6)), source="s")
            for n in range(25)
        ]
        + [row("", "")]  # no words: no band keys
    )
    path = tmp_path / "shard.parquet"
    pq.write_table(rows, path)
    config = near_dedup.Config(fields="prompt_response", ngram=1)
    whole = band_table(rows, config, offset=100)
    for batch_rows in (1, 4, 1000):
        batched = shard_band_table(str(path), config, offset=100, batch_rows=batch_rows)
        assert batched.equals(whole)
    assert whole.column("row").to_pylist() == list(range(100, 125))
