"""Templated tasks written in the recipe: any data (a dataset spec's location keys) rendered with
any promptsource `templates.yaml` (a file, or a folder of them), by the same sandboxed renderer.

    tasks:
      - sst2                                  # a built-in task
      - name: sciq
        data: {path: data/sciq.jsonl}         # or {hub: allenai/sciq, split: train, revision: ...}
        templates_path: templates/sciq.yaml   # or a folder of templates.yaml files
        category: qa
        label_names: [no, yes]                # rows hold label strings: they become ids

The rows go to the templates as they are (no `format`); with `label_names`, a row whose
`label` is one of the names gets its index, as the built-in tasks do, so templates can write
`answer_choices[label]`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from generators.templated.rows import typed
from generators.templated.templates import Template, TemplateError, load_template_file
from instances.dataset_files import location_files, read_location
from instances.dataset_spec import DataLocation
from instances.sources import PublicSource

INLINE_PREFIX = "inline/"


class InlineTask(BaseModel):
    """A templated task declared in the recipe: its rows, its templates and its category."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]+$", description="the task's name")
    data: DataLocation = Field(description="where the rows are: hub|path, config, split, revision")
    templates_path: str = Field(min_length=1, description="a templates.yaml file or a folder")
    category: str = Field(default="uncategorized", min_length=1, description="task category")
    label_names: tuple[str, ...] | None = Field(
        default=None, description="label strings in id order (string labels become ids)"
    )
    license: str = Field(default="unknown", min_length=1, description="license of the rows")

    rationale_column: None = None  # the built-in TaskSpec's CoT column; inline tasks have none

    @property
    def source(self) -> PublicSource:
        """The data as a `PublicSource` (what the renderer's meta records)."""
        return PublicSource(
            name=self.name,
            hub_id=self.data.hub or self.data.path or "",
            hub_config=self.data.config,
            hub_split=self.data.split,
            mirror_path=self.data.path or "",
            format="json",
            license=self.license,
        )

    @property
    def template_sets(self) -> tuple[str, ...]:
        """The set names its templates carry: `inline/<name>` (plus the file's folder)."""
        return tuple(sorted({t.template_set for t in inline_templates(self)}))


def template_files(task: InlineTask) -> list[Path]:
    """The template files of `task`: its `templates_path`, or every templates.yaml under it."""
    path = Path(task.templates_path)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(path.rglob("*.yaml"))
        if files:
            return files
        raise TemplateError(f"{path}: folder holds no .yaml template files")
    raise TemplateError(f"{path}: template file or folder not found (task {task.name!r})")


def inline_templates(task: InlineTask, original_only: bool = False) -> list[Template]:
    """Every template of the task, each set named `inline/<task>[/<folder>]`."""
    root = Path(task.templates_path)
    templates = []
    for file in template_files(task):
        sub = file.parent.relative_to(root).as_posix() if root.is_dir() else "."
        name = INLINE_PREFIX + task.name + ("" if sub == "." else f"/{sub}")
        templates += load_template_file(file, name)
    if original_only:
        templates = [t for t in templates if t.metadata.original_task is not False]
    return templates


def inline_rows(task: InlineTask) -> list[dict[str, Any]]:
    """The task's rows as stored (string labels made ids when `label_names` is given)."""
    rows = []
    for where, part in read_location(task.data):
        for index, row in enumerate(part):
            rows.append(
                typed(
                    row,
                    label_names=task.label_names,
                    int_columns=(),
                    csv_quoted=False,
                    where=f"{where}: row {index} (counting from 0)",
                )
            )
    return rows


def inline_inputs(task: InlineTask) -> list[Path]:
    """The local files the task reads: its data files and its template files."""
    return [*location_files(task.data), *template_files(task)]
