"""The wheel: its top-level packages are exactly the stage folders the design card names."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"instances", "generators", "filters", "mixtures", "train", "data_cards", "flows"}


@pytest.mark.slow
def test_wheel_holds_exactly_the_seven_stage_packages(tmp_path):
    # build from a copy: an in-tree build would leave build/ and *.egg-info in the checkout
    source = tmp_path / "source"
    skip = (
        ".git",
        ".venv",
        "artifacts",
        ".prefect",
        ".cache",
        "build",
        "__pycache__",
        "*.egg-info",
    )
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*skip))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w"]
        + [str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = tmp_path.glob("instructmix-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top = {name.split("/")[0] for name in names if "/" in name and ".dist-info/" not in name}
    assert top == PACKAGES
    assert "mixtures/recipes/demo.yaml" in names  # the named recipes travel with the code
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as archive:
        assert "instructmix = flows.cli:main" in archive.read(entry_points).decode()
