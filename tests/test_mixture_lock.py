"""The manifest lock and `instructmix build --check`; `--limit`; the prompt/completion format.

`--check` runs against a temporary copy of the two mirror files the recipe reads, so a test
can change an input file and see the check name it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import pytest
import yaml

from flows.cli import main
from instances.checksums import write_seal
from instances.context import StageContext
from mixtures.build import build_into
from mixtures.manifest import ManifestMismatch, first_difference
from mixtures.recipe import parse_recipe

INPUTS = ("codealpaca/code_alpaca_2k.json", "lima/lima.json")
TINY = {
    "name": "tiny",
    "seed": 11,
    "sources": [
        {
            "name": "code_alpaca",
            "generator": {"kind": "existing", "dataset": "code_alpaca"},
            "count": 30,
        },
        {"name": "lima", "generator": {"kind": "existing", "dataset": "lima"}, "count": 20},
    ],
    "filters": [{"kind": "exact_dedup"}],
    "split": {"validation": 0.1},
}


def run_cli(args: list[str]) -> None:
    """Run the CLI in this process with --debug, so a user error is raised, not printed.

    (The CLI's one-line error output is tested through a subprocess in test_build.py; here,
    output capture must stay away from Prefect's log handlers, which keep their stream.)
    """
    try:
        main(["--debug", *args])
    except SystemExit as stop:  # Typer exits 0 after a command that succeeded
        assert stop.code in (0, None), f"exit code {stop.code}"


@pytest.fixture
def workspace(tmp_path, mirror):
    """A folder with a copy of the recipe's mirror files and the recipe as YAML."""
    for name in INPUTS:
        target = tmp_path / "mirror" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mirror / name, target)
    # Through the flow with every sampling stage: lima is upsampled (a separate funnel stage).
    tiny = {**TINY, "sources": [TINY["sources"][0], {**TINY["sources"][1], "upsample": 1.5}]}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(tiny))
    return tmp_path


def _build_args(workspace: Path, *extra: str) -> list[str]:
    return [
        "build",
        str(workspace / "tiny.yaml"),
        "--mirror",
        str(workspace / "mirror"),
        "--output-dir",
        str(workspace / "out"),
        *extra,
    ]


@pytest.mark.slow
def test_check_passes_on_rebuild_fails_on_changes(workspace, prefect_harness):
    run_cli(_build_args(workspace))
    locked_path = workspace / "out" / "tiny" / "manifest.json"
    manifest = json.loads(locked_path.read_text())
    assert set(manifest["inputs"]) == set(INPUTS)
    assert manifest["counts"]["upsample"] == {"rows_in": 50, "rows_out": 60}
    assert sum(manifest["splits"].values()) == 60

    run_cli(_build_args(workspace, "--check"))  # a rebuild matches: no error

    # A lock that differs from what the rebuild gives: the first difference is named.
    locked = json.loads(locked_path.read_text())
    locked["counts"]["sample"]["rows_out"] += 1
    locked_path.write_text(json.dumps(locked))
    write_seal(locked_path.parent)  # a lock written whole (an edit alone fails `verify` first)
    with pytest.raises(ManifestMismatch, match=r"counts\.sample\.rows_out: locked 51, rebuilt 50"):
        run_cli(_build_args(workspace, "--check"))
    assert not list((workspace / "out").glob(".check-*")), "scratch rebuild left behind"
    locked_path.write_text(json.dumps(manifest))
    write_seal(locked_path.parent)

    # An input file changes: the check names it, before rebuilding anything.
    path = workspace / "mirror" / "codealpaca" / "code_alpaca_2k.json"
    rows = json.loads(path.read_text())
    rows[0]["output"] += " (edited)"
    path.write_text(json.dumps(rows))
    with pytest.raises(
        ManifestMismatch, match="input file changed: inputs.codealpaca/code_alpaca_2k.json"
    ):
        run_cli(_build_args(workspace, "--check"))


@pytest.mark.slow
def test_check_of_a_changed_recipe_names_the_recipe(workspace, prefect_harness):
    run_cli(_build_args(workspace))
    changed = {**yaml.safe_load((workspace / "tiny.yaml").read_text()), "seed": 12}
    (workspace / "tiny.yaml").write_text(yaml.safe_dump(changed))
    with pytest.raises(ManifestMismatch, match="recipe changed since the build: recipe_hash"):
        run_cli(_build_args(workspace, "--check"))


def test_check_without_a_build_says_build_first(workspace):
    with pytest.raises(ManifestMismatch, match="no manifest to check against; build first"):
        run_cli(_build_args(workspace, "--check"))


