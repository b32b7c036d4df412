"""The non-mirror path: Super-NaturalInstructions from the Hugging Face Hub.

The Hub has no copy of the raw task files; `Muennighoff/natural-instructions` holds every
instance of the default train/test split as one row (`task_name`, `id`, `definition`,
`inputs`, `targets`), one row per reference output. This module regroups those rows into
`TaskFile`s. They carry the definition and the instances only: encodings that ask for
examples report them missing, and rows get category `uncategorized` and lang `en`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from generators.natural_instructions.task_file import TaskFile, parse_task_data
from instances import SourceError

HUB_ID = "Muennighoff/natural-instructions"
HUB_SPLITS = ("train", "test")
HUB_COLUMNS = ("task_name", "id", "definition", "inputs", "targets")


def tasks_from_hub_rows(rows: Iterable[Mapping[str, Any]], where: str = HUB_ID) -> list[TaskFile]:
    """Group Hub rows (one per instance output) into one `TaskFile` per task, in first-seen order.

    Rows sharing a task and an instance id become one instance with several outputs.
    """
    tasks: dict[str, dict[str, Any]] = {}
    for number, row in enumerate(rows):
        missing = [column for column in HUB_COLUMNS if column not in row]
        if missing:
            raise SourceError(f"{where}: row {number} lacks column(s) {missing}")
        name = str(row["task_name"])
        task = tasks.setdefault(
            name, {"Definition": [str(row["definition"])], "Instances": {}, "Input_language": []}
        )
        instance_id = str(row["id"])
        instance = task["Instances"].setdefault(
            instance_id, {"id": instance_id, "input": str(row["inputs"]), "output": []}
        )
        instance["output"].append(str(row["targets"]))
    parsed = []
    for name, task in tasks.items():
        data = {**task, "Instances": list(task["Instances"].values())}
        parsed.append(parse_task_data(data, name, f"{where} (task {name})"))
    return parsed


def load_hub_tasks(splits: Iterable[str]) -> dict[str, list[TaskFile]]:
    """Download the named default splits from the Hub; split name -> its tasks."""
    import datasets

    result = {}
    for split in splits:
        try:
            dataset = datasets.load_dataset(HUB_ID, split=split)
        except Exception as error:  # network, auth, missing dataset: one clear line
            raise SourceError(
                f"natural_instructions: could not load {HUB_ID!r} split {split!r} from the "
                f"Hugging Face Hub ({type(error).__name__}: {error}); set INSTRUCTMIX_MIRROR "
                "to read a local mirror of the task files"
            ) from error
        result[split] = tasks_from_hub_rows(dataset, f"{HUB_ID}[{split}]")
    return result
