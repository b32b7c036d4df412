"""Inline templated tasks: a recipe's own rows rendered with its own promptsource templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generators.templated import generator as templated
from generators.templated.templates import TemplateError
from instances import validate
from instances.context import StageContext
from mixtures.recipe import RecipeError, parse_recipe

FIXTURES = Path(__file__).parent / "fixtures" / "byod"


def inline(**extra):
    task = {
        "name": "sciq_local",
        "data": {"path": str(FIXTURES / "sciq.jsonl")},
        "templates_path": str(FIXTURES / "templates.yaml"),
        "category": "science_qa",
        **extra,
    }
    return templated.Config(tasks=[task], max_rows_per_task=None)


def test_custom_templates_file_renders_every_row():
    result = templated.generate(inline(), StageContext())
    kept = validate(result.kept).to_pylist()
    assert len(kept) == 3 and result.rejected.num_rows == 0
    first = kept[0]
    assert first["messages"][0]["content"].startswith(
        "Answer the science question: What gas do plants absorb from the air?"
    )
    assert first["messages"][1]["content"] == "carbon dioxide"
    assert first["task"] == "sciq_local" and first["category"] == "science_qa"
    assert first["source"] == "templated/sciq_local"
    assert first["template"] == "inline/sciq_local/direct_question#zs_noopt"
    assert json.loads(first["meta"])["answer_choices"] == ["oxygen", "helium", "carbon dioxide"]


def test_a_folder_of_templates_and_a_builtin_task_side_by_side(tmp_path, mirror):
    folder = tmp_path / "templates" / "sciq"
    folder.mkdir(parents=True)
    (folder / "templates.yaml").write_text((FIXTURES / "templates.yaml").read_text())
    config = templated.Config(
        tasks=[
            "sst2",
            {
                "name": "sciq_local",
                "data": {"path": str(FIXTURES / "sciq.jsonl")},
                "templates_path": str(tmp_path / "templates"),
            },
        ],
        max_rows_per_task=5,
    )
    result = templated.generate(config, StageContext(mirror=mirror))
    tasks = result.kept.column("task").to_pylist()
    assert tasks.count("sciq_local") == 3 and tasks.count("sst2") >= 1
    templates = {t for t in result.kept.column("template").to_pylist() if "sciq" in t}
    assert templates == {"inline/sciq_local/sciq/direct_question#zs_noopt"}
    inputs = templated.inputs(config, StageContext(mirror=mirror))
    assert FIXTURES / "sciq.jsonl" in inputs and folder / "templates.yaml" in inputs


def test_label_names_turn_string_labels_into_ids(tmp_path):
    (tmp_path / "rows.jsonl").write_text(
        '{"text": "great film", "label": "positive"}\n{"text": "dull", "label": "negative"}\n'
    )
    (tmp_path / "t.yaml").write_text(
        "templates:\n  t1: !Template\n    id: t1\n    name: feel\n"
        "    answer_choices: negative ||| positive\n"
        "    jinja: 'Review: {{ text }} Feeling? ||| {{ answer_choices[label] }}'\n"
    )
    config = templated.Config(
        tasks=[
            {
                "name": "reviews",
                "data": {"path": str(tmp_path / "rows.jsonl")},
                "templates_path": str(tmp_path / "t.yaml"),
                "label_names": ["negative", "positive"],
            }
        ]
    )
    kept = templated.generate(config, StageContext()).kept.to_pylist()
    assert [row["messages"][1]["content"] for row in kept] == ["positive", "negative"]


def test_missing_templates_and_unknown_keys_are_clear_errors(tmp_path):
    config = inline(templates_path=str(tmp_path / "nope.yaml"))
    with pytest.raises(TemplateError, match=r"nope\.yaml: template file or folder not found"):
        templated.generate(config, StageContext())
    with pytest.raises(RecipeError, match=r"tasks\.0\.inline\.templates_path' is missing"):
        parse_recipe(
            {
                "name": "x",
                "sources": [
                    {
                        "name": "t",
                        "generator": {
                            "kind": "templated",
                            "tasks": [{"name": "a", "data": {"path": "x"}, "templates_pth": "y"}],
                        },
                    }
                ],
            }
        )