def test_check_rebuild_compares_the_rebuild_in_a_scratch_folder(tmp_path, mirror):
    """`check_rebuild` without Prefect: any rebuild callable, the scratch folder removed."""
    from mixtures.verify import check_rebuild

    recipe = parse_recipe(TINY)
    ctx = StageContext(mirror=mirror, seed=recipe.seed)
    built = tmp_path / "tiny"
    locked = build_into(recipe, ctx, built).manifest
    same = check_rebuild(built, recipe, ctx, lambda out: build_into(recipe, ctx, out / "tiny"))
    assert same.manifest["outputs"] == locked["outputs"]
    other = parse_recipe({**TINY, "seed": 12})  # a rebuild that draws other rows
    with pytest.raises(ManifestMismatch, match="rebuild of 'tiny' differs from the lock"):
        check_rebuild(built, recipe, ctx, lambda out: build_into(other, ctx, out / "tiny"))
    assert [p.name for p in tmp_path.iterdir()] == ["tiny"]


def test_first_difference_puts_causes_before_effects():
    locked = {"counts": {"a": 1}, "inputs": {"x.json": "1"}, "outputs": {"d": "1"}}
    rebuilt = {"counts": {"a": 2}, "inputs": {"x.json": "2"}, "outputs": {"d": "2"}}
    assert first_difference(locked, rebuilt) == "inputs.x.json: locked '1', rebuilt '2'"


def test_prompt_completion_output_loads_with_trl_columns(tmp_path, mirror):
    recipe = parse_recipe({**TINY, "output_format": "prompt_completion"})
    build_into(recipe, StageContext(mirror=mirror, seed=recipe.seed), tmp_path)
    loaded = datasets.load_dataset(
        "parquet", data_files=str(tmp_path / "data" / "train-*.parquet"), split="train"
    )
    assert "messages" not in loaded.column_names
    assert {"prompt", "completion", "id", "source"} <= set(loaded.column_names)
    assert loaded.num_rows == 45  # 50 rows, 5 for validation
    for row in loaded:
        assert row["prompt"][-1]["role"] == "user" and row["prompt"][-1]["content"]
        assert [m["role"] for m in row["completion"]] == ["assistant"]
    multi_turn = [r for r in loaded if len(r["prompt"]) > 1]
    for row in multi_turn:  # earlier turns stay in the prompt, alternating
        assert [m["role"] for m in row["prompt"]][-2:] == ["assistant", "user"]


def test_limit_builds_under_its_own_name(workspace):
    # No flow runs here: the check fails before, naming the scaled build's own folder.
    with pytest.raises(ManifestMismatch, match=r"tiny-limit5/manifest\.json: no manifest"):
        run_cli(_build_args(workspace, "--limit", "5", "--check"))


def test_code_hash_is_context_not_a_difference(tmp_path):
    from mixtures.manifest import check_message, code_hash

    locked = {"code_hash": "a", "outputs": {"d": "1"}}
    assert check_message("x", locked, {"code_hash": "b", "outputs": {"d": "1"}}) is None
    message = check_message("x", locked, {"code_hash": "b", "outputs": {"d": "2"}})
    assert message == (
        "rebuild of 'x' differs from the lock: outputs.d: locked '1', rebuilt '2' "
        "(the instructmix source code changed since the build)"
    )
    module = tmp_path / "mixtures" / "m.py"
    module.parent.mkdir()
    module.write_text("x = 1\n")
    before = code_hash(tmp_path)
    assert code_hash(tmp_path) == before and len(before) == 64
    # a checkout's virtual environment, artifacts and caches are not the code
    for other in (".venv/lib/site.py", "artifacts/mixtures/demo/funnel.json", "notes.py"):
        (tmp_path / other).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / other).write_text("{}")
    assert code_hash(tmp_path) == before
    module.write_text("x = 2\n")
    assert code_hash(tmp_path) != before


def test_precheck_covers_the_files_filters_read(mirror):
    from mixtures.build import recipe_inputs, run_stages
    from mixtures.manifest import input_hashes, precheck

    data = {**TINY, "filters": [*TINY["filters"], {"kind": "decontaminate"}]}
    recipe = parse_recipe(data)
    ctx = StageContext(mirror=mirror, seed=recipe.seed)
    inputs = recipe_inputs(recipe, ctx)
    assert len(inputs) > len(INPUTS)  # the benchmark sets decontamination reads
    manifest = run_stages(recipe, ctx).manifest
    assert precheck(manifest, recipe, input_hashes(inputs, mirror)) is None


def test_recipe_hash_ignores_the_train_section():
    from mixtures.manifest import recipe_hash
    from mixtures.recipe import load_recipe

    demo = load_recipe("demo")
    assert demo.train is not None
    other = demo.model_copy(update={"train": demo.train.model_copy(update={"learning_rate": 0.5})})
    assert recipe_hash(other) == recipe_hash(demo)
    assert recipe_hash(demo.model_copy(update={"seed": demo.seed + 1})) != recipe_hash(demo)
