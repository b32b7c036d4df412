"""Natural-Instructions task files into formatted instances, under a chosen instruction encoding.

Reads `natural_instructions/tasks/*.json` and `natural_instructions/splits/default/` of the
mirror (or the Hub's `Muennighoff/natural-instructions` without one), picks the tasks of a
split, caps the instances per task and renders each as a user turn (instruction + input) and
an assistant turn (one reference output).

Columns written: all of the schema. `source` is `natural_instructions`, `origin`
`crowdsourced_schema`, `task` the task file's name, `category` its first Category, `template`
`ni/<encoding name>`, `lang` the ISO 639-1 code of its Input_language. `meta` holds the
instance id, the Instance License, the task's split, the other reference outputs and the
components the encoding asked for but the task lacks.

Reject reasons: `empty_input`, `empty_output` (no non-blank reference output),
`missing_component` (only with `on_missing: reject`).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from generators.natural_instructions import folder, hub, selection
from generators.natural_instructions.encodings import (
    TK_INSTRUCT_DEFAULT,
    EncodingError,
    instruction_blocks,
    missing_components,
    parse_encoding,
    render_prompt,
    shows_examples,
)
from generators.natural_instructions.languages import iso_code
from generators.natural_instructions.licenses import license_id
from generators.natural_instructions.task_file import Instance, TaskFile
from instances import SourceError, StageResult, make_instance, make_table
from instances.context import StageContext
from instances.rejected import split_rows

STAGE = "generate"
SOURCE = "natural_instructions"
ORIGIN = "crowdsourced_schema"
UNCATEGORIZED = "uncategorized"
EMPTY_INPUT = "empty_input"
EMPTY_OUTPUT = "empty_output"
MISSING_COMPONENT = "missing_component"
# Task definitions and examples are Apache-2.0; each task's instances carry their own license.
DEFINITIONS_LICENSE = "apache-2.0"


class Config(BaseModel):
    """Which Natural-Instructions tasks to read, how to encode them and how many rows to take."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["natural_instructions"] = "natural_instructions"
    tasks_dir: Path | None = Field(
        default=None,
        exclude_if=lambda value: value is None,  # recipes without it keep their lock hash
        description="a folder of SuperNI task files (with its own splits/ if present) "
        "instead of the mirror's or the Hub's",
    )
    encoding: str = Field(
        default=TK_INSTRUCT_DEFAULT,
        description="instruction encoding, e.g. 'def+pos2', 'full', 'prompt+def' (encodings.py)",
    )
    split: Literal["train", "test", "all"] = Field(
        default="train", description="which side of the task split to read"
    )
    split_by: Literal["default", "category"] = Field(
        default="default",
        description="'default': the official train/test task lists; 'category': "
        "leave-one-category-out (test = the tasks of held_out_category)",
    )
    held_out_category: str | None = Field(
        default=None, description="the category held out when split_by is 'category'"
    )
    tasks: list[str] | None = Field(
        default=None, min_length=1, description="read only these task names (within the split)"
    )
    max_per_task: int | None = Field(
        default=100, ge=1, description="at most this many instances per task (None: all)"
    )
    cap_selection: Literal["first", "sample"] = Field(
        default="sample", description="which instances survive the cap: file order or seeded"
    )
    target: Literal["first", "sample"] = Field(
        default="first",
        description="the reference output used as the target when there are several",
    )
    on_missing: Literal["omit", "reject"] = Field(
        default="omit",
        description="a task lacks a component the encoding asks for: leave it out, or "
        "reject the rows (reason missing_component); either way the report lists it",
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            return parse_encoding(value).name
        except EncodingError as error:
            raise ValueError(str(error)) from error

    @model_validator(mode="after")
    def _split_rules(self) -> Config:
        if self.split_by == "category" and not self.held_out_category:
            raise ValueError("split_by 'category' needs held_out_category (the category left out)")
        if self.split_by == "default" and self.held_out_category:
            raise ValueError("held_out_category is only used with split_by: category")
        if self.split_by == "category" and self.split == "all":
            raise ValueError("split 'all' reads every task; choose train or test to hold one out")
        return self


def _capped(task: TaskFile, config: Config, seed: int) -> list[Instance]:
    cap = config.max_per_task
    if cap is None or len(task.instances) <= cap:
        return list(task.instances)
    if config.cap_selection == "first":
        return list(task.instances[:cap])
    picked = random.Random(f"{seed}:{task.name}").sample(range(len(task.instances)), cap)
    return [task.instances[index] for index in sorted(picked)]


def pick_target(outputs: list[str], how: str, seed: int, key: str) -> tuple[str, list[str]]:
    """The target among non-blank `outputs` (first, or a sample seeded by `seed` and `key`)
    and the other outputs in their original order. `outputs` must hold a non-blank string.

    >>> pick_target(["a", " ", "b"], "first", 0, "x")
    ('a', ['b'])
    """
    candidates = [output for output in outputs if output.strip()]
    index = 0 if how == "first" else random.Random(f"{seed}:{key}").randrange(len(candidates))
    return candidates[index], candidates[:index] + candidates[index + 1 :]


def task_lang(task: TaskFile, where: str) -> str:
    """ISO 639-1 code of the task's first Input_language ('en' when the file has none)."""
    names = [name for name in task.input_language if name.strip()]
    if not names:
        return "en"
    code = iso_code(names[0])
    if code is None:
        raise SourceError(
            f"{where}: field 'Input_language': no ISO 639-1 code known for {names[0]!r} "
            "(add it to generators/natural_instructions/languages.py)"
        )
    return code


def _task_rows(
    task: TaskFile, config: Config, seed: int, split_of: str, where: str
) -> tuple[list[dict[str, Any]], list[str | None], list[str]]:
    encoding = parse_encoding(config.encoding)
    missing = missing_components(task, encoding)
    instruction = instruction_blocks(task, encoding)
    after_examples = shows_examples(task, encoding)
    lang = task_lang(task, where)
    category = task.category or UNCATEGORIZED
    rows, reasons = [], []
    for number, instance in enumerate(_capped(task, config, seed)):
        key = instance.id or f"{task.name}:{number}"
        has_output = any(output.strip() for output in instance.output)
        target, others = (
            pick_target(instance.output, config.target, seed, key) if has_output else ("", [])
        )
        meta: dict[str, Any] = {
            "instance_id": instance.id,
            "license": task.license,
            "license_ids": sorted({license_id(name) for name in task.instance_license}),
            "split": split_of,
            "categories": task.categories,
            "domains": task.domains,
            "task_source": task.source,
        }
        if others:
            meta["other_outputs"] = others
        if missing:
            meta["missing_components"] = missing
        messages = [
            {"role": "user", "content": render_prompt(instruction, instance.input, after_examples)},
            {"role": "assistant", "content": target},
        ]
        rows.append(
            make_instance(
                messages,
                source=SOURCE,
                origin=ORIGIN,
                task=task.name,
                category=category,
                template=f"ni/{config.encoding}",
                lang=lang,
                meta=meta,
            )
        )
        reason = None
        if not instance.input.strip():
            reason = EMPTY_INPUT
        elif not has_output:
            reason = EMPTY_OUTPUT
        elif missing and config.on_missing == "reject":
            reason = MISSING_COMPONENT
        reasons.append(reason)
    return rows, reasons, missing


def _extras(
    config: Config,
    tasks: list[TaskFile],
    rows: list[dict[str, Any]],
    reasons: list[str | None],
    missing: dict[str, list[str]],
) -> dict[str, Any]:
    kept = [row for row, reason in zip(rows, reasons, strict=True) if reason is None]
    licenses: dict[str, list[str]] = {}
    for task in tasks:
        licenses.setdefault(task.license, []).append(task.name)
    available = sum(len(task.instances) for task in tasks)
    return {
        "encoding": config.encoding,
        "split": config.split,
        "split_by": config.split_by,
        "held_out_category": config.held_out_category,
        "task_count": len(tasks),
        "tasks": dict(sorted(Counter(row["task"] for row in kept).items())),
        "categories": dict(sorted(Counter(row["category"] for row in kept).items())),
        "task_categories": {task.name: task.category or UNCATEGORIZED for task in tasks},
        "instances_available": available,
        "instances_over_cap": available - len(rows),
        "missing_components": {key: sorted(value) for key, value in sorted(missing.items())},
        "licenses": dict(sorted(licenses.items())),
        "license_ids": sorted(
            {license_id(name) for task in tasks for name in task.instance_license}
            | {DEFINITIONS_LICENSE}
        ),
    }


def _load_tasks(config: Config, ctx: StageContext) -> list[tuple[TaskFile, str, str]]:
    """(task, its default split, where it was read) for every task the config selects."""
    if config.tasks_dir is not None:
        return folder.folder_tasks(config, config.tasks_dir, ctx.mirror, ctx.show_progress)
    if ctx.mirror is not None:
        return selection.mirror_tasks(config, ctx.mirror, ctx.show_progress)
    if config.split_by == "category":
        raise SourceError(
            f"natural_instructions: leave-one-category-out needs the task files' Categories, "
            f"which {hub.HUB_ID} lacks; set INSTRUCTMIX_MIRROR to a mirror of the task files"
        )
    wanted = hub.HUB_SPLITS if config.split == "all" else (config.split,)
    found = []
    for split, tasks in hub.load_hub_tasks(wanted).items():
        found += [(task, split, f"{hub.HUB_ID}[{split}]") for task in tasks]
    if config.tasks is not None:
        found = [item for item in found if item[0].name in set(config.tasks)]
    return found


def generate(config: Config, ctx: StageContext) -> StageResult:
    """Formatted instances of the selected tasks under `config.encoding` (see module docstring).

    The report's extras carry per-task and per-category row counts, each task's category,
    instances available and cut by the cap, licenses, and `missing_components` (component ->
    tasks that lack it). A task file that does not parse fails with its name and the field.
    """
    started = time.perf_counter()
    loaded = _load_tasks(config, ctx)
    rows: list[dict[str, Any]] = []
    reasons: list[str | None] = []
    missing: dict[str, list[str]] = {}
    for task, split_of, where in loaded:
        task_rows, task_reasons, task_missing = _task_rows(task, config, ctx.seed, split_of, where)
        rows += task_rows
        reasons += task_reasons
        for component in task_missing:
            missing.setdefault(component, []).append(task.name)
    tasks = [task for task, _, _ in loaded]
    extras = _extras(config, tasks, rows, reasons, missing)
    return split_rows(
        make_table(rows), STAGE, reasons, seconds=time.perf_counter() - started, extras=extras
    )


def inputs(config: Config, ctx: StageContext) -> list[Path]:
    """The mirror files `generate` reads for `config`: split lists and task files."""
    if config.tasks_dir is not None:
        return folder.folder_inputs(config, config.tasks_dir, ctx.mirror)
    if ctx.mirror is None:
        return []
    return selection.mirror_inputs(config, ctx.mirror)


def licenses(config: Config) -> list[str]:
    """Apache-2.0 for the instructions; `other` for instances (each task's license in meta)."""
    return [DEFINITIONS_LICENSE, "other"]
