"""A `DatasetSpec`'s rows as formatted instances, each kept or rejected with a stable reason.

`convert_rows` is the one place rows of any format become instances: the `dataset` generator,
the built-in presets and decontamination benchmarks all go through it. The data columns the
format does not read are kept in `meta` (a name that clashes with a provenance key gets the
prefix `data_`); `task_column`/`category_column`/`lang_column` read a column's string value.
A rejected row keeps its turns when they were all strings (else a preview of the row) and
`meta.row` (and `meta.instance` for a task file's instances) says where it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from instances.dataset_files import Row, read_location
from instances.dataset_spec import FORMAT_FIELDS, DatasetSpec
from instances.formats import row_messages, used_columns
from instances.formats.common import Messages, RowReject, text_field
from instances.formats.natural_instructions import instance_messages, task_instances
from instances.schema import make_instance

DEFAULT_CATEGORY = "general"
DEFAULT_LANG = "en"
REJECTED_EXAMPLES = 20
# SuperNI task-file fields too large (or already used) to copy into every instance's meta.
_NI_SKIP = {"Definition", "Instances", "Positive Examples", "Negative Examples"}


@dataclass
class Converted:
    """Instance rows with their reject reasons (None: kept), and rejected row indices by reason."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    reasons: list[str | None] = field(default_factory=list)
    rejected_rows: dict[str, list[int | str]] = field(default_factory=dict)

    def add(self, row: dict[str, Any], reason: str | None, where: int | str) -> None:
        """Append one instance row and its reason (remembering where a rejected row was)."""
        self.rows.append(row)
        self.reasons.append(reason)
        if reason is not None:
            examples = self.rejected_rows.setdefault(reason, [])
            if len(examples) < REJECTED_EXAMPLES:
                examples.append(where)


def task_name(text: str) -> str:
    """A task name from a label: lower case, runs of other characters as `_`.

    >>> task_name("HuggingFaceTB/smoltalk")
    'huggingfacetb_smoltalk'
    """
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "data"


def _preview(row: Mapping[str, Any]) -> Messages:
    text = json.dumps(row, ensure_ascii=False, default=str)[:200]
    return [{"role": "user", "content": text}, {"role": "assistant", "content": ""}]


def _column_value(row: Mapping[str, Any], column: str | None, fixed: str | None) -> str | None:
    if column is None:
        return fixed
    value = text_field(row, column)
    if value is not None and not value.strip():
        raise RowReject("missing_field", f"column {column!r} is blank")
    return value


def _unused(row: Mapping[str, Any], used: set[str], keep: Collection[str] | None) -> dict:
    return {
        key: value
        for key, value in row.items()
        if key not in used and (keep is None or key in keep)
    }


@dataclass
class Labels:
    """Everything of an instance but its messages and row meta (fixed for a whole spec)."""

    source: str
    origin: str
    template: str
    meta: dict[str, Any]
    keep_columns: Collection[str] | None = None  # None: every unused column goes to meta


