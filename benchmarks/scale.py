"""Scale: the sharded build of exact_dedup -> length -> quality -> near_dedup -> decontaminate on
synthetic Alpaca-like rows, at several sizes, with its wall time and peak memory.

Rows: Stanford Alpaca rows (cycled) with seeded word edits - about 15% of the words of prompt
and response substituted by words of the Alpaca vocabulary, and one made-up word inserted so
that every row is distinct (`benchmarks.synthetic`, vectorised: ~100k rows/s per core). They
are generated on disk, shard by shard, by `--workers` processes (never all in memory), and
reused from `--data-dir` when there already. Each build then runs in a fresh process
(identical-id dedup and the five filters, all sharded, with the local process pool of
`--workers`, or with a local Ray cluster of that many CPUs); peak RSS is the largest sum of
the RSS of that process and all its descendants (Ray's raylet and workers included), sampled
every 0.2 s; the proportional set size (PSS) is summed too, which counts pages the processes
share (imported libraries) once.

    python -m benchmarks.scale --sizes 100000,1000000 [--ray-size 1000000] [--baseline-size 0]

`--baseline-size N` also runs today's in-memory stages (`mixtures.build`) on the first N rows.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pyarrow as pa

from benchmarks import default_mirror
from benchmarks.synthetic import synthetic_shard
from filters import decontaminate, exact_dedup, length, near_dedup, quality
from instances.context import StageContext
from instances.shards import ShardFile, write_shard

SHARD_ROWS = 10_000


def _write_shard(args: tuple[str, str, int, int, int, int]) -> dict:
    mirror, folder, index, first, count, seed = args
    table = synthetic_shard(mirror, first, count, seed)
    return write_shard(table, Path(folder), f"input-{index:05d}.parquet").model_dump()


def generate(mirror: Path, folder: Path, rows: int, seed: int, workers: int) -> list[ShardFile]:
    """Write `rows` synthetic rows as shards of `SHARD_ROWS` under `folder` (reused if there)."""
    record = folder / f"input-{rows}-{seed}.json"
    if record.is_file():
        shards = [ShardFile.model_validate(s) for s in json.loads(record.read_text("utf-8"))]
        if all(s.matches(folder) for s in shards):
            return shards
    jobs = [
        (str(mirror), str(folder), i, start, min(SHARD_ROWS, rows - start), seed)
        for i, start in enumerate(range(0, rows, SHARD_ROWS))
    ]
    context = multiprocessing.get_context("forkserver")
    with context.Pool(workers) as pool:
        shards = [ShardFile.model_validate(s) for s in pool.map(_write_shard, jobs)]
    record.write_text(json.dumps([s.model_dump() for s in shards]), encoding="utf-8")
    return shards


def configs() -> list:
    """The benchmark's filter chain."""
    return [
        exact_dedup.Config(),
        length.Config(),
        quality.Config(),
        near_dedup.Config(),
        decontaminate.Config(),
    ]


def _build(args: dict) -> None:
    """The measured child: one sharded (or in-memory) build over the input shards."""
    from mixtures.executors import make_executor
    from mixtures.sharded import ShardedRun

    ctx = StageContext(mirror=Path(args["mirror"]), show_progress=True)
    shards = [(Path(args["folder"]) / s["path"], s["rows"]) for s in args["shards"]]
    if args["mode"] == "in_memory":
        import pyarrow.parquet as pq

        from mixtures import build

        table = pa.concat_tables([pq.read_table(path) for path, _ in shards])
        kept = build.drop_identical(table).kept
        for config in configs():
            kept = build.apply_filter(kept, config, ctx).kept
        print(json.dumps({"kept": kept.num_rows}))
        return
    with make_executor(args["mode"], workers=args["workers"]) as executor:
        runner = ShardedRun(Path(args["work"]), executor, ctx, SHARD_ROWS)
        outputs = runner.filters(shards, configs())
    print(json.dumps({"kept": sum(rows for _, rows in outputs[-1].kept)}))


def measure(args: dict) -> dict:
    """Run `_build(args)` in a fresh process; its wall time and process-tree peak RSS (GB)."""
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=_build, args=(args,))
    started = time.perf_counter()
    child.start()
    peak_rss = peak_pss = 0
    process = psutil.Process(child.pid)
    shown = started
    while child.is_alive():
        rss = pss = 0
        with contextlib.suppress(psutil.Error):
            for proc in [process, *process.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    memory = proc.memory_full_info()
                    rss, pss = rss + memory.rss, pss + memory.pss
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        if time.perf_counter() - shown >= 60:  # so that a run cut short still says something
            shown = time.perf_counter()
            print(
                f"[{args['rows']:,} rows, {args['mode']}] {shown - started:.0f} s: peak RSS so "
                f"far {peak_rss / 1e9:.2f} GB, PSS {peak_pss / 1e9:.2f} GB",
                file=sys.stderr,
                flush=True,
            )
        child.join(0.2)
    wall = time.perf_counter() - started
    if child.exitcode != 0:
        raise SystemExit(f"build of {args['rows']} rows ({args['mode']}) failed")
    return {
        "wall_s": round(wall, 1),
        "peak_rss_gb": round(peak_rss / 1e9, 2),
        "peak_pss_gb": round(peak_pss / 1e9, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated row counts")
    parser.add_argument("--ray-size", type=int, default=1_000_000, help="0: no Ray run")
    parser.add_argument("--baseline-size", type=int, default=0, help="in-memory run rows")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=None, help="keep inputs here")
    options = parser.parse_args()
    mirror = default_mirror()
    sizes = [int(s) for s in options.sizes.split(",") if s]
    data_dir = options.data_dir or Path(tempfile.mkdtemp(prefix="instructmix-scale-"))
    runs = [(size, "local") for size in sizes]
    if options.ray_size:
        runs.append((options.ray_size, "ray"))
    if options.baseline_size:
        runs.append((options.baseline_size, "in_memory"))
    results = []
    for rows, mode in runs:
        size = max(rows, *sizes) if mode == "in_memory" else rows
        folder = data_dir / f"input-{size}"
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        shards = generate(mirror, folder, size, options.seed, options.workers)
        generated = time.perf_counter() - started
        if mode == "in_memory":
            shards = shards[: -(-rows // SHARD_ROWS)]
        work = Path(tempfile.mkdtemp(prefix=f"work-{rows}-{mode}-", dir=data_dir))
        args = {
            "mirror": str(mirror),
            "folder": str(folder),
            "shards": [s.model_dump() for s in shards],
            "work": str(work),
            "mode": mode,
            "workers": options.workers,
            "rows": rows,
        }
        result = {"rows": rows, "executor": mode, "generate_s": round(generated, 1)}
        result.update(measure(args))
        result["rows_per_s"] = round(rows / result["wall_s"])
        shutil.rmtree(work, ignore_errors=True)
        results.append(result)
        print(
            f"{rows:>11,} rows  {mode:<9}  wall {result['wall_s']:>7.1f} s  "
            f"peak RSS {result['peak_rss_gb']:>5.2f} GB  PSS {result['peak_pss_gb']:>5.2f} GB  "
            f"({result['rows_per_s']:,} rows/s)",
            flush=True,
        )
    if options.data_dir is None:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(json.dumps({"benchmark": "scale", "workers": options.workers, "runs": results}))


if __name__ == "__main__":
    main()
