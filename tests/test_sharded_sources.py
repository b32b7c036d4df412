"""A `kind: dataset` source in the sharded build is read and written shard by shard (JSON
Lines line by line; Parquet files as pieces of row groups converted by the executor) and gives
the in-memory build's bytes, rejected rows and funnel."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from curation_rows import row, table

from instances.context import StageContext
from instances.dataset_files import file_batches, read_file
from mixtures import build
from mixtures.executors import LocalExecutor
from mixtures.recipe import parse_recipe
from mixtures.sharded import build_result, run_recipe


def chat(number: int) -> dict:
    """A chat row; every 9th has an empty reply (rejected as empty_turn), every 11th repeats."""
    n = number - (number % 11 == 10)
    reply = "" if number % 9 == 4 else f"answer number {n} about topic {n % 7}"
    return {
        "messages": [
            {"role": "user", "content": f"question {n}: tell me about topic {n % 7}"},
            {"role": "assistant", "content": reply},
        ],
        "topic": f"t{n % 7}",
    }


def write_inputs(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    jsonl = folder / "chats.jsonl"
    jsonl.write_text("".join(json.dumps(chat(n)) + "\n" for n in range(100)), encoding="utf-8")
    parquet = folder / "more.parquet"
    pq.write_table(
        pa.Table.from_pylist([chat(n) for n in range(100, 180)]), parquet, row_group_size=16
    )
    return jsonl, parquet


def recipe_of(jsonl: Path, parquet: Path):
    source = {"kind": "dataset", "format": "messages", "origin": "human", "category": "chat"}
    return parse_recipe(
        {
            "name": "streamed",
            "seed": 5,
            "sources": [
                {"name": "lines", "generator": {**source, "path": str(jsonl)}},
                {"name": "table", "generator": {**source, "path": str(parquet)}, "count": 50},
            ],
            "filters": [{"kind": "exact_dedup"}, {"kind": "length", "min_response_chars": 5}],
            "split": {"validation": 0.2},
        }
    )


def written(result, out: Path) -> dict[str, bytes]:
    build.write_build(out, result, "messages")
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*.parquet"))}


def test_dataset_sources_stream_into_shards_with_the_in_memory_result(tmp_path):
    recipe = recipe_of(*write_inputs(tmp_path / "in"))
    ctx = StageContext(seed=recipe.seed)
    memory = build.run_stages(recipe, ctx)
    lines = []
    with LocalExecutor(2) as executor:  # the Parquet pieces are converted by the pool
        run = run_recipe(recipe, ctx, tmp_path / "work", executor, shard_rows=16, log=lines.append)
        sharded = build_result(recipe, ctx, run)
    # written shard by shard: 100 rows less the rejected ones, 16 to a shard
    kept_shards = sorted((tmp_path / "work" / "00-source-000").glob("kept-*.parquet"))
    assert len(kept_shards) == -(-memory.funnel[0].rows_out // 16) > 5
    assert lines == [
        "source lines: read and written shard by shard (no cached result)",
        "source table: 5 pieces of its Parquet files (no cached result)",
    ]
    assert written(sharded, tmp_path / "a") == written(memory, tmp_path / "b")
    assert sharded.rejected.equals(memory.rejected)

    def without_seconds(funnel):
        return [r.model_copy(update={"seconds": 0.0}) for r in funnel]

    assert without_seconds(sharded.funnel) == without_seconds(memory.funnel)
    assert memory.funnel[0].dropped_by_reason == {"empty_turn": 11}
    assert memory.funnel[0].extras["rejected_rows"]["empty_turn"][:2] == [4, 13]


def test_files_are_read_in_pieces_with_the_rows_read_file_gives(tmp_path):
    jsonl, parquet = write_inputs(tmp_path)
    for path in (jsonl, parquet):
        pieces = list(file_batches(path, 16))
        assert max(len(p) for p in pieces) == 16 and len(pieces) > 4
        assert [row for piece in pieces for row in piece] == read_file(path)


def test_a_bad_line_is_named_like_the_whole_file_reader_names_it(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(chat(1)) + "\n{not json\n", encoding="utf-8")
    from instances.errors import SourceError

    with pytest.raises(SourceError, match=r"bad.jsonl: line 2 is not valid JSON"):
        list(file_batches(path, 16))


def test_a_split_written_from_a_stream_of_pieces_has_the_bytes_of_the_whole(tmp_path):
    from instances import INSTANCE_SCHEMA, make_instance, make_table
    from mixtures.folder import MixtureFolder

    rows = [
        make_instance(
            chat(n)["messages"][:1] + [{"role": "assistant", "content": f"reply {n}"}],
            source="s",
            origin="human",
            task="t",
            category="c",
            template="x",
        )
        for n in range(250)
    ]
    table = make_table(rows)
    whole = MixtureFolder(tmp_path / "whole")
    streamed = MixtureFolder(tmp_path / "streamed")
    names = whole.write_split("train", table, shard_rows=100)
    pieces = [table.slice(start, 37) for start in range(0, 250, 37)]
    assert streamed.write_split_stream("train", pieces, 250, INSTANCE_SCHEMA, 100) == names
    assert len(names) == 3
    for name in names:
        assert (whole.path / name).read_bytes() == (streamed.path / name).read_bytes()
    empty = whole.write_split("validation", table.slice(0, 0))
    assert streamed.write_split_stream("validation", [], 0, INSTANCE_SCHEMA) == empty
    assert (whole.path / empty[0]).read_bytes() == (streamed.path / empty[0]).read_bytes()


def test_each_filter_stage_runs_inside_its_hold(tmp_path):
    """The flow holds an LLM judge's concurrency slots through `hold`: entered once around
    each filter stage that runs, with that stage's config, and left before the next."""
    from contextlib import contextmanager

    from filters import exact_dedup, length
    from mixtures.sharded import ShardedRun

    events = []

    @contextmanager
    def hold(config):
        events.append(("enter", config.kind))
        yield
        events.append(("exit", config.kind))

    rows = table([row("alpha one"), row("alpha one"), row("a longer prompt here")])
    with LocalExecutor(1) as executor:
        runner = ShardedRun(tmp_path, executor, StageContext(), 2, hold=hold)
        shards = runner.write_input(0, "input", [rows]).kept
        runner.filters(shards, [exact_dedup.Config(), length.Config(min_prompt_chars=12)])
        runner.filters(shards, [exact_dedup.Config()])  # finished stages are reused: no hold
    assert events == [
        ("enter", "exact_dedup"),
        ("exit", "exact_dedup"),
        ("enter", "length"),
        ("exit", "length"),
    ]
