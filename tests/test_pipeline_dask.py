"""Scale-out: the build flow on 2 local Dask workers writes the same bytes as locally."""

from __future__ import annotations

import logging

import pytest
from pipeline_support import make_mini_mirror, mini_recipe, parquet_files, write_recipe


def _task_names(flow_run_id) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return [run.name for run in runs]


@pytest.mark.slow
class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_two_dask_workers_give_byte_identical_parquet(tmp_path, mirror, prefect_harness):
    from flows.build import build_flow
    from flows.runners import task_runner
    from instances.context import StageContext
    from mixtures.build import build_into
    from mixtures.recipe import parse_recipe

    mini = make_mini_mirror(mirror, tmp_path / "mirror")
    data = mini_recipe("scaled")
    recipe = write_recipe(tmp_path, data)
    options = {"mirror": str(mini), "result_cache": None, "shard_rows": 40, "executor": "memory"}

    local = build_flow(str(recipe), output_dir=str(tmp_path / "local"), **options)
    records = _Records()
    dask_logger = logging.getLogger("prefect.task_runner.dask")
    dask_logger.addHandler(records)
    try:
        state = build_flow.with_options(task_runner=task_runner(dask_workers=2))(
            str(recipe), output_dir=str(tmp_path / "dask"), return_state=True, **options
        )
    finally:
        dask_logger.removeHandler(records)
    on_dask = state.result()
    assert any("Creating a new Dask cluster" in m for m in records.messages), records.messages

    # The row-wise length filter ran as one mapped task per shard of 40 rows.
    pooled = next(r for r in on_dask.build.funnel if r.stage == "exact_dedup").rows_out
    names = _task_names(state.state_details.flow_run_id)
    assert sum(name.startswith("length-shard-") for name in names) == len(range(0, pooled, 40)) > 2

    local_files, dask_files = parquet_files(local.folder.path), parquet_files(on_dask.folder.path)
    assert sorted(local_files) == [
        "data/train-00000-of-00001.parquet",
        "data/validation-00000-of-00001.parquet",
        "rejected.parquet",
        "tokens.parquet",
    ]
    assert local_files == dask_files
    assert local.folder.manifest() == on_dask.folder.manifest()

    # Sharding does not change the result: the plain, unsharded stages write the same bytes.
    parsed = parse_recipe(data)
    reference = tmp_path / "reference"
    build_into(parsed, StageContext(mirror=mini, seed=parsed.seed), reference)
    assert parquet_files(reference) == local_files
