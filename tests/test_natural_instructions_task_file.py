"""Task-file parsing: every mirrored file parses; bad files fail naming the file and the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generators.natural_instructions.selection import available_tasks, split_file
from generators.natural_instructions.task_file import (
    parse_task_data,
    parse_task_file,
    read_task_list,
)
from instances import SourceError


def test_all_mirrored_task_files_parse(mirror: Path) -> None:
    paths = available_tasks(mirror)
    assert len(paths) == 27
    for name, path in paths.items():
        task = parse_task_file(path)
        assert task.name == name
        assert task.definition_text
        assert task.instances, name
        assert task.category, name
        assert task.input_language == ["English"], name
        assert all(instance.output for instance in task.instances), name
        assert task.license != "unknown", name


def test_fields_of_one_task(mirror: Path) -> None:
    task = parse_task_file(mirror / "natural_instructions/tasks/task1146_country_capital.json")
    assert task.category == "Misc."
    assert task.domains == ["Countries"]
    assert task.source == ["country_capital_city_dataset"]
    assert task.license == "Public Domain"
    assert len(task.instances) == 231
    assert task.instances[0].id == "task1146-caea1179adc149ffb2a3ecb2ea3abefc"
    assert (task.instances[0].input, task.instances[0].output) == ("Afghanistan", ["Kabul"])
    assert task.positive_examples[1].output == "New Delhi"
    assert task.negative_examples[0].explanation.startswith("Rome is not the capital")
    assert task.prompt_text == task.things_to_avoid_text == task.emphasis_text == ""


def test_multiple_licenses_are_joined(mirror: Path) -> None:
    task = parse_task_file(
        mirror / "natural_instructions/tasks/task918_coqa_answer_generation.json"
    )
    assert task.license == "CC BY-SA 4.0; MSR-LA; RACE license; Apache"


def _write(tmp_path: Path, data: object, name: str = "task999_broken.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


GOOD = {
    "Definition": ["Repeat the input."],
    "Positive Examples": [{"input": "a", "output": "a", "explanation": "same"}],
    "Instances": [{"id": "x-1", "input": "b", "output": ["b"]}],
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"Instances": [{"id": "x-1", "input": "b", "output": [3]}]}, "Instances.0.output.0"),
        ({"Instances": [{"id": "x-1", "output": ["b"]}]}, "Instances.0.input"),
        ({"Instances": "none"}, "Instances"),
        ({"Positive Examples": [{"input": "a"}]}, "Positive Examples.0.output"),
        ({"Categories": {"a": 1}}, "Categories"),
        ({"Definition": [""]}, "Definition"),
    ],
)
def test_malformed_file_names_file_and_field(tmp_path: Path, change: dict, field: str) -> None:
    path = _write(tmp_path, {**GOOD, **change})
    with pytest.raises(SourceError) as error:
        parse_task_file(path)
    message = str(error.value)
    assert str(path) in message
    assert f"field '{field}'" in message


def test_missing_instances_is_named(tmp_path: Path) -> None:
    data = {key: value for key, value in GOOD.items() if key != "Instances"}
    with pytest.raises(SourceError, match=r"task999_broken\.json: field 'Instances' is missing"):
        parse_task_file(_write(tmp_path, data))


def test_wrong_output_type_names_the_instance(tmp_path: Path) -> None:
    data = {**GOOD, "Instances": [GOOD["Instances"][0], {"id": "x-2", "input": "c", "output": 5}]}
    with pytest.raises(SourceError, match=r"field 'Instances\.1\.output'"):
        parse_task_file(_write(tmp_path, data))


def test_bad_json_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "task998_bad.json"
    path.write_text('{"Definition": ["x"],\n "Instances": [,]}', encoding="utf-8")
    with pytest.raises(SourceError, match=r"task998_bad\.json: malformed JSON at line 2"):
        parse_task_file(path)


def test_not_an_object(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="expected a JSON object"):
        parse_task_file(_write(tmp_path, [GOOD]))


def test_v1_layout_parses() -> None:
    v1 = {
        "Title": "Writing questions",
        "Prompt": "Write a question.",
        "Definition": "Write a question about the passage.",
        "Things to Avoid": "Do not copy the passage.",
        "Emphasis & Caution": "Questions must be answerable.",
        "Examples": {
            "Positive Examples": [{"input": "p", "output": "q?", "reason": "good"}],
            "Negative Examples": [
                {"input": "p", "output": "p", "reason": "copied", "suggestion": "ask"}
            ],
        },
        "Instances": [{"input": "p2", "output": ["q2?", "q3?"]}],
    }
    task = parse_task_data(v1, "subtask001_quoref_question_generation", "v1.json")
    assert task.prompt_text == "Write a question."
    assert task.definition_text == "Write a question about the passage."
    assert task.things_to_avoid_text == "Do not copy the passage."
    assert task.emphasis_text == "Questions must be answerable."
    assert task.positive_examples[0].explanation == "good"
    assert task.negative_examples[0].suggestion == "ask"
    assert task.instances[0].output == ["q2?", "q3?"]
    assert task.category is None and task.license == "unknown"


def test_split_lists(mirror: Path) -> None:
    train = read_task_list(split_file(mirror, "train"))
    test = read_task_list(split_file(mirror, "test"))
    assert (len(train), len(test)) == (756, 119)
    assert not set(train) & set(test)
    assert "task1562_zest_text_modification" in test


def test_split_list_rejects_garbage(tmp_path: Path) -> None:
    path = tmp_path / "train_tasks.txt"
    path.write_text("task1_a\ntask2 b c\n", encoding="utf-8")
    with pytest.raises(SourceError, match="line 2"):
        read_task_list(path)
