"""Recipe ni-default builds: no test-split task in any split, the card lists tasks/categories."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from data_cards.card import write_card
from data_cards.stats import read_split_files
from generators.natural_instructions.selection import split_file
from generators.natural_instructions.task_file import read_task_list
from instances.context import StageContext
from mixtures.build import build_into
from mixtures.recipe import load_recipe, recipe_path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, mirror: Path) -> Path:
    recipe = load_recipe("ni-default")
    folder = tmp_path_factory.mktemp("ni-default")
    result = build_into(recipe, StageContext(mirror=mirror, seed=recipe.seed), folder)
    write_card(folder, recipe_path("ni-default").read_text(encoding="utf-8"), result.licenses)
    return folder


def test_no_test_split_task_in_the_built_mixture(built: Path, mirror: Path) -> None:
    tables = read_split_files(built)
    assert set(tables) == {"train", "validation"}
    rows = pa.concat_tables(tables.values())
    tasks = set(rows.column("task").to_pylist())
    assert not tasks & set(read_task_list(split_file(mirror, "test")))
    assert tasks <= set(read_task_list(split_file(mirror, "train")))
    assert rows.num_rows == 25 * 100
    per_task = {task: rows.column("task").to_pylist().count(task) for task in tasks}
    assert set(per_task.values()) == {100}
    assert {json.loads(meta)["split"] for meta in rows.column("meta").to_pylist()} == {"train"}


def test_card_lists_tasks_categories_and_licenses(built: Path) -> None:
    text = (built / "README.md").read_text(encoding="utf-8")
    assert "## Tasks and categories" in text
    assert "25 tasks in 15 categories" in text
    assert (
        "| Question Answering | 400 | `task1327_qa_zre_answer_generation_from_question` (100)"
        in (text)
    )
    assert "| Misc. | 100 | `task1146_country_capital` (100) |" in text
    front = yaml.safe_load(text.split("---")[1])
    assert "cc-by-nc-nd-4.0" in front["license"]  # SAMSum
    assert "NonCommercial" in text


def test_funnel_carries_the_generator_extras(built: Path) -> None:
    funnel = json.loads((built / "funnel.json").read_text(encoding="utf-8"))
    generate = next(stage for stage in funnel if stage["stage"] == "generate:natural_instructions")
    assert generate["extras"]["encoding"] == "def+pos2"
    assert sum(generate["extras"]["categories"].values()) == 2500
    assert len(generate["extras"]["tasks"]) == 25


def test_tasks_by_category_orders_and_truncates() -> None:
    from data_cards.stats import reported_license_ids, tasks_by_category

    table = pa.table(
        {
            "category": ["qa", "qa", "qa", "sum", "qa"],
            "task": ["t1", "t2", "t2", "t3", "t3"],
        }
    )
    (qa, summary) = tasks_by_category({"train": table}, max_tasks_shown=1)
    assert (qa["category"], qa["rows"], qa["task_count"], qa["more_tasks"]) == ("qa", 4, 3, 2)
    assert qa["tasks"] == [{"task": "t2", "rows": 2}]
    assert summary["tasks"] == [{"task": "t3", "rows": 1}]
    funnel = [{"extras": {"license_ids": ["mit", "cc-by-nc-nd-4.0"]}}, {"extras": {}}, {}]
    assert reported_license_ids(funnel) == ["cc-by-nc-nd-4.0", "mit"]
