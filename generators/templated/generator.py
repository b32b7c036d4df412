"""Public NLP tasks as instructions: promptsource (T0 / P3) templates with FLAN-style variants.

Reads each task's raw rows (mirror file or Hub), renders its templates in Jinja's sandbox and
writes one instance per (row, template, variant) chosen. Seeded: the same config and seed
give the same rows in the same order.

Columns written: all of the schema. `source` is `p3/<task>` (or `flan_cot/<task>`), `task` the
task, `category` its T0 cluster, `template` `<set>/<template name>#<variant>`, `meta` the
template arguments (the raw row), answer choices, template id and exemplar rows.

Reject reasons: those of `render.py` (`empty_render`, `undefined_value`, `unsafe_template`,
...), of `flan.py` (`no_exemplars`, `empty_rationale`) and `unlabelled_row` (label -1).
`Report.extras` has per template rows rendered and failed (`render`), the share per template
set (`render_share`), the tasks x templates x variants table (`templates`) and per task row
counts (`tasks`).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator
from tqdm import tqdm

from generators.templated import flan
from generators.templated.flan import Variant
from generators.templated.inline import InlineTask, inline_inputs, inline_rows, inline_templates
from generators.templated.render import Rendered, RenderFailure, render
from generators.templated.stats import RenderStats
from generators.templated.tasks import (
    TASKS,
    Category,
    TaskSpec,
    load_task_rows,
    task_files,
)
from generators.templated.templates import (
    Template,
    load_template_set,
    template_set_path,
)
from instances import StageResult, make_instance, make_table
from instances.context import StageContext
from instances.rejected import split_rows

STAGE = "generate"
UNLABELLED_ROW = "unlabelled_row"
PROMPTSOURCE_LICENSE = "apache-2.0"
TaskName = Literal[tuple(TASKS)]  # type: ignore[valid-type]
# A task is a built-in name or an inline task (a mapping); errors name the one that was meant.
TaskItem = Annotated[
    Annotated[TaskName, Tag("builtin")] | Annotated[InlineTask, Tag("inline")],  # type: ignore[valid-type]
    Discriminator(lambda value: "builtin" if isinstance(value, str) else "inline"),
]


class Config(BaseModel):
    """Templated public tasks: which tasks, which templates and variants, how many rows."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["templated"] = "templated"
    tasks: list[TaskItem] | None = Field(
        default=None,
        description="built-in task names or inline tasks {name, data, templates_path, "
        "category, label_names} (default: every task in the catalog)",
    )
    exclude_categories: list[Category] = Field(
        default_factory=list, description="clusters held out, e.g. T0's nli, coreference"
    )
    templates: Literal["random", "all"] = Field(
        default="random", description="one random template per row, or every template"
    )
    original_task_only: bool = Field(
        default=False, description="only templates that ask the dataset's original task"
    )
    variants: list[Variant] = Field(
        default_factory=lambda: ["zs_noopt"], min_length=1, description="FLAN-style variants"
    )
    variant_choice: Literal["random", "all"] = Field(
        default="random", description="one random applicable variant per template, or all"
    )
    k: int = Field(default=3, ge=1, le=16, description="exemplars per few-shot instance")
    max_rows_per_task: int | None = Field(
        default=30_000, ge=1, description="raw rows sampled per task (FLAN capped at 30k)"
    )
    seed: int | None = Field(default=None, description="sampling seed (default: the ctx seed)")

    @model_validator(mode="after")
    def _check(self) -> Config:
        if len(set(self.variants)) != len(self.variants):
            raise ValueError(f"variants repeated: {self.variants}")
        if not selected_tasks(self):
            raise ValueError(
                "no task left: every selected task is in exclude_categories "
                f"{self.exclude_categories}"
            )
        return self


def selected_tasks(config: Config) -> list[TaskSpec | InlineTask]:
    """The tasks `config` renders: its list (or all), minus the excluded categories."""
    names = config.tasks if config.tasks is not None else list(TASKS)
    excluded = set(config.exclude_categories)
    tasks = [TASKS[name] if isinstance(name, str) else name for name in names]
    return [task for task in tasks if task.category not in excluded]


def derive_seed(*parts: Any) -> int:
    """A 64-bit seed from `parts`, stable across processes (unlike `hash`)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def task_templates(
    task: TaskSpec | InlineTask, mirror: Path | None, original_only: bool
) -> list[Template]:
    """Every template of the task's sets, in a stable order (optionally original-task only)."""
    if isinstance(task, InlineTask):
        return inline_templates(task, original_only)
    templates = [t for name in task.template_sets for t in load_template_set(name, mirror)]
    if original_only:
        templates = [t for t in templates if t.metadata.original_task is not False]
    return templates


def render_row(template: Template, row: dict[str, Any], rng: random.Random) -> Rendered:
    """Render `template` on `row`, refusing rows without a gold label (label -1)."""
    label = row.get("label")
    if isinstance(label, int) and label < 0:  # GLUE/SNLI test rows: -1 means no gold label
        raise RenderFailure(UNLABELLED_ROW, f"label is {label}: the row has no gold label")
    return render(template, row, rng)


def _variant_text(
    variant: str,
    rendered: Rendered,
    row: dict[str, Any],
    task: TaskSpec,
    rng: random.Random,
    exemplars: Any,
) -> flan.VariantText:
    if variant == "zs_opt":
        return flan.zero_shot(rendered, with_options=True)
    if variant == "cot":
        return flan.chain_of_thought(rendered, row.get(task.rationale_column or ""), rng)
    if variant == "fs":
        return flan.few_shot(rendered, exemplars())
    return flan.zero_shot(rendered, with_options=False)


def _preview(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, default=str)[:300]


