"""The sharded stage driver: global stages across shard boundaries, byte-identical builds for
any shard size and executor, and a build killed with SIGKILL that reruns reusing its shards."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from curation_rows import row, table

from filters import decontaminate, exact_dedup, near_dedup, pii
from filters.benchmark_sets import CATALOG, benchmark_texts
from instances.context import StageContext
from instances.shards import ShardManifest, finished, iter_tables, write_shards
from mixtures import build
from mixtures.executors import LocalExecutor, RayExecutor
from mixtures.progress import StageProgress
from mixtures.recipe import parse_recipe
from mixtures.sharded import ShardedRun, build_result, run_recipe, work_dir_for, work_folder

SENTENCE = (
    "write a short story about a lighthouse keeper who finds a message in a bottle that was "
    "sent by her grandmother sixty years ago from a ship lost at sea near the northern cape"
)
RECIPE = {
    "name": "sharded",
    "seed": 3,
    "sources": [
        {"name": "code", "generator": {"kind": "existing", "dataset": "code_alpaca"}, "count": 160},
        {
            "name": "lima",
            "generator": {"kind": "existing", "dataset": "lima"},
            "fraction": 0.03,
            "upsample": 1.5,
        },
    ],
    "filters": [
        {"kind": "exact_dedup", "source_priority": ["lima"]},
        {"kind": "length", "min_prompt_chars": 5},
        {"kind": "near_dedup", "ngram": 2, "threshold": 0.6},
        {"kind": "decontaminate"},
    ],
    "split": {"validation": 0.2},
}


def in_memory(rows: pa.Table, configs: list, ctx: StageContext) -> list:
    """Today's in-memory stages: identical-id dedup, then each filter."""
    identical = build.drop_identical(rows)
    results, kept = [], identical.kept
    for config in configs:
        results.append(build.apply_filter(kept, config, ctx))
        kept = results[-1].kept
    return [identical, *results]


def sharded(rows: pa.Table, configs: list, ctx: StageContext, work: Path, shard_rows: int):
    """The same stages over shards of `shard_rows` rows (inline executor)."""
    with LocalExecutor(1) as executor:
        runner = ShardedRun(work, executor, ctx, shard_rows)
        return runner.filters(runner.write_input(0, "input", [rows]).kept, configs)


def assert_same_verdicts(rows: pa.Table, configs: list, ctx: StageContext, work: Path, size: int):
    expected = in_memory(rows, configs, ctx)
    outputs = sharded(rows, configs, ctx, work, size)
    assert [len(o.kept) for o in outputs][0] > 1, "the input must span several shards"
    for result, output in zip(expected, outputs, strict=True):
        rejected = output.rejected_table()
        assert rejected.to_pylist() == result.rejected.to_pylist()
        assert output.record.report.dropped_by_reason == result.report.dropped_by_reason
    kept = pa.concat_tables([pq.read_table(path) for path, _ in outputs[-1].kept])
    assert kept.equals(expected[-1].kept)
    return outputs


def test_identical_and_exact_duplicates_split_across_shards_are_found(tmp_path):
    rows = table([row("alpha one"), row("Hello  World"), row("alpha one"), row("hello world")])
    outputs = assert_same_verdicts(rows, [exact_dedup.Config()], StageContext(), tmp_path, 2)
    identical, exact = (o.rejected_table().to_pylist() for o in outputs)
    assert [(r["reject_reason"], r["duplicate_of"]) for r in identical] == [
        ("identical_instance", rows.column("id")[0].as_py())
    ]
    assert [(r["reject_reason"], r["duplicate_of"]) for r in exact] == [
        ("exact_duplicate", rows.column("id")[1].as_py())
    ]


def test_near_duplicates_split_across_shards_are_found(tmp_path):
    rows = table(
        [row("an unrelated question about tides"), row(SENTENCE)]
        + [row("something else entirely, about cooking rice"), row(SENTENCE + " cape")]
    )
    outputs = assert_same_verdicts(rows, [near_dedup.Config()], StageContext(), tmp_path, 2)
    near = outputs[-1].rejected_table().to_pylist()
    assert [(r["prompt"] if "prompt" in r else r["id"], r["duplicate_of"]) for r in near] == [
        (rows.column("id")[3].as_py(), rows.column("id")[1].as_py())
    ]


