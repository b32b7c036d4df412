"""Bad data files: a mirror whose lima/lima.json is each file of lima/ (expectations in
lima/expect.json). The build fails with one line naming the file (reading errors) or the
source and the reject reason (rows that cannot become instances), before the card writer;
the good mixture of the same name is untouched. Rows are in the layout the `lima` preset reads
from the mirror (LLaMA-Factory's Alpaca export); reject reasons are those of instances/formats/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import GOOD_RECIPE, HERE, judge, run_cli

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


def test_wrong_types_are_rejected_not_coerced():
    """The issue's `{"conversations": [123, null]}` is rejected with a stable reason, in the
    Hub's LIMA layout (sharegpt) and the mirror's (alpaca): never "123" -> "None"."""
    from instances.formats import RowReject, row_messages
    from instances.formats.common import NON_STRING, NUL_CHARACTER

    def reason(fmt: str, row: dict) -> str:
        with pytest.raises(RowReject) as rejected:
            row_messages(fmt, row, lambda field: field)
        return rejected.value.reason

    assert reason("sharegpt", {"conversations": [123, None]}) == NON_STRING
    assert reason("sharegpt", {"conversations": ["q", 4.5]}) == NON_STRING
    assert reason("alpaca", {"instruction": 123, "output": "o"}) == NON_STRING
    assert reason("alpaca", {"instruction": "i", "output": "o", "history": [[1, 2]]}) == NON_STRING
    assert reason("sharegpt", {"conversations": ["a\x00b", "c"]}) == NUL_CHARACTER
    assert NON_STRING == "non_string_content" and NUL_CHARACTER == "nul_character"