def _render_task(
    task: TaskSpec,
    rows: list[dict[str, Any]],
    templates: list[Template],
    config: Config,
    seed: int,
    stats: RenderStats,
    show_progress: bool,
) -> tuple[list[dict], list[str | None]]:
    """Instances (and reject reasons) of one task's sampled rows."""
    source = f"{'flan_cot' if task.rationale_column else 'p3'}/{task.name}"
    if isinstance(task, InlineTask):
        source = f"templated/{task.name}"
    picker = random.Random(derive_seed(seed, task.name, "rows"))
    indices = range(len(rows))
    if config.max_rows_per_task is not None and len(rows) > config.max_rows_per_task:
        indices = sorted(picker.sample(range(len(rows)), config.max_rows_per_task))
    stats.task(task, len(rows), len(indices), len(templates))
    out, reasons = [], []
    has_rationale = task.rationale_column is not None
    for index in tqdm(indices, desc=task.name, disable=not show_progress, leave=False):
        row_rng = random.Random(derive_seed(seed, task.name, index))
        chosen = templates if config.templates == "all" else [row_rng.choice(templates)]
        for template in chosen:
            variants = [v for v in config.variants if flan.applicable(v, template, has_rationale)]
            stats.not_applicable(task, template, len(config.variants) - len(variants))
            if config.variant_choice == "random" and variants:
                variants = [row_rng.choice(variants)]
            for variant in variants:
                rng = random.Random(derive_seed(seed, task.name, index, template.id, variant))
                instance, reason = _instance(
                    task, source, rows, index, template, variant, (rng, seed), config
                )
                stats.count(task, template, variant, reason)
                out.append(instance)
                reasons.append(reason)
    return out, reasons


def _instance(
    task: TaskSpec,
    source: str,
    rows: list[dict[str, Any]],
    index: int,
    template: Template,
    variant: str,
    rng_seed: tuple[random.Random, int],
    config: Config,
) -> tuple[dict, str | None]:
    """One instance of (row, template, variant), or its placeholder and the reject reason."""
    rng, seed = rng_seed
    row = rows[index]
    meta: dict[str, Any] = {
        "license": task.source.license,
        "hub_id": task.source.hub_id,
        "hub_config": task.source.hub_config,
        "hub_split": task.source.hub_split,
        "mirror_path": task.source.mirror_path,
        "row": index,
        "template_set": template.template_set,
        "template_id": template.id,
        "template_name": template.name,
        "original_task": template.metadata.original_task,
        "variant": variant,
        "template_args": row,
    }
    reason = None
    try:
        rendered = render_row(template, row, rng)

        def exemplars() -> list[tuple[int, Rendered]]:
            shot_rng = random.Random(derive_seed(seed, task.name, index, template.id, "shots"))

            def render_other(other: int) -> Rendered:
                other_rng = random.Random(derive_seed(seed, task.name, other, template.id))
                return render_row(template, rows[other], other_rng)

            return flan.pick_exemplars(
                index, rendered.prompt, len(rows), config.k, shot_rng, render_other
            )

        text = _variant_text(variant, rendered, row, task, rng, exemplars)
        meta["answer_choices"] = list(rendered.choices)
        if text.exemplar_rows:
            meta["exemplar_rows"] = list(text.exemplar_rows)
        messages = [
            {"role": "user", "content": text.prompt},
            {"role": "assistant", "content": text.target},
        ]
    except RenderFailure as failure:
        reason = failure.reason
        meta["reject_detail"] = failure.detail
        messages = [
            {"role": "user", "content": f"[{template.key}] {_preview(row)}"},
            {"role": "assistant", "content": ""},
        ]
    languages = template.metadata.languages
    instance = make_instance(
        messages,
        source=source,
        origin="public_task",
        task=task.name,
        category=task.category,
        template=f"{template.key}#{variant}",
        lang=languages[0] if languages else "en",
        meta=meta,
    )
    return instance, reason


def generate(config: Config, ctx: StageContext) -> StageResult:
    """Formatted instances of the selected tasks; rows a template fails on are rejected.

    Example recipe source: `{kind: templated, tasks: [sst2], templates: all, variants: [fs]}`.
    """
    started = time.perf_counter()
    seed = ctx.seed if config.seed is None else config.seed
    stats = RenderStats()
    instances: list[dict] = []
    reasons: list[str | None] = []
    for task in selected_tasks(config):
        rows = (
            inline_rows(task) if isinstance(task, InlineTask) else load_task_rows(task, ctx.mirror)
        )
        templates = task_templates(task, ctx.mirror, config.original_task_only)
        if not rows or not templates:
            stats.task(task, len(rows), 0, len(templates))
            continue
        out, why = _render_task(task, rows, templates, config, seed, stats, ctx.show_progress)
        instances += out
        reasons += why
    table = make_table(instances)
    return split_rows(
        table, STAGE, reasons, seconds=time.perf_counter() - started, extras=stats.extras()
    )


def inputs(config: Config, ctx: StageContext) -> list[Path]:
    """The mirror files read: each task's data file and its promptsource template files."""
    files: set[Path] = set()
    for task in selected_tasks(config):
        if isinstance(task, InlineTask):
            files.update(inline_inputs(task))
            continue
        if ctx.mirror is None:
            continue
        files.update(task_files(task, ctx.mirror))
        for name in task.template_sets:
            if not name.startswith("project/"):
                files.add(template_set_path(name, ctx.mirror))
    return sorted(files)


def licenses(config: Config) -> list[str]:
    """The licenses of the selected tasks' data, and promptsource's for its templates."""
    found = {task.source.license for task in selected_tasks(config)}
    return sorted(found | {PROMPTSOURCE_LICENSE})
