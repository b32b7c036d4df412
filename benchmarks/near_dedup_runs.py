"""The newer runs of `benchmarks.near_dedup`: rensa (a Rust MinHash) and ours over shards."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from filters import near_dedup
from filters.text import match_texts
from instances.context import StageContext


def write_shards(path: str, work: str, shard_size: int) -> None:
    """Cut the table at `path` into the sharded run's input shards under `work` (stage 0).

    Done in the parent process, as an earlier stage of a build would: the measured process
    only runs the near-dedup stage.
    """
    from mixtures.executors import LocalExecutor
    from mixtures.sharded import ShardedRun

    with LocalExecutor(1) as executor:
        runner = ShardedRun(Path(work), executor, StageContext(), shard_size)
        batches = pq.ParquetFile(path).iter_batches(batch_size=shard_size)
        runner.write_input(0, "input", (pa.Table.from_batches([b]) for b in batches))


def run_sharded(path: str, args: dict) -> dict:
    """Ours over the Parquet shards `write_shards` wrote to `args["work"]` (`mixtures.sharded`,
    inline): the table is never loaded whole."""
    from benchmarks.near_dedup import _peak_mb, _start_measuring
    from mixtures.executors import LocalExecutor
    from mixtures.sharded import ShardedRun

    config = near_dedup.Config(
        fields="prompt_response",
        ngram=args["ngram"],
        threshold=args["threshold"],
        num_perm=args["num_perm"],
    )
    with LocalExecutor(1) as executor:
        runner = ShardedRun(Path(args["work"]), executor, StageContext(), args["shard_size"])
        shards = runner.reuse(runner.folder(0, "input"))
        rss_before = _start_measuring()
        started = time.perf_counter()
        output = runner.filter_stage(1, shards.kept, config)
        seconds = time.perf_counter() - started
        peak = _peak_mb()
        removed_ids = output.rejected_table().column("id").to_pylist()
    ids = pq.ParquetFile(path).read(columns=["id"]).column("id").to_pylist()
    position = {row_id: n for n, row_id in enumerate(ids)}
    return {
        "seconds": seconds,
        "removed": [position[i] for i in removed_ids],
        "peak_mb": peak,
        "loaded_mb": rss_before,
        "extras": output.record.report.extras,
    }


def run_rensa(path: str, args: dict) -> dict:
    """rensa (a Rust MinHash): RMinHash + RMinHashLSH, query then insert, same shingles."""
    from rensa import RMinHash, RMinHashLSH

    from benchmarks.near_dedup import _peak_mb, _start_measuring, shingles

    table = pq.read_table(path)
    rss_before = _start_measuring()
    started = time.perf_counter()
    texts = match_texts(table, "prompt_response")
    tokenised = [shingles(t, args["ngram"]) for t in texts]
    bands = 16  # rensa needs bands dividing num_perm; 16 x 8 is closest to our 13 x 8
    lsh = RMinHashLSH(threshold=args["threshold"], num_perm=args["num_perm"], num_bands=bands)
    removed = []
    for row, tokens in enumerate(tokenised):
        if not tokens:
            continue
        minhash = RMinHash(num_perm=args["num_perm"], seed=args.get("seed", 0))
        minhash.update(tokens)
        if lsh.query(minhash):
            removed.append(row)
        else:
            lsh.insert(row, minhash)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "removed": removed,
        "peak_mb": _peak_mb(),
        "loaded_mb": rss_before,
        "extras": {"bands": bands, "rows_per_band": args["num_perm"] // bands},
    }
