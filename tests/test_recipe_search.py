"""Recipe names resolve through a search path; `instructmix recipes` lists them; source_priority
names recipe sources."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from typer.testing import CliRunner

from filters import exact_dedup
from filters.registry import run_filter
from flows.cli import app
from instances import make_instance, make_table
from instances.context import StageContext
from mixtures.recipe import RecipeError, load_recipe, parse_recipe, recipe_path
from mixtures.recipe_search import PACKAGED_DIR, list_recipes, set_recipe_folders
from mixtures.sampling import tag_recipe_source

DEMO = (PACKAGED_DIR / "demo.yaml").read_text(encoding="utf-8")


def write(folder: Path, name: str, recipe_name: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(DEMO.replace("name: demo", f"name: {recipe_name or name}"), encoding="utf-8")
    return path


@pytest.fixture
def search(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    set_recipe_folders([])


def test_order_env_folders_then_cwd_folders_then_packaged(search):
    env_a, env_b = search / "a", search / "b"
    write(env_b, "shared", "from-b")
    write(env_a, "shared", "from-a")
    write(search / "recipes", "local")
    write(search / "mixtures" / "recipes", "local", "from-mixtures")
    write(search / "recipes", "demo", "local-demo")
    set_recipe_folders([env_a, env_b])
    assert load_recipe("shared").name == "from-a"
    assert load_recipe("local").name == "from-mixtures"
    assert load_recipe("demo").name == "local-demo"
    assert load_recipe("t0-style").name == "t0-style"  # packaged
    assert load_recipe(str(env_b / "shared.yaml")).name == "from-b"  # a path first
    entries = [(e.name, e.where, e.shadowed) for e in list_recipes()]
    assert ("shared", "INSTRUCTMIX_RECIPES", True) in entries
    assert ("demo", "packaged", True) in entries and ("curated", "packaged", False) in entries


def test_unknown_names_list_the_folders_searched(search):
    with pytest.raises(
        RecipeError, match=r"unknown recipe 'nope': searched .*known recipes: .*demo"
    ):
        recipe_path("nope")
    with pytest.raises(RecipeError, match="missing.yaml: no such recipe file"):
        recipe_path("missing.yaml")


def test_cli_reads_instructmix_recipes_at_the_edge(search):
    write(search / "mine", "my-mix")
    result = CliRunner().invoke(app, ["recipes"], env={"INSTRUCTMIX_RECIPES": str(search / "mine")})
    assert result.exit_code == 0, result.output
    assert "my-mix" in result.output and "INSTRUCTMIX_RECIPES" in result.output
    assert "tulu-human" in result.output


def test_source_priority_names_recipe_sources():
    data = yaml.safe_load(DEMO)
    data["filters"][0]["source_priority"] = ["gpt4", "lima"]
    with pytest.raises(RecipeError, match=r"source_priority names \['gpt4'\].*sources are"):
        parse_recipe(data)


def test_dedup_priority_follows_the_recipe_source_label():
    turns = [{"role": "user", "content": "Same?"}, {"role": "assistant", "content": "Yes."}]
    one = make_instance(turns, source="x", origin="human", task="t", category="c", template="r")
    first = tag_recipe_source(make_table([one]), "gpt4")
    second = tag_recipe_source(make_table([one]), "human_chats")
    table = pa.concat_tables([first, second])
    config = exact_dedup.Config(source_priority=["human_chats"])
    result = run_filter(table, config, StageContext())
    assert '"recipe_source": "human_chats"' in result.kept.column("meta")[0].as_py()
