"""The bad-input corpus: shared fixtures, the CLI runner and the tally of outcomes.

Every case runs the CLI (in-process through `flows.cli.main` where it can) and is judged the
same way (`judge`): exit code != 0, exactly one `error:` line naming the file, row or field,
no traceback, no hidden leftover beside the outputs, and the earlier good mixture
byte-identical. The session ends with the corpus totals in the issue's form.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).parent
GOOD_RECIPE = """name: tiny
seed: 1
sources:
  - name: lima
    generator: {kind: existing, dataset: lima}
    count: 20
split:
  validation: 0.2
"""
TALLY: dict[str, dict[str, bool]] = {}


@dataclass
class Outcome:
    """What one CLI run gave: its exit code and its captured stdout and stderr."""

    code: int
    out: str
    err: str
    error_lines: list[str] = field(default_factory=list)


def run_cli(args: list[str], capfd: pytest.CaptureFixture[str]) -> Outcome:
    """Run `instructmix ARGS` in this process; capture what it writes on fds 1 and 2."""
    from flows.cli import main

    capfd.readouterr()
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capfd.readouterr()
    lines = [line for line in (out + err).splitlines() if line.startswith("error:")]
    return Outcome(code, out, err, lines)


def tree_digest(folder: Path) -> str:
    """sha256 over every path and byte under `folder` (hidden files included)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def hidden_leftovers(out: Path) -> list[str]:
    """Hidden temporaries (`.NAME.*`) left in `out` or inside the mixtures under it."""
    found = []
    for folder in [out, *[p for p in out.iterdir() if p.is_dir()]] if out.is_dir() else []:
        found += [str(p) for p in folder.iterdir() if p.name.startswith(".")]
    return found


@dataclass
class Workspace:
    """A case's output folder holding a copy of the good mixture, and its digest before."""

    out: Path
    good: Path
    digest: str


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


def judge(
    case: str,
    outcome: Outcome,
    fragments: list[str],
    workspace: Workspace | None = None,
    secrets: tuple[str, ...] = (),
    code: int | None = None,
) -> None:
    """Tally and assert one bad-input case (see the module docstring for what is asserted)."""
    text = outcome.out + outcome.err
    line = outcome.error_lines[0] if outcome.error_lines else ""
    clear = (
        outcome.code != 0
        and len(outcome.error_lines) == 1
        and all(f.lower() in line.lower() for f in fragments)
    )
    record = {
        "clear": clear,
        "traceback": "Traceback (most recent call last)" in text,
        "partial": bool(workspace and hidden_leftovers(workspace.out)),
        "lost": bool(
            workspace
            and (not workspace.good.is_dir() or tree_digest(workspace.good) != workspace.digest)
        ),
        "leaked": any(secret in text for secret in secrets),
    }
    TALLY[case] = record
    assert not record["traceback"], text[-3000:]
    assert outcome.code != 0 if code is None else outcome.code == code, text[-3000:]
    assert len(outcome.error_lines) == 1, text[-3000:]
    for fragment in fragments:
        assert fragment.lower() in line.lower(), f"{fragment!r} not in {line!r}"
    assert not record["partial"], hidden_leftovers(workspace.out) if workspace else None
    assert not record["lost"], "the earlier good mixture changed"
    assert not record["leaked"], "a secret was printed"


def tally_judged(case: str, **flags: bool) -> None:
    """Record a case judged by its own assertions (a unit-level or subprocess case)."""
    TALLY[case] = {
        "clear": True,
        "traceback": False,
        "partial": False,
        "lost": False,
        "leaked": False,
        **flags,
    }


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
