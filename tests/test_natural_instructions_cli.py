"""`instructmix ni`: list tasks, preview an encoding, clear one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.cli import main


def test_tasks_lists_the_test_split(capsys: pytest.CaptureFixture[str], mirror: Path) -> None:
    with pytest.raises(SystemExit) as done:
        main(["ni", "tasks", "--split", "test", "--mirror", str(mirror)])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out == "task1562_zest_text_modification\ttest\tQuestion Rewriting\t142\ten\tApache 2.0\n"


def test_preview_renders_and_reports_missing(
    capsys: pytest.CaptureFixture[str], mirror: Path
) -> None:
    args = ["ni", "preview", "task1146_country_capital", "--encoding", "prompt+def"]
    with pytest.raises(SystemExit):
        main([*args, "--index", "1", "--mirror", str(mirror)])
    out = capsys.readouterr().out
    assert "--- user (template ni/prompt+def) ---\nDefinition: In this task" in out
    assert "Input: Albania\nOutput:\n--- assistant (first reference output) ---\nTirana\n" in out
    assert "missing in this task file: prompt" in out


def test_bad_encoding_is_one_line(capsys: pytest.CaptureFixture[str], mirror: Path) -> None:
    with pytest.raises(SystemExit) as done:
        main(
            [
                "ni",
                "preview",
                "task1146_country_capital",
                "--encoding",
                "def+x",
                "--mirror",
                str(mirror),
            ]
        )
    assert done.value.code == 1
    assert capsys.readouterr().err.startswith("error: encoding 'def+x': unknown part 'x'")