def test_benchmark_hit_in_the_last_row_of_a_shard_is_found(tmp_path, mirror):
    question = benchmark_texts(CATALOG["gsm8k"], mirror)[0]
    rows = table([row("tell me a joke"), row("sum two numbers"), row(question)])
    rows = pa.concat_tables([rows, table([row("another clean prompt")])])
    ctx = StageContext(mirror=mirror)
    config = decontaminate.Config(benchmarks=["gsm8k"])
    outputs = assert_same_verdicts(rows, [config], ctx, tmp_path, 3)
    rejected = outputs[-1].rejected_table().to_pylist()
    assert [r["reject_reason"] for r in rejected] == ["contaminated:gsm8k"]
    assert outputs[-1].record.report.extras["benchmarks"]["gsm8k"]["rows"] == 1


def test_shard_manifest_streams_and_detects_damage(tmp_path):
    tables = (pa.table({"x": list(range(n, n + 3))}) for n in range(0, 9, 3))
    manifest = write_shards(tables, tmp_path, rows_per_shard=4)
    assert [s.rows for s in manifest.shards] == [4, 4, 1]
    assert ShardManifest.load(tmp_path / "manifest.json") == manifest
    assert [t.column("x").to_pylist() for t in iter_tables(manifest, tmp_path)][2] == [8]
    assert finished(tmp_path) == manifest
    (tmp_path / manifest.shards[1].path).write_bytes(b"damaged")
    assert finished(tmp_path) is None


def built_files(recipe, ctx: StageContext, out: Path, executor=None, shard_rows: int = 50_000):
    """Build `recipe` into `out` (in memory when `executor` is None); the Parquet bytes."""
    if executor is None:
        result = build.run_stages(recipe, ctx)
    else:
        result = build_result(
            recipe, ctx, run_recipe(recipe, ctx, out / "work", executor, shard_rows=shard_rows)
        )
    build.write_build(out / "mixture", result, recipe.output_format)
    files = sorted((out / "mixture").rglob("*.parquet"))
    return {str(p.relative_to(out / "mixture")): p.read_bytes() for p in files}


@pytest.fixture(scope="module")
def reference(tmp_path_factory, mirror):
    recipe = parse_recipe(RECIPE)
    ctx = StageContext(mirror=mirror, seed=recipe.seed)
    files = built_files(recipe, ctx, tmp_path_factory.mktemp("memory"))
    return recipe, ctx, files


def test_one_and_four_shards_give_the_in_memory_bytes(reference, tmp_path):
    recipe, ctx, expected = reference
    assert len(expected) >= 3
    one = built_files(recipe, ctx, tmp_path / "one", LocalExecutor(1), shard_rows=10_000)
    with LocalExecutor(2) as pool:
        four = built_files(recipe, ctx, tmp_path / "four", pool, shard_rows=60)
    assert len(list((tmp_path / "four" / "work" / "02-exact_dedup").glob("rejected-*"))) >= 4
    assert one == expected
    assert four == expected


@pytest.mark.slow
def test_a_local_ray_cluster_gives_the_same_bytes(reference, tmp_path):
    recipe, ctx, expected = reference
    with RayExecutor(num_cpus=2) as ray_executor:
        files = built_files(recipe, ctx, tmp_path, ray_executor, shard_rows=60)
    assert files == expected


KILLED_BUILD = """
import json, sys, threading
from pathlib import Path
from instances.context import StageContext
from mixtures.executors import LocalExecutor
from mixtures.recipe import parse_recipe
from mixtures.sharded import run_recipe

recipe = parse_recipe(json.loads(sys.argv[1]))
ctx = StageContext(mirror=Path(sys.argv[2]), seed=recipe.seed)

def on_shard_done(folder, label, index):
    if label == "bands" and index == 1:
        print("two near_dedup band shards are done", flush=True)  # the parent's barrier
        threading.Event().wait()  # hold here until killed

run_recipe(recipe, ctx, Path(sys.argv[3]), LocalExecutor(1), shard_rows=60,
           on_shard_done=on_shard_done)
"""


