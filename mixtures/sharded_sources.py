"""How the sharded build makes each recipe source's shards (`source_stage`): a `kind: dataset`
source of local Parquet files as pieces converted in parallel by the executor
(`mixtures.source_pieces`), any other `kind: dataset` source read and written batch by batch
(`mixtures.source_stream`), every other source through `generate` (the flow's cached task).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow.parquet as pq

from instances import REJECTED_SCHEMA, StageResult
from instances.context import StageContext
from instances.io import write_text_atomic
from instances.shards import write_shard
from mixtures import source_pieces
from mixtures.source_stream import SourceStream, streams

ShardedRun = Any  # `mixtures.sharded.ShardedRun` (not imported: that module imports this one)
StageOutput = Any  # `mixtures.sharded.StageOutput`


def source_stage(
    runner: ShardedRun,
    number: int,
    spec: Any,
    generate: Callable[[Any, StageContext], StageResult],
    log: Callable[[str], None] | None = None,
) -> StageOutput:
    """Generate source `number` into its stage folder: kept shards, then its rejected rows and
    report (`generate.json`, the mark of a finished source). A `kind: dataset` source is not
    made by `generate`: Parquet files as pieces run by the executor, other files streamed."""
    name = f"source-{number:03d}"
    folder = runner.folder(0, name)
    (folder / "stage.json").unlink(missing_ok=True)  # a crashed run's kept shards: redo them
    pieces = source_pieces.piece_tasks(spec, folder, runner.shard_rows)
    if pieces is not None:
        if log is not None:
            log(f"source {spec.name}: {len(pieces)} pieces of its Parquet files (no cached result)")
        folder.mkdir(parents=True, exist_ok=True)
        rows = [
            sum(pq.ParquetFile(t.file).metadata.row_group(g).num_rows for g in t.row_groups)
            for t in pieces
        ]
        outcomes = runner.map(
            folder,
            "generate",
            source_pieces.generate_piece,
            pieces,
            rows,
            source_pieces.PieceOutcome,
        )
        rejected, report = source_pieces.merged(spec, folder, outcomes)
        output = runner.record_input(folder, [o.kept for o in outcomes], report)
    elif streams(spec):
        if log is not None:
            log(f"source {spec.name}: read and written shard by shard (no cached result)")
        stream = SourceStream(spec, runner.ctx, runner.shard_rows)
        output = runner.write_input(0, name, stream.kept())
        rejected, report = stream.rejected, stream.report
        assert rejected is not None and report is not None  # the stream was read to its end
    else:
        result = generate(spec, runner.ctx)
        output = runner.write_input(0, name, [result.kept])
        rejected, report = result.rejected, result.report
    write_shard(rejected.cast(REJECTED_SCHEMA), folder, "generate-rejected.parquet")
    write_text_atomic(report.model_dump_json() + "\n", folder / "generate.json")
    return output
