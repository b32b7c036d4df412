"""The build flow: caching by spec + input sha256 + code, artifacts, concurrency."""

from __future__ import annotations

import json
import threading

import pytest
from pipeline_support import make_mini_mirror, mini_recipe, parquet_files, write_recipe


def _task_states(flow_run_id) -> dict[str, str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return {run.name: run.state.name for run in runs}


def _run(recipe_path, mirror, out, cache_dir, **options):
    from flows.build import build_flow

    state = build_flow(
        str(recipe_path),
        mirror=str(mirror),
        output_dir=str(out),
        result_cache=str(cache_dir),
        return_state=True,
        **options,
    )
    flow_run_id = state.state_details.flow_run_id
    return state.result(), flow_run_id, _task_states(flow_run_id)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, mirror, prefect_harness):
    """Three runs sharing one cache: fresh, unchanged, and after LIMA's input file changed."""
    root = tmp_path_factory.mktemp("pipeline")
    mini = make_mini_mirror(mirror, root / "mirror")
    recipe = write_recipe(root, mini_recipe())
    cache_dir = root / "cache"
    first = _run(recipe, mini, root / "a", cache_dir)
    second = _run(recipe, mini, root / "b", cache_dir)
    lima = mini / "lima" / "lima.json"
    records = json.loads(lima.read_text())
    lima.write_text(json.dumps(records[1:], indent=1))  # one conversation fewer
    third = _run(recipe, mini, root / "c", cache_dir)
    return first, second, third


@pytest.mark.slow
def test_first_run_generates_every_source(runs):
    (_, _, states), _, _ = runs
    assert states["generate-code_alpaca"] == "Completed"
    assert states["generate-lima"] == "Completed"


@pytest.mark.slow
def test_unchanged_sources_are_not_rebuilt(runs):
    (first, _, _), (second, _, states), _ = runs
    assert states["generate-code_alpaca"] == "Cached"
    assert states["generate-lima"] == "Cached"
    assert parquet_files(first.folder.path) == parquet_files(second.folder.path)


@pytest.mark.slow
def test_changed_input_file_rebuilds_only_its_source(runs):
    (first, _, _), _, (third, _, states) = runs
    assert states["generate-code_alpaca"] == "Cached"
    assert states["generate-lima"] == "Completed"
    before = first.build.manifest["inputs"]
    after = third.build.manifest["inputs"]
    assert before["codealpaca/code_alpaca_2k.json"] == after["codealpaca/code_alpaca_2k.json"]
    assert before["lima/lima.json"] != after["lima/lima.json"]
    generated = {r.stage: r.rows_out for r in third.build.funnel}
    assert generated["generate:lima"] == 39


@pytest.mark.slow
def test_run_publishes_funnel_composition_and_card_artifacts(runs):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    (result, flow_run_id, _), _, _ = runs
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    by_key = {a.key: a for a in artifacts}
    assert set(by_key) >= {"mini-funnel", "mini-composition", "mini-card"}
    assert by_key["mini-funnel"].type == "table"
    assert by_key["mini-card"].type == "markdown"
    funnel = json.loads(by_key["mini-funnel"].data)
    stages = [row["stage"] for row in funnel]
    assert stages == [r.stage for r in result.build.funnel]
    assert stages[-1] == "sample" and funnel[-1]["rows_out"] == 80
    composition = {
        row["source"]: row["rows"] for row in json.loads(by_key["mini-composition"].data)
    }
    assert composition == {"code_alpaca": 60, "lima": 20}
    from data_cards.metadata import artifact_markdown

    card = result.folder.card_path.read_text()
    shown = by_key["mini-card"].data
    assert shown == artifact_markdown(card, result.folder.path)
    # no YAML front matter (the UI would show `license:` as a heading): it is a code block
    assert card.startswith("---\n") and not shown.startswith("---")
    assert "\n```yaml\n" in shown and "(data:image/png;base64," in shown


def test_llm_limit_holds_across_tasks(prefect_harness):
    """With 1 slot the second call enters only after the first left; without a limit both are
    inside at once. Proved with barriers and counters, not with sleeps and clocks."""
    from prefect import flow, task

    from flows.concurrency import ensure_llm_limit, llm_limit, llm_slot

    lock = threading.Lock()
    asked = {name: threading.Barrier(2, timeout=60) for name in ("one", "missing")}
    together = threading.Barrier(2, timeout=60)  # passes only if both are inside at once
    inside = {"one": 0, "missing": 0}
    peak = {"one": 0, "missing": 0}

    @task
    def call(name: str, limited: bool) -> None:
        asked[name].wait()  # both tasks have started before either asks for the slot
        with llm_slot(name=f"llm-test-{name}"):
            with lock:
                inside[name] += 1
                peak[name] = max(peak[name], inside[name])
            if not limited:
                together.wait()
            with lock:
                inside[name] -= 1

    @flow
    def two_calls(name: str, limited: bool) -> None:
        for future in [call.submit(name, limited) for _ in range(2)]:
            future.result()

    ensure_llm_limit(1, name="llm-test-one")
    assert llm_limit("llm-test-one") == 1
    assert llm_limit("llm-test-missing") is None
    two_calls("one", True)
    two_calls("missing", False)  # no limit on the server: the calls overlap
    assert peak == {"one": 1, "missing": 2}
