"""`tasks_dir:`: any folder of SuperNI task files; the official test split is never trained on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generators import natural_instructions as ni
from instances import SourceError, validate
from instances.context import StageContext

FIXTURES = Path(__file__).parent / "fixtures" / "byod"
TEST_TASK = "task1562_zest_text_modification"  # in the mirror's official test list


@pytest.fixture
def folder(tmp_path, mirror) -> Path:
    shutil.copy(FIXTURES / "task900_reverse_words.json", tmp_path / "task900_reverse_words.json")
    shutil.copy(mirror / "natural_instructions" / "tasks" / f"{TEST_TASK}.json", tmp_path)
    return tmp_path


def test_a_folder_without_splits_reads_its_tasks_but_not_official_test_ones(folder, mirror):
    config = ni.Config(tasks_dir=folder, encoding="def", max_per_task=None)
    result = ni.generate(config, StageContext(mirror=mirror))
    kept = validate(result.kept).to_pylist()
    assert {row["task"] for row in kept} == {"task900_reverse_words"}
    assert kept[0]["messages"][1]["content"] == "sat cat the"
    assert folder / "task900_reverse_words.json" in ni.inputs(config, StageContext(mirror=mirror))


def test_naming_an_official_test_task_for_training_is_refused(folder, mirror):
    config = ni.Config(tasks_dir=folder, tasks=[TEST_TASK])
    with pytest.raises(SourceError, match="official SuperNI test split"):
        ni.generate(config, StageContext(mirror=mirror))


def test_the_folder_own_splits_are_used(folder, mirror):
    splits = folder / "splits" / "default"
    splits.mkdir(parents=True)
    (splits / "train_tasks.txt").write_text(f"{TEST_TASK}\n")
    (splits / "test_tasks.txt").write_text("task900_reverse_words\n")
    own_train = ni.generate(ni.Config(tasks_dir=folder), StageContext())
    assert set(own_train.kept.column("task").to_pylist()) == {TEST_TASK}
    # with the mirror, its official test list overrides the folder's train list
    with pytest.raises(SourceError, match="no task selected"):
        ni.generate(ni.Config(tasks_dir=folder), StageContext(mirror=mirror))
    test_side = ni.generate(ni.Config(tasks_dir=folder, split="test"), StageContext())
    assert set(test_side.kept.column("task").to_pylist()) == {"task900_reverse_words"}


def test_a_missing_folder_is_one_clear_error(tmp_path):
    with pytest.raises(SourceError, match="tasks_dir is not a folder"):
        ni.generate(ni.Config(tasks_dir=tmp_path / "absent"), StageContext())
