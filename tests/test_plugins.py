"""Plugins: another installed package adds a generator and a filter kind through entry points,
and a recipe using them validates and builds. The plugin is installed as a dist-info folder on
PYTHONPATH of a fresh interpreter (entry points are read when the registries are imported)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mixtures.recipe import RecipeError, parse_recipe

PLUGIN = '''
"""A tiny instructmix plugin: an `echo` generator and a `drop_containing` filter."""
from typing import Literal

from pydantic import BaseModel, ConfigDict

from instances import make_instance, make_table
from instances.rejected import split_rows
from filters.dispatch import Verdicts


class EchoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["echo"] = "echo"
    words: list[str]


class EchoGenerator:
    Config = EchoConfig

    @staticmethod
    def generate(config, ctx):
        rows = [
            make_instance(
                [{"role": "user", "content": f"Repeat: {w}"}, {"role": "assistant", "content": w}],
                source="echo", origin="human", task="echo", category="echo", template="echo",
            )
            for w in config.words
        ]
        return split_rows(make_table(rows), "generate", [None] * len(rows))

    @staticmethod
    def licenses(config):
        return ["cc0-1.0"]


class DropConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["drop_containing"] = "drop_containing"
    text: str


class DropFilter:
    Config = DropConfig

    @staticmethod
    def verdicts(table, config, ctx=None):
        return Verdicts([
            ("contains:" + config.text)
            if any(config.text in m["content"] for m in messages)
            else None
            for messages in table.column("messages").to_pylist()
        ])
'''

SCRIPT = """
import json, sys
from pathlib import Path
from instances.context import StageContext
from mixtures.build import build_into
from mixtures.recipe import parse_recipe

recipe = parse_recipe({
    "name": "plugged",
    "sources": [
        {"name": "echo", "generator": {"kind": "echo", "words": ["alpha", "beta", "gamma"]}}
    ],
    "filters": [{"kind": "drop_containing", "text": "beta"}],
})
result = build_into(recipe, StageContext(), Path(sys.argv[1]))
print(json.dumps({"train": result.splits["train"].column("messages").to_pylist(),
                  "rejected": result.rejected.column("reject_reason").to_pylist(),
                  "licenses": result.licenses}))
"""


@pytest.fixture
def plugin_path(tmp_path) -> Path:
    site = tmp_path / "site"
    (site / "tinyplugin").mkdir(parents=True)
    (site / "tinyplugin" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "tinyplugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tinyplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[instructmix.generators]\necho = tinyplugin:EchoGenerator\n\n"
        "[instructmix.filters]\ndrop_containing = tinyplugin:DropFilter\n"
    )
    return site


def test_a_recipe_builds_with_an_installed_plugin(plugin_path, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), os.getcwd()])}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    answers = sorted(messages[-1]["content"] for messages in out["train"])
    assert answers == ["alpha", "gamma"]
    assert out["rejected"] == ["contains:beta"]
    assert out["licenses"] == ["cc0-1.0"]


def test_without_the_plugin_its_kind_is_a_validation_error_listing_installed_kinds():
    with pytest.raises(RecipeError, match=r"generator.*'echo'.*dataset"):
        parse_recipe({"name": "r", "sources": [{"name": "e", "generator": {"kind": "echo"}}]})
