"""The bad-input corpus's shared helpers: the CLI runner, the judge and the tally of outcomes.

Every case runs the CLI (in-process through `flows.cli.main` where it can) and is judged the
same way (`judge`): exit code != 0, exactly one `error:` line naming the file, row or field,
no traceback, no hidden leftover beside the outputs, and the earlier good mixture
byte-identical. (conftest.py holds the fixtures and prints the totals.)
"""

from __future__ import annotations

import hashlib
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
