"""Pieces of the orchestration that need no Prefect run: keys, shards, runners, schedules."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
import yaml
from pipeline_support import make_mini_mirror

from filters import exact_dedup, length
from flows import caching, schedules
from instances import make_instance, make_table
from instances.context import StageContext
from mixtures import global_stages, source_key
from mixtures import table_shards as sharding
from mixtures.build import apply_filter
from mixtures.recipe import SourceSpec


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


def test_sharded_row_wise_filter_equals_the_whole_table_run():
    table = _rows(103)
    config = length.Config(min_prompt_chars=3, max_response_chars=4)
    whole = apply_filter(table, config, StageContext())
    parts = [apply_filter(s, config, StageContext()) for s in sharding.shard(table, 10)]
    merged = sharding.merge_results(parts)
    assert len(parts) == 11
    assert merged.kept.equals(whole.kept) and merged.rejected.equals(whole.rejected)
    assert merged.report.dropped_by_reason == whole.report.dropped_by_reason
    assert (merged.report.rows_in, merged.report.rows_out) == (103, whole.kept.num_rows)
    assert 0 < whole.kept.num_rows < 103


def test_only_row_wise_filters_are_sharded():
    assert sharding.is_row_wise(length.Config())
    assert not sharding.is_row_wise(exact_dedup.Config())
    with pytest.raises(ValueError, match="at least 1 row"):
        sharding.shard(_rows(2), 0)


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
        ({"cron": "0 2 * * *", "timezone": "Mars/Olympus"}, "unknown time zone"),
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


def test_self_instruct_batches_hold_capped_slots():
    from flows import grow

    assert grow.slots_for(8, 4) == 4 and grow.slots_for(2, 4) == 2 and grow.slots_for(3, None) == 3


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
    checked = []
    for kind in sorted(sharding.ROW_WISE_KINDS & set(registry.CONFIGS)):
        try:
            config = registry.CONFIGS[kind]()
        except ValidationError:
            continue
        whole = apply_filter(table, config, ctx)
        merged = sharding.merge_results(
            [apply_filter(part, config, ctx) for part in sharding.shard(table, 37)]
        )
        assert merged.kept.equals(whole.kept), kind
        assert merged.rejected.equals(whole.rejected), kind
        assert merged.report.model_dump(exclude={"seconds"}) == whole.report.model_dump(
            exclude={"seconds"}
        ), kind
        checked.append(kind)
    assert "length" in checked
