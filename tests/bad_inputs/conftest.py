"""The bad-input corpus: shared fixtures, the CLI runner and the tally of outcomes.

Every case runs the CLI (in-process through `flows.cli.main` where it can) and is judged the
same way (`judge`): exit code != 0, exactly one `error:` line naming the file, row or field,
no traceback, no hidden leftover beside the outputs, and the earlier good mixture
byte-identical. The session ends with the corpus totals in the issue's form.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from corpus import GOOD_RECIPE, TALLY, Workspace, tree_digest


@pytest.fixture(scope="session")
def good_mixture(tmp_path_factory, mirror, prefect_harness) -> Path:
    """One small mixture (20 LIMA rows) built once through the CLI; cases copy it."""
    import subprocess  # noqa: F401 - keeps the import cost out of the first case

    root = tmp_path_factory.mktemp("good")
    recipe = root / "tiny.yaml"
    recipe.write_text(GOOD_RECIPE)
    os.environ.setdefault("INSTRUCTMIX_MIRROR", str(mirror))
    from flows.cli import main

    with pytest.raises(SystemExit) as done:
        main(["build", str(recipe), "--output-dir", str(root / "out"), "--mirror", str(mirror)])
    assert done.value.code == 0
    return root / "out" / "tiny"


@pytest.fixture
def workspace(tmp_path, good_mixture) -> Workspace:
    """A fresh output folder with a byte copy of the good mixture in it."""
    out = tmp_path / "out"
    shutil.copytree(good_mixture, out / "tiny")
    return Workspace(out, out / "tiny", tree_digest(out / "tiny"))


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest's hook
    """The corpus totals in the issue's form."""
    if not TALLY:
        return
    values = list(TALLY.values())
    terminalreporter.write_line(
        f"bad-input corpus: {len(values)} cases, "
        f"{sum(v['clear'] for v in values)} clear errors, "
        f"{sum(v['traceback'] for v in values)} tracebacks, "
        f"{sum(v['partial'] for v in values)} partial artifacts, "
        f"{sum(v['lost'] for v in values)} data lost, "
        f"{sum(v['leaked'] for v in values)} secrets leaked"
    )
