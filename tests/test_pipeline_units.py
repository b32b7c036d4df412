"""Pieces of the orchestration that need no Prefect run: keys, shards, schedules."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from pipeline_support import make_mini_mirror

from filters import length
from flows import caching, schedules
from instances import make_instance, make_table
from instances.context import StageContext
from mixtures import global_stages, source_key
from mixtures.build import apply_filter
from mixtures.executors import LocalExecutor
from mixtures.recipe import SourceSpec
from mixtures.sharded import ROW_WISE_KINDS, ShardedRun


def _rows(n: int) -> pa.Table:
    rows = []
    for i in range(n):
        prompt = "x" * (i % 7)  # some empty or short prompts are rejected
        answer = "y" * (i % 5 + 1)
        rows.append(
            make_instance(
                [
                    {"role": "user", "content": f"{prompt} {i}" if i % 3 else prompt},
                    {"role": "assistant", "content": answer},
                ],
                source="unit",
                origin="human",
                task="unit",
                category="test",
                template="plain",
            )
        )
    return make_table(rows)


def sharded_filter(table: pa.Table, config, ctx: StageContext, work, shard_rows: int):
    """One filter through the sharded driver (inline executor): kept rows, rejected rows and
    the report, each gathered from the shards."""
    with LocalExecutor(1) as executor:
        runner = ShardedRun(work, executor, ctx, shard_rows)
        output = runner.filter_stage(1, runner.write_input(0, "input", [table]).kept, config)
    kept = pa.concat_tables([pq.read_table(path) for path, _ in output.kept])
    return kept, output.rejected_table(), output.record.report, len(output.kept)


def test_sharded_row_wise_filter_equals_the_whole_table_run(tmp_path):
    table = _rows(103)
    config = length.Config(min_prompt_chars=3, max_response_chars=4)
    whole = apply_filter(table, config, StageContext())
    kept, rejected, report, shards = sharded_filter(table, config, StageContext(), tmp_path, 10)
    assert shards == 11
    assert kept.equals(whole.kept)
    assert rejected.to_pylist() == whole.rejected.to_pylist()
    assert report.dropped_by_reason == whole.report.dropped_by_reason
    assert (report.rows_in, report.rows_out) == (103, whole.kept.num_rows)
    assert 0 < whole.kept.num_rows < 103


def test_cache_key_follows_input_bytes_and_spec(tmp_path, mirror):
    mini = make_mini_mirror(mirror, tmp_path / "mirror")
    spec = SourceSpec.model_validate(
        {"name": "lima", "generator": {"kind": "existing", "dataset": "lima"}, "count": 5}
    )
    ctx = StageContext(mirror=mini, seed=1)

    def key(spec=spec):
        return caching.source_cache_key(None, {"spec": spec, "ctx": ctx})

    first = key()
    assert key() == first
    assert key(spec.model_copy(update={"count": 6})) != first
    lima = mini / "lima" / "lima.json"
    lima.write_text(json.dumps(json.loads(lima.read_text())[:-1]))
    assert key() != first
    files = source_key.code_files(spec.generator)
    assert any(f.name == "existing.py" for f in files)
    assert any(f.name == "build.py" for f in files)


def _write(tmp_path, data) -> object:
    path = tmp_path / "schedules.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_shipped_schedules_file_validates():
    loaded = schedules.load_schedules()
    names = {d.name: d for d in loaded.deployments}
    assert any(d.cron for d in loaded.deployments)
    assert names["self-instruct-hourly"].interval_seconds == 3600


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"cron": "0 2 * * *", "interval_seconds": 60}, "exactly one of cron or interval"),
        ({}, "exactly one of cron or interval"),
        ({"cron": "not a cron"}, "deployments.0.cron"),
        ({"interval_seconds": 0}, "deployments.0.interval_seconds"),
        ({"cron": "0 2 * * *", "timezone": "Mars/Olympus"}, "timezone.*timezone name"),
        ({"interval_seconds": 60, "paramters": {}}, "unknown field"),
    ],
)
def test_bad_schedules_name_the_field(tmp_path, entry, fragment):
    data = {"deployments": [{"name": "x", "flow": "build", **entry}]}
    with pytest.raises(schedules.SchedulesError, match=fragment) as error:
        schedules.load_schedules(_write(tmp_path, data))
    assert "schedules.yaml" in str(error.value)


def test_unknown_recipe_or_parameter_fails_at_serve_time(tmp_path):
    for parameters, fragment in [
        ({"recipe": "no-such-recipe"}, "unknown recipe 'no-such-recipe'"),
        ({"recipe": "demo", "colour": "red"}, "colour"),
    ]:
        data = {
            "deployments": [
                {"name": "x", "flow": "build", "cron": "0 2 * * *", "parameters": parameters}
            ]
        }
        loaded = schedules.load_schedules(_write(tmp_path, data))
        with pytest.raises(schedules.SchedulesError, match=fragment):
            schedules.build_deployments(loaded)


def test_deployments_carry_their_schedule_and_disabled_ones_are_skipped(tmp_path):
    data = {
        "deployments": [
            {
                "name": "demo-nightly",
                "flow": "build",
                "cron": "0 2 * * *",
                "timezone": "Europe/Paris",
                "parameters": {"recipe": "demo"},
            },
            {
                "name": "off",
                "flow": "build",
                "interval_seconds": 60,
                "enabled": False,
                "parameters": {"recipe": "demo"},
            },
        ]
    }
    loaded = schedules.load_schedules(_write(tmp_path, data))
    deployments, skipped = schedules.build_deployments(loaded)
    assert [d.name for d in deployments] == ["demo-nightly"]
    schedule = deployments[0].schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("0 2 * * *", "Europe/Paris")
    assert deployments[0].entrypoint == "flows.build.build_flow"
    assert deployments[0].parameters == {"recipe": "demo"}
    assert skipped == ["off: disabled"]


def test_every_schedulable_flow_imports():
    for kind in schedules.FLOWS:
        assert callable(schedules.load_flow(kind)), kind


def test_shard_reports_add_counts_and_keep_examples():
    merged = global_stages.merge_extras(
        {"languages": {"en": 3}, "declared_disagreed": 1, "example": "a b", "share": 0.5},
        {"languages": {"en": 2, "de": 1}, "declared_disagreed": 0, "example": "c d", "share": 0.4},
    )
    assert merged == {
        "languages": {"en": 5, "de": 1},
        "declared_disagreed": 1,
        "example": "a b",
        "share": 0.5,
    }


def test_llm_slots_are_capped_at_the_limit_and_none_without_one(monkeypatch):
    from contextlib import nullcontext

    from flows import concurrency

    monkeypatch.setattr(concurrency, "llm_slot", lambda occupy: occupy)  # what it would hold
    monkeypatch.setattr(concurrency, "llm_limit", lambda: 4)
    assert concurrency.hold_llm_slots(8) == 4 and concurrency.hold_llm_slots(2) == 2
    assert isinstance(concurrency.hold_llm_slots(0), nullcontext)
    monkeypatch.setattr(concurrency, "llm_limit", lambda: None)
    assert isinstance(concurrency.hold_llm_slots(3), nullcontext)


def _cli(args, cwd):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_errors_are_one_line_before_any_run(tmp_path, mirror):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump({"deployments": [{"name": "x", "flow": "pipelin", "cron": "0 2 * * *"}]})
    )
    wrong_flow = _cli(["serve", "--schedules", str(bad)], tmp_path)
    for proc, fragment in [(wrong_flow, "deployments.0.flow")]:
        assert proc.returncode == 1
        errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and fragment in errors[0], proc.stderr
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "artifacts").exists()


def test_every_registered_row_wise_filter_gives_the_same_rows_sharded(tmp_path, mirror):
    """Whatever row-wise filters are installed: shards merged == the whole table, row for row."""
    from pydantic import ValidationError

    from filters import registry
    from mixtures.build import generate_source

    mini = make_mini_mirror(mirror, tmp_path / "mirror")
    ctx = StageContext(mirror=mini)
    tables = [
        generate_source(
            SourceSpec.model_validate({"name": n, "generator": {"kind": "existing", "dataset": n}}),
            ctx,
        ).kept
        for n in ("code_alpaca", "lima")
    ]
    table = pa.concat_tables(tables)
    ctx = StageContext(mirror=mirror)  # the whole mirror: decontamination reads benchmarks
    checked = []
    for kind in sorted(ROW_WISE_KINDS & set(registry.CONFIGS)):
        try:
            config = registry.CONFIGS[kind]()
        except ValidationError:
            continue
        whole = apply_filter(table, config, ctx)
        kept, rejected, report, _ = sharded_filter(table, config, ctx, tmp_path / kind, 37)
        assert kept.equals(whole.kept), kind
        assert rejected.to_pylist() == whole.rejected.to_pylist(), kind
        assert report.model_dump(exclude={"seconds"}) == whole.report.model_dump(
            exclude={"seconds"}
        ), kind
        checked.append(kind)
    assert {"length", "quality", "decontaminate", "pii_mask"} <= set(checked), checked
