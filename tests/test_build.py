"""Building a mixture end to end: the Prefect flow, the output folder, determinism, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
import yaml

from mixtures.recipe import parse_recipe

SMALL = {
    "name": "small",
    "seed": 7,
    "sources": [
        {
            "name": "code_alpaca",
            "generator": {"kind": "existing", "dataset": "code_alpaca"},
            "count": 60,
        },
        {"name": "lima", "generator": {"kind": "existing", "dataset": "lima"}, "fraction": 0.02},
    ],
    "filters": [
        {"kind": "exact_dedup", "source_priority": ["lima"]},
        {"kind": "length", "min_prompt_chars": 5},
    ],
    "split": {"validation": 0.2},
}


@pytest.fixture(scope="module")
def built(tmp_path_factory, mirror, prefect_harness):
    from flows.build import build_flow

    out = tmp_path_factory.mktemp("mixtures")
    path = out / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    first = build_flow(str(path), mirror=str(mirror), output_dir=str(out / "a"), result_cache=None)
    # the second run gets the text the command read: the flow must not open the file again
    text = path.read_text()
    path.unlink()
    build_flow(
        str(path),
        mirror=str(mirror),
        output_dir=str(out / "b"),
        result_cache=None,
        recipe_yaml=text,
    )
    return first.build, out / "a" / "small", out / "b" / "small"


def test_python_api_builds_the_same_bytes_without_prefect(built, mirror, tmp_path):
    from data_cards.card import write_card
    from mixtures import MixtureFolder, build_mixture

    _, folder, _ = built
    made = build_mixture(parse_recipe(SMALL), tmp_path, mirror=mirror, card=write_card)
    assert made == MixtureFolder(tmp_path / "small")
    for path in MixtureFolder(folder).shard_files():
        assert (made.path / "data" / path.name).read_bytes() == path.read_bytes()
    splits = made.to_dataset_dict()
    assert {name: len(rows) for name, rows in splits.items()} == made.manifest()["splits"]
    assert made.card_path.is_file()


def test_folder_is_laid_out_as_the_design_says(built):
    _, folder, _ = built
    names = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert names == [
        "README.md",
        "data/train-00000-of-00001.parquet",
        "data/validation-00000-of-00001.parquet",
        "funnel.json",
        "manifest.json",
        "manifest.sha256",
        "plots/funnel.png",
        "plots/lengths.png",
        "plots/sources.png",
        "plots/strata.png",
        "plots/verbs.png",
        "rejected.parquet",
        "tokens.parquet",
    ]


def test_load_dataset_reads_train_and_validation_with_messages(built):
    _, folder, _ = built
    loaded = datasets.load_dataset(str(folder))
    assert set(loaded) == {"train", "validation"}
    total = loaded["train"].num_rows + loaded["validation"].num_rows
    assert total == 60 + round(0.02 * 1029)
    assert loaded["validation"].num_rows == round(0.2 * total)
    assert loaded["train"][0]["messages"][-1]["role"] == "assistant"


def test_two_builds_give_byte_identical_parquet(built):
    _, a, b = built
    for path in sorted(a.rglob("*.parquet")):
        assert path.read_bytes() == (b / path.relative_to(a)).read_bytes(), path.name


def test_funnel_balances_and_manifest_locks_inputs(built, mirror):
    result, folder, _ = built
    funnel = json.loads((folder / "funnel.json").read_text())
    assert [s["stage"] for s in funnel] == [
        "generate:code_alpaca",
        "generate:lima",
        "identical",
        "exact_dedup",
        "length",
        "sample",
    ]
    for stage in funnel:
        assert stage["rows_in"] == stage["rows_out"] + sum(stage["dropped_by_reason"].values())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["inputs"]) == {"codealpaca/code_alpaca_2k.json", "lima/lima.json"}
    assert len(manifest["recipe_hash"]) == 64
    assert manifest["splits"] == {k: v.num_rows for k, v in result.splits.items()}


def test_card_front_matter_has_configs_and_non_commercial_license(built):
    _, folder, _ = built
    text = (folder / "README.md").read_text()
    front = yaml.safe_load(text.split("---")[1])
    assert front["license"] == ["cc-by-nc-4.0", "cc-by-nc-sa-4.0"]
    assert {f["split"] for f in front["configs"][0]["data_files"]} == {"train", "validation"}
    assert "NonCommercial" in text
    assert "| code_alpaca | 60 |" in text


def test_rejected_rows_carry_stage_and_reason(built):
    result, folder, _ = built
    rejected = datasets.Dataset.from_parquet(str(folder / "rejected.parquet"))
    funnel_drops = sum(
        sum(r.dropped_by_reason.values()) for r in result.funnel if r.stage != "sample"
    )
    assert rejected.num_rows == funnel_drops
    assert all(rejected["reject_reason"]) and all(rejected["reject_stage"])


def _cli(args: list[str], cwd: Path, mirror: Path) -> subprocess.CompletedProcess:
    """`python -m flows.cli ARGS` in its own process: its exit status and its stderr."""
    env = {
        **__import__("os").environ,
        "INSTRUCTMIX_MIRROR": str(mirror),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # a loaded 2-core machine can take longer than the default 20 s to start the server
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    }
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _main(args: list[str], cwd: Path, mirror: Path, capfd, monkeypatch):
    """The same command in this process (`flows.cli.main`, as the bad-input corpus runs it): its
    exit code and what it wrote on fds 1 and 2. The process boundary itself is checked once,
    by test_cli_unknown_recipe."""
    from flows.cli import main

    monkeypatch.chdir(cwd)
    monkeypatch.setenv("INSTRUCTMIX_MIRROR", str(mirror))
    capfd.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capfd.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def _assert_one_clear_line(proc, *fragments):
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_cli_unknown_recipe(tmp_path, mirror):
    proc = _cli(["build", "no-such-recipe"], tmp_path, mirror)
    _assert_one_clear_line(proc, "unknown recipe 'no-such-recipe'")
    assert not (tmp_path / "artifacts").exists()


def test_cli_mistyped_field(tmp_path, mirror, capfd, monkeypatch):
    bad = dict(SMALL, sources=[dict(SMALL["sources"][0], cuont=3)])
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(bad))
    proc = _main(["build", "bad.yaml"], tmp_path, mirror, capfd, monkeypatch)
    _assert_one_clear_line(proc, "bad.yaml", "sources.0.cuont", "unknown field")
    assert not (tmp_path / "artifacts").exists()


def test_cli_missing_mirror_file(tmp_path, mirror, capfd, monkeypatch):
    (tmp_path / "mirror").mkdir()
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(SMALL))
    proc = _main(
        ["build", "small.yaml", "--mirror", "mirror"], tmp_path, mirror, capfd, monkeypatch
    )
    _assert_one_clear_line(proc, "code_alpaca_2k.json", "not found")
    assert not (tmp_path / "artifacts" / "mixtures" / "small").exists()


@pytest.mark.slow
def test_cli_malformed_json_line_leaves_no_partial_mixture(
    tmp_path, mirror, capfd, monkeypatch, prefect_harness
):
    broken = tmp_path / "mirror"
    (broken / "codealpaca").mkdir(parents=True)
    (broken / "lima").mkdir()
    (broken / "lima" / "lima.json").write_bytes((mirror / "lima" / "lima.json").read_bytes())
    (broken / "codealpaca" / "code_alpaca_2k.json").write_text(
        '[\n{"instruction": "a", "input": "", "output": "b"},\n'
        '{"instruction": "c" "output": "d"}\n]\n'
    )
    (tmp_path / "small.yaml").write_text(yaml.safe_dump(SMALL))
    proc = _main(
        ["build", "small.yaml", "--mirror", "mirror"], tmp_path, mirror, capfd, monkeypatch
    )
    _assert_one_clear_line(proc, "code_alpaca_2k.json", "line 3")
    leftovers = (
        list((tmp_path / "artifacts" / "mixtures").glob("*"))
        if (tmp_path / "artifacts").exists()
        else []
    )
    assert leftovers == []
