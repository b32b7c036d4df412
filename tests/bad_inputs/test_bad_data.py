"""Bad data files: a mirror whose lima/lima.json is each file of lima/ (expectations in
lima/expect.json). The build fails with one line naming the file (reading errors) or the
source and the reject reason (rows that cannot become instances), before the card writer;
the good mixture of the same name is untouched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import GOOD_RECIPE, HERE, judge, run_cli

EXPECT = json.loads((HERE / "lima" / "expect.json").read_text())


def fake_mirror(root: Path, mirror: Path, lima_json: bytes | None) -> Path:
    """A mirror that is the real one but for lima/lima.json (`None`: lima.json is a folder)."""
    fake = root / "mirror"
    fake.mkdir()
    for entry in mirror.iterdir():
        if entry.name != "lima":
            (fake / entry.name).symlink_to(entry)
    (fake / "lima").mkdir()
    if lima_json is None:
        (fake / "lima" / "lima.json").mkdir()
    else:
        (fake / "lima" / "lima.json").write_bytes(lima_json)
    return fake


def content(name: str) -> bytes:
    """The bytes of a case file (the deeply nested one is made here, not committed)."""
    if name == "deeply_nested.json":
        return b"[" * 100_000 + b"]" * 100_000
    return (HERE / "lima" / name).read_bytes()


def build_with(tmp_path, workspace, capfd, data: bytes | None):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(GOOD_RECIPE.replace("count: 20", "count: 5"))
    fake = fake_mirror(tmp_path, Path(__import__("mirror_path").MIRROR), data)
    return run_cli(["build", recipe, "--output-dir", workspace.out, "--mirror", fake], capfd)


@pytest.mark.parametrize(
    "name", sorted(EXPECT), ids=[n.removesuffix(".json") for n in sorted(EXPECT)]
)
def test_bad_data_file_fails_with_one_line(name, tmp_path, workspace, capfd, prefect_harness):
    outcome = build_with(tmp_path, workspace, capfd, content(name))
    reading = EXPECT[name] in ("malformed JSON", "expected a JSON list", "item 0", "not UTF-8")
    where = "lima.json" if reading or "nested" in EXPECT[name] else "lima"
    judge(f"data:{name}", outcome, [where, EXPECT[name]], workspace)
    assert "SchemaError" not in outcome.out + outcome.err


def test_data_file_that_is_a_folder(tmp_path, workspace, capfd, prefect_harness):
    outcome = build_with(tmp_path, workspace, capfd, None)
    judge("data:file_is_folder", outcome, ["lima.json", "folder"], workspace)


def test_filter_that_drops_everything_names_the_filter(tmp_path, workspace, capfd, mirror):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(GOOD_RECIPE + "filters:\n  - kind: length\n    max_response_chars: 1\n")
    outcome = run_cli(["build", recipe, "--output-dir", workspace.out, "--mirror", mirror], capfd)
    judge("data:filter_drops_all", outcome, ["empty", "length"], workspace)


def test_split_leaving_train_empty_says_so(tmp_path, workspace, capfd, mirror):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(
        GOOD_RECIPE.replace("count: 20", "count: 1").replace("validation: 0.2", "validation: 0.9")
    )
    outcome = run_cli(["build", recipe, "--output-dir", workspace.out, "--mirror", mirror], capfd)
    judge("data:train_empty", outcome, ["train split is empty", "validation"], workspace)


def test_wrong_types_are_rejected_not_coerced(mirror):
    from generators.existing import NUL_CHARACTER, WRONG_TYPE, row_messages

    assert row_messages({"conversations": [123, None]}) == [
        {"role": "user", "content": 123},
        {"role": "assistant", "content": None},
    ]  # the generator rejects these as wrong_type: never "123" -> "None"
    assert WRONG_TYPE == "wrong_type" and NUL_CHARACTER == "nul_character"
