"""Bad recipes: each file in recipes/ names, on its first line, what its error must say.

Every one fails before any work, with one line naming the recipe file; the good mixture
beside it is untouched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import HERE, judge, run_cli

CASES = sorted((HERE / "recipes").glob("*.yaml"))


def expectation(path: Path) -> list[str]:
    """The fragments the error line must hold: the file's name and its `# expect:` text."""
    first = path.read_bytes().split(b"\n", 1)[0].decode("ascii")
    expected = first.removeprefix("# expect:").strip()
    return [path.name, *([expected] if expected else [])]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_bad_recipe_fails_with_one_line_naming_the_file(path, workspace, capfd, mirror):
    outcome = run_cli(["build", path, "--output-dir", workspace.out, "--mirror", mirror], capfd)
    judge(f"recipe:{path.stem}", outcome, expectation(path), workspace)


def test_a_recipe_path_with_yaml_suffix_is_not_doubled(workspace, capfd, tmp_path):
    missing = tmp_path / "nothere.yaml"
    outcome = run_cli(["build", missing, "--output-dir", workspace.out], capfd)
    judge("recipe:missing_file", outcome, ["nothere.yaml", "no such recipe file"], workspace)
    assert ".yaml.yaml" not in outcome.error_lines[0]


def test_a_recipe_path_that_is_a_folder_says_so(workspace, capfd, tmp_path):
    folder = tmp_path / "recipes.yaml"
    folder.mkdir()
    outcome = run_cli(["build", folder, "--output-dir", workspace.out], capfd)
    judge("recipe:folder", outcome, ["recipes.yaml", "is a folder"], workspace)


def test_a_mirror_that_is_a_file_is_not_reported_missing(workspace, capfd, tmp_path):
    mirror_file = tmp_path / "mirror.txt"
    mirror_file.write_text("not a folder")
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text((HERE / "recipes" / "count_zero.yaml").read_text().replace("0", "5"))
    outcome = run_cli(
        ["build", recipe, "--output-dir", workspace.out, "--mirror", mirror_file], capfd
    )
    judge("recipe:mirror_is_file", outcome, ["mirror.txt", "is a file"], workspace)
    assert "does not exist" not in outcome.error_lines[0]


def test_an_output_path_that_is_a_file_is_one_line(workspace, capfd, tmp_path, mirror):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text((HERE / "recipes" / "count_zero.yaml").read_text().replace("0", "5"))
    blocker = workspace.out / "blocker"
    blocker.write_text("a file where a folder should be")
    outcome = run_cli(["build", recipe, "--output-dir", blocker, "--mirror", mirror], capfd)
    judge("recipe:out_is_file", outcome, ["blocker"], workspace)
    assert blocker.read_text() == "a file where a folder should be"