def _instance(
    spec: DatasetSpec,
    labels: Labels,
    row: Mapping[str, Any],
    messages: Messages,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """The instance row; raises `RowReject` when a task/category/lang column is unusable."""
    task = _column_value(row, spec.task_column, spec.task)
    category = _column_value(row, spec.category_column, spec.category)
    lang = _column_value(row, spec.lang_column, spec.lang)
    meta = dict(labels.meta)
    for key, value in extra.items():
        meta[f"data_{key}" if key in meta else key] = value
    return make_instance(
        messages,
        source=labels.source,
        origin=labels.origin,
        task=task or task_name(spec.label),
        category=category or DEFAULT_CATEGORY,
        template=labels.template,
        lang=lang or DEFAULT_LANG,
        meta=meta,
    )


def _placeholder(labels: Labels, row: Mapping[str, Any], messages: Messages | None, where: dict):
    return make_instance(
        messages or _preview(row),
        source=labels.source,
        origin=labels.origin,
        task="rejected",
        category="rejected",
        template=labels.template,
        lang=DEFAULT_LANG,
        meta={**labels.meta, **where},
    )


def _one(
    spec: DatasetSpec, labels: Labels, row: Mapping[str, Any], convert, where: dict, extra: dict
) -> tuple[dict[str, Any], str | None]:
    try:
        messages = convert()
        return _instance(spec, labels, row, messages, {**where, **extra}), None
    except RowReject as reject:
        if reject.messages is not None:
            try:  # a blank turn: keep the real turns (and labels) in the rejected row
                instance = _instance(spec, labels, row, reject.messages, {**where, **extra})
                return instance, reject.reason
            except RowReject:
                pass
        return _placeholder(labels, row, reject.messages, where), reject.reason


def _expanded(
    spec: DatasetSpec, labels: Labels, row: Row, where: dict
) -> Iterator[tuple[dict[str, Any], str | None, str]]:
    """Instances of one SuperNI task-file row (one per instance)."""
    try:
        definition, items = task_instances(row, spec.column)
    except RowReject as reject:
        yield _placeholder(labels, row, None, where), reject.reason, str(where["row"])
        return
    task_level = {k: v for k, v in row.items() if k not in _NI_SKIP}
    file_labels = labels
    if spec.task is None and spec.task_column is None and "file" in where:
        stem = str(where["file"]).rsplit("/", 1)[-1].split(".")[0]
        spec = spec.model_copy(update={"task": stem})
    for number, item in enumerate(items):
        extra = dict(task_level)
        if isinstance(item, Mapping) and item.get("id") is not None:
            extra["instance_id"] = item.get("id")
        at = {**where, "instance": number}
        instance, reason = _one(
            spec,
            file_labels,
            row,
            lambda item=item, number=number: instance_messages(definition, item, number),
            at,
            extra,
        )
        yield instance, reason, f"{where['row']}:{number}"


def convert_rows(spec: DatasetSpec, labels: Labels, *, record_file: bool = True) -> Converted:
    """Read `spec`'s data and convert every row (see the module docstring).

    `meta.row` is the row's index over all files in order; with `record_file` and local
    files, `meta.file` names the file it came from.
    """
    return next(converted_batches(spec, labels, read_location(spec), record_file=record_file))


def converted_batches(
    spec: DatasetSpec,
    labels: Labels,
    sources: Iterable[tuple[str, list[Row]]],
    *,
    record_file: bool = True,
    batch_rows: int | None = None,
    first_row: int = 0,
) -> Iterator[Converted]:
    """`convert_rows` over `sources` ((file or Hub id, rows) pieces, in order), handed on
    every `batch_rows` instances (None: once, at the end; at least one, maybe empty, batch).

    Every batch shares one `rejected_rows` (the first examples over all batches so far).
    `first_row` is the index (`meta.row`) of the first row of `sources`.
    """
    used = used_columns(FORMAT_FIELDS[spec.format], spec.column)
    used |= {c for c in (spec.task_column, spec.category_column, spec.lang_column) if c}
    out = Converted()
    index = first_row
    for origin_name, rows in sources:
        for row in rows:
            where: dict[str, Any] = {"row": index}
            if record_file and spec.path is not None:
                where["file"] = origin_name
            if spec.format == "natural_instructions":
                for instance, reason, at in _expanded(spec, labels, row, where):
                    out.add(instance, reason, at)
            else:
                extra = _unused(row, used, labels.keep_columns)
                instance, reason = _one(
                    spec,
                    labels,
                    row,
                    lambda row=row: row_messages(spec.format, row, spec.column),
                    where,
                    extra,
                )
                out.add(instance, reason, index)
            index += 1
            if batch_rows is not None and len(out.rows) >= batch_rows:
                yield out
                out = Converted(rejected_rows=out.rejected_rows)
    if out.rows or batch_rows is None or index == first_row:
        yield out
