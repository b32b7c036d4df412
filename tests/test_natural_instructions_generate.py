"""The natural_instructions generator on the mirror: splits, caps, targets, fields, reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError as PydanticValidationError

from generators.natural_instructions import Config, generate, inputs, licenses
from generators.natural_instructions.hub import tasks_from_hub_rows
from generators.natural_instructions.licenses import license_id
from generators.natural_instructions.selection import split_file
from generators.natural_instructions.task_file import parse_task_file, read_task_list
from generators.registry import run_generator
from instances import SourceError, validate
from instances.context import StageContext
from mixtures.recipe import load_recipe

MULTI = "task927_yelp_negative_to_positive_style_transfer"  # every instance has 2+ outputs
CAPITALS = "task1146_country_capital"  # 231 instances
TEST_TASK = "task1562_zest_text_modification"  # official test split
EXCLUDED_TASK = "task185_snli_contradiction_to_neutral_text_modification"  # in neither list


@pytest.fixture(scope="module")
def ctx(mirror: Path) -> StageContext:
    return StageContext(mirror=mirror, seed=7)


def _rows(result) -> list[dict]:
    rows = result.kept.to_pylist()
    for row in rows:
        row["meta"] = json.loads(row["meta"])
    return rows


def test_no_test_split_task_reaches_ni_default(mirror: Path) -> None:
    recipe = load_recipe("ni-default")
    (source,) = recipe.sources
    result = run_generator(source.generator, StageContext(mirror=mirror, seed=recipe.seed))
    tasks = set(result.kept.column("task").to_pylist())
    test_tasks = set(read_task_list(split_file(mirror, "test")))
    train_tasks = set(read_task_list(split_file(mirror, "train")))
    assert tasks and not tasks & test_tasks
    assert tasks <= train_tasks
    assert TEST_TASK not in tasks and EXCLUDED_TASK not in tasks
    assert len(tasks) == 25
    assert {row["meta"]["split"] for row in _rows(result)} == {"train"}
    assert set(result.kept.column("template").to_pylist()) == {"ni/def+pos2"}
    assert result.report.balanced()
    validate(result.kept)
    # the card's material: per-task and per-category counts, each task's category
    extras = result.report.extras
    assert sum(extras["tasks"].values()) == result.kept.num_rows == 2500
    assert sum(extras["categories"].values()) == 2500
    assert extras["task_categories"][CAPITALS] == "Misc."
    assert extras["missing_components"] == {}
    # SAMSum (CC BY-NC-ND 4.0) is a train task: the NonCommercial license must be visible
    assert "cc-by-nc-nd-4.0" in extras["license_ids"]
    assert extras["licenses"]["CC BY-NC-ND 4.0"] == ["task1572_samsum_summary"]


def test_test_and_all_splits(ctx: StageContext) -> None:
    test = generate(Config(split="test"), ctx)
    assert set(test.kept.column("task").to_pylist()) == {TEST_TASK}
    everything = generate(Config(split="all", max_per_task=5), ctx)
    assert len(set(everything.kept.column("task").to_pylist())) == 27
    splits = {row["task"]: row["meta"]["split"] for row in _rows(everything)}
    assert (splits[TEST_TASK], splits[EXCLUDED_TASK], splits[CAPITALS]) == (
        "test",
        "excluded",
        "train",
    )


def test_per_task_cap(ctx: StageContext, mirror: Path) -> None:
    subset = ["task1657_gooaq_question_generation", CAPITALS]  # 104 and 231 instances
    capped = generate(Config(tasks=subset), ctx)
    assert capped.report.extras["tasks"] == {subset[0]: 100, CAPITALS: 100}
    assert capped.report.extras["instances_over_cap"] == 4 + 131
    small = generate(Config(tasks=subset, max_per_task=150), ctx)
    assert small.report.extras["tasks"] == {subset[0]: 104, CAPITALS: 150}
    uncapped = generate(Config(tasks=subset, max_per_task=None), ctx)
    assert uncapped.kept.num_rows == 335
    first = generate(Config(tasks=[CAPITALS], max_per_task=10, cap_selection="first"), ctx)
    file_ids = [
        i.id
        for i in parse_task_file(mirror / f"natural_instructions/tasks/{CAPITALS}.json").instances
    ]
    assert [row["meta"]["instance_id"] for row in _rows(first)] == file_ids[:10]


def test_seeded_cap_is_deterministic(mirror: Path) -> None:
    config = Config(tasks=[CAPITALS], max_per_task=20)

    def ids(seed: int) -> list[str]:
        return (
            generate(config, StageContext(mirror=mirror, seed=seed)).kept.column("id").to_pylist()
        )

    assert ids(1) == ids(1)
    assert ids(1) != ids(2)
    assert len(set(ids(1))) == 20


def test_first_target_keeps_other_outputs_in_meta(ctx: StageContext, mirror: Path) -> None:
    task = parse_task_file(mirror / f"natural_instructions/tasks/{MULTI}.json")
    outputs = {instance.id: instance.output for instance in task.instances}
    rows = _rows(generate(Config(tasks=[MULTI], target="first"), ctx))
    assert rows
    for row in rows:
        reference = outputs[row["meta"]["instance_id"]]
        assert row["messages"][1]["content"] == reference[0].strip()
        assert row["meta"]["other_outputs"] == reference[1:]


def test_sampled_target_is_seeded_and_deterministic(mirror: Path) -> None:
    config = Config(tasks=[MULTI], target="sample", max_per_task=50, cap_selection="first")

    def targets(seed: int) -> list[tuple[str, str, list[str]]]:
        rows = _rows(generate(config, StageContext(mirror=mirror, seed=seed)))
        return [
            (
                row["meta"]["instance_id"],
                row["messages"][1]["content"],
                row["meta"]["other_outputs"],
            )
            for row in rows
        ]

    first, again, other_seed = targets(3), targets(3), targets(4)
    assert first == again
    assert [t[1] for t in first] != [t[1] for t in other_seed]
    task = parse_task_file(mirror / f"natural_instructions/tasks/{MULTI}.json")
    outputs = {instance.id: instance.output for instance in task.instances}
    for instance_id, target, others in first:
        assert sorted([target, *others]) == sorted(o.strip() for o in outputs[instance_id])
    assert any(target != outputs[i][0].strip() for i, target, _ in first)


def test_fields_of_rows(ctx: StageContext) -> None:
    rows = _rows(generate(Config(tasks=[CAPITALS], max_per_task=3, cap_selection="first"), ctx))
    row = rows[0]
    assert (row["source"], row["origin"], row["task"]) == (
        "natural_instructions",
        "crowdsourced_schema",
        CAPITALS,
    )
    assert (row["category"], row["lang"], row["template"]) == ("Misc.", "en", "ni/def+pos2")
    assert row["meta"]["license"] == "Public Domain"
    assert row["meta"]["license_ids"] == ["other"]
    assert row["messages"] == [
        {
            "role": "user",
            "content": "Definition: In this task, you are given a country name and you need to "
            "return the capital city of the given country\n\n"
            "Positive example 1:\nInput: United States\nOutput: Washington\n\n"
            "Positive example 2:\nInput: India\nOutput: New Delhi\n\n"
            "Now complete the following example:\nInput: Afghanistan\nOutput:",
        },
        {"role": "assistant", "content": "Kabul"},
    ]


def test_leave_one_category_out(ctx: StageContext) -> None:
    qa = "Question Answering"
    train = generate(Config(split="train", split_by="category", held_out_category=qa), ctx)
    test = generate(Config(split="test", split_by="category", held_out_category=qa), ctx)
    assert qa not in set(train.kept.column("category").to_pylist())
    assert set(test.kept.column("category").to_pylist()) == {qa}
    assert len(set(test.kept.column("task").to_pylist())) == 4
    assert len(set(train.kept.column("task").to_pylist())) == 23
    with pytest.raises(SourceError, match="categories there"):
        generate(Config(split="test", split_by="category", held_out_category="Poetry"), ctx)


def test_missing_component_reported_or_rejected(ctx: StageContext) -> None:
    subset = [CAPITALS, MULTI]
    omitted = generate(Config(tasks=subset, encoding="prompt+def", max_per_task=4), ctx)
    assert omitted.report.extras["missing_components"] == {"prompt": sorted(subset)}
    assert omitted.kept.num_rows == 8
    assert json.loads(omitted.kept.column("meta")[0].as_py())["missing_components"] == ["prompt"]
    rejected = generate(
        Config(tasks=subset, encoding="prompt+def", max_per_task=4, on_missing="reject"), ctx
    )
    assert rejected.kept.num_rows == 0
    assert rejected.report.dropped_by_reason == {"missing_component": 8}
    assert rejected.report.balanced()


def _tiny_mirror(tmp_path: Path, tasks: dict[str, object]) -> Path:
    root = tmp_path / "natural_instructions"
    (root / "tasks").mkdir(parents=True)
    (root / "splits" / "default").mkdir(parents=True)
    for name, data in tasks.items():
        (root / "tasks" / f"{name}.json").write_text(json.dumps(data), encoding="utf-8")
    (root / "splits/default/train_tasks.txt").write_text("\n".join(tasks) + "\n")
    (root / "splits/default/test_tasks.txt").write_text("")
    return tmp_path


TINY = {
    "Definition": ["Echo the input."],
    "Categories": ["Misc."],
    "Input_language": ["French"],
    "Instance License": ["CC0"],
    "Instances": [
        {"id": "t-1", "input": "bonjour", "output": ["bonjour"]},
        {"id": "t-2", "input": " ", "output": ["x"]},
        {"id": "t-3", "input": "salut", "output": ["", " "]},
    ],
}


def test_row_rejects_and_language(tmp_path: Path) -> None:
    mirror = _tiny_mirror(tmp_path, {"task1_echo": TINY})
    result = generate(Config(encoding="def"), StageContext(mirror=mirror))
    assert result.kept.column("lang").to_pylist() == ["fr"]
    assert result.rejected.column("reject_reason").to_pylist() == ["empty_input", "empty_output"]
    assert result.report.balanced() and result.report.rows_in == 3


def test_bad_task_file_fails_naming_file_and_field(tmp_path: Path) -> None:
    broken = {**TINY, "Instances": [{"id": "t-1", "input": "a", "output": "b"}, {"id": "t-2"}]}
    mirror = _tiny_mirror(tmp_path, {"task1_echo": TINY, "task2_broken": broken})
    with pytest.raises(SourceError, match=r"task2_broken\.json: field 'Instances\.1\.input'"):
        generate(Config(), StageContext(mirror=mirror))
    unknown_lang = {**TINY, "Input_language": ["Klingon"]}
    mirror = _tiny_mirror(tmp_path / "b", {"task3_klingon": unknown_lang})
    with pytest.raises(SourceError, match=r"task3_klingon\.json: field 'Input_language'"):
        generate(Config(), StageContext(mirror=mirror))


def test_unknown_task_and_missing_mirror(tmp_path: Path, ctx: StageContext) -> None:
    with pytest.raises(SourceError, match="no task file for"):
        generate(Config(tasks=["task0_nope"]), ctx)
    with pytest.raises(SourceError, match=r"not in the official train split"):
        generate(Config(tasks=[CAPITALS, TEST_TASK]), ctx)
    with pytest.raises(SourceError, match="no task selected"):
        only_rewriting = Config(
            split="train",
            split_by="category",
            held_out_category="question rewriting",
            tasks=[TEST_TASK],
        )
        generate(only_rewriting, ctx)
    with pytest.raises(SourceError, match="task folder not found"):
        generate(Config(), StageContext(mirror=tmp_path))


def test_config_rules() -> None:
    with pytest.raises(PydanticValidationError, match="held_out_category"):
        Config(split_by="category")
    with pytest.raises(PydanticValidationError, match="unknown part"):
        Config(encoding="def+pos2+title")
    with pytest.raises(PydanticValidationError, match="greater than or equal to 1"):
        Config(max_per_task=0)
    assert Config(encoding="pos2+def").encoding == "def+pos2"


def test_inputs_and_licenses(ctx: StageContext, mirror: Path) -> None:
    files = inputs(Config(), ctx)
    assert split_file(mirror, "test") in files
    assert len(files) == 2 + 25
    assert all(path.is_file() for path in files)
    assert inputs(Config(), StageContext()) == []
    assert licenses(Config()) == ["apache-2.0", "other"]


def test_hub_rows_regroup_into_tasks() -> None:
    rows = [
        {"task_name": "task1_a", "id": "a-1", "definition": "D", "inputs": "x", "targets": "y"},
        {"task_name": "task1_a", "id": "a-1", "definition": "D", "inputs": "x", "targets": "z"},
        {"task_name": "task2_b", "id": "b-1", "definition": "E", "inputs": "u", "targets": "v"},
    ]
    first, second = tasks_from_hub_rows(rows)
    assert (first.name, first.definition_text) == ("task1_a", "D")
    assert [(i.id, i.output) for i in first.instances] == [("a-1", ["y", "z"])]
    assert second.instances[0].input == "u"
    with pytest.raises(SourceError, match="row 0 lacks column"):
        tasks_from_hub_rows([{"task_name": "t"}])


def test_tiny_mirror_copy_of_one_real_file(tmp_path: Path, mirror: Path) -> None:
    root = _tiny_mirror(tmp_path, {})
    source = mirror / f"natural_instructions/tasks/{CAPITALS}.json"
    shutil.copy(source, root / "natural_instructions/tasks" / source.name)
    result = generate(Config(split="all", max_per_task=None), StageContext(mirror=root))
    assert result.kept.num_rows == 231


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CC BY-NC-ND 4.0", "cc-by-nc-nd-4.0"),
        ("CC BY-SA 3.0", "cc-by-sa-3.0"),
        ("cc by 4.0", "cc-by-4.0"),
        ("Apache", "apache-2.0"),
        ("MIT", "mit"),
        ("Unknown", "unknown"),
        ("RACE license", "other"),
    ],
)
def test_license_ids(name: str, expected: str) -> None:
    assert license_id(name) == expected


def test_without_mirror_reads_the_hub_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    calls = []

    def fake_load_dataset(hub_id: str, split: str) -> list[dict]:
        calls.append((hub_id, split))
        return [
            {
                "task_name": "task1_a",
                "id": "a-1",
                "definition": "Echo.",
                "inputs": "x",
                "targets": "x",
            },
            {
                "task_name": "task1_a",
                "id": "a-1",
                "definition": "Echo.",
                "inputs": "x",
                "targets": "X",
            },
        ]

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    result = generate(Config(encoding="def+pos2"), StageContext(mirror=None))
    assert calls == [("Muennighoff/natural-instructions", "train")]
    (row,) = _rows(result)
    assert row["messages"][0]["content"] == "Definition: Echo.\n\nInput: x\nOutput:"
    assert row["meta"]["other_outputs"] == ["X"]
    assert (row["category"], row["lang"], row["meta"]["split"]) == ("uncategorized", "en", "train")
    assert result.report.extras["missing_components"] == {"positive_examples": ["task1_a"]}
    with pytest.raises(SourceError, match="leave-one-category-out needs"):
        generate(Config(split_by="category", held_out_category="x"), StageContext(mirror=None))