def test_a_build_killed_mid_stage_reruns_to_the_same_bytes(reference, tmp_path, mirror):
    recipe, ctx, expected = reference
    work = tmp_path / "out" / "work"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_BUILD, json.dumps(RECIPE), str(mirror), str(work)],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        text=True,
    )
    # blocks until the child reports the barrier (it is inside near_dedup now) or ends
    reached = any("band shards are done" in line for line in child.stdout)
    assert reached, "the build ended before reaching the barrier"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    stage = next(work.glob("*-near_dedup"))
    assert not (stage / "stage.json").exists()
    reused = {p: p.stat().st_mtime_ns for p in stage.glob("*-0000[01].parquet")}
    assert len(reused) >= 2
    rerun: list[tuple[str, int]] = []
    result = build_result(
        recipe,
        ctx,
        run_recipe(
            recipe,
            ctx,
            work,
            LocalExecutor(1),
            shard_rows=60,
            on_shard_done=lambda folder, label, index: rerun.append((folder.name, label, index)),
        ),
    )
    build.write_build(tmp_path / "out" / "mixture", result, recipe.output_format)
    files = sorted((tmp_path / "out" / "mixture").rglob("*.parquet"))
    got = {str(p.relative_to(tmp_path / "out" / "mixture")): p.read_bytes() for p in files}
    assert got == expected
    assert all(not name.endswith(("identical", "exact_dedup", "length")) for name, _, _ in rerun)
    assert (stage.name, "bands", 0) not in rerun and (stage.name, "bands", 1) not in rerun
    assert (stage.name, "bands", 2) in rerun
    assert {p: p.stat().st_mtime_ns for p in reused} == reused


@pytest.mark.parametrize(
    ("error", "kept"),
    [(None, False), (ValueError, False), (KeyboardInterrupt, True)],
    ids=["finished", "failed", "interrupted"],
)
def test_work_folder_is_kept_only_for_a_rerun_after_an_interrupt(tmp_path, mirror, error, kept):
    recipe = parse_recipe(RECIPE)
    ctx = StageContext(mirror=mirror, seed=recipe.seed)
    raises = pytest.raises(error) if error else nullcontext()
    with raises, work_folder(recipe, ctx, tmp_path) as work:
        assert work == work_dir_for(recipe, ctx, tmp_path)
        (work / "01-identical").mkdir(parents=True)
        (work / "01-identical" / "stage.json").write_text("{}")
        if error:
            raise error
    assert work.exists() is kept


def test_rows_masked_into_copies_across_shards_are_found(tmp_path):
    rows = table(
        [
            row("write to ann@example.com please"),
            row("a question"),
            row("write to bo@example.org please"),
        ]
    )
    outputs = assert_same_verdicts(rows, [pii.Config()], StageContext(), tmp_path, 1)
    rejected = outputs[-1].rejected_table().to_pylist()
    assert [r["reject_reason"] for r in rejected] == ["duplicate_after_masking"]


def test_progress_in_a_log_is_plain_lines_with_rows_per_second():
    stream = io.StringIO()
    progress = StageProgress("near_dedup", 3, stream=stream, every=0.0)
    for rows in (10, 20, 30):
        progress.update(rows)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert lines[-1].startswith("near_dedup: 3/3 shards, 60 rows, ")
    assert lines[-1].endswith(" rows/s")


def test_progress_in_a_log_prints_one_line_every_few_seconds_not_per_shard():
    stream, now = io.StringIO(), [0.0]
    progress = StageProgress("exact_dedup", 40, stream=stream, every=5.0, clock=lambda: now[0])
    for _ in range(40):  # one shard of 1,000 rows a second for 40 s
        now[0] += 1.0
        progress.update(1_000)
    progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 40 // 5 + 1  # one per 5 s, and the closing line
    assert lines[0] == "exact_dedup: 5/40 shards, 5,000 rows, 1,000 rows/s"
    assert lines[-1] == "exact_dedup: 40/40 shards, 40,000 rows, 1,000 rows/s"
    assert "\r" not in stream.getvalue()
