"""Evaluation data stays out of training unless a recipe says otherwise.

Generators record where a row was read from: templated tasks put the Hub split in
`meta.hub_split` (`test`, `validation`, ... for OpenBookQA test, SQuAD v2 dev, the TextFooler
test samples), Natural Instructions its task split in `meta.split` (`test`: SuperNI's
evaluation tasks). A row read from a split that is not a training split has the split role
`eval`. A recipe source drops such rows (reason `eval_split`, kept in rejected.parquet) unless
the recipe or the source sets `allow_eval_splits: true`; the card then names those datasets
and splits at the top.

    >>> split_role("test"), split_role("train"), split_role("validation_matched")
    ('eval', 'train', 'eval')
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Literal

import pyarrow as pa

from instances import StageResult
from instances.rejected import split_rows

EVAL_SPLIT = "eval_split"
SPLIT_KEYS = ("hub_split", "split")


def split_role(split: str | None) -> Literal["train", "eval"]:
    """`train` for a training split (or none recorded), `eval` for test / validation / dev."""
    if not split:
        return "train"
    return "train" if split.lower().startswith("train") else "eval"


def eval_split_of(meta: dict[str, Any]) -> str | None:
    """The evaluation split a row's `meta` says it was read from, or None."""
    for key in SPLIT_KEYS:
        value = meta.get(key)
        if isinstance(value, str) and split_role(value) == "eval":
            return value
    return None


def _dataset(meta: dict[str, Any], source: str) -> str:
    name = meta.get("hub_id") or source
    return f"{name} ({meta['hub_config']})" if meta.get("hub_config") else str(name)


def eval_rows(table: pa.Table) -> list[tuple[str, str] | None]:
    """Per row: (dataset, split) when it comes from an evaluation split, else None."""
    found: list[tuple[str, str] | None] = []
    sources = table.column("source").to_pylist()
    for meta_text, source in zip(table.column("meta").to_pylist(), sources, strict=True):
        if not any(f'"{key}"' in meta_text for key in SPLIT_KEYS):
            found.append(None)
            continue
        meta = json.loads(meta_text)
        split = eval_split_of(meta)
        found.append(None if split is None else (_dataset(meta, source), split))
    return found


def drop_eval_rows(table: pa.Table, stage: str) -> StageResult:
    """Reject the rows of `table` read from evaluation splits (reason `eval_split`).

    Report extras `eval_splits`: rows dropped per "dataset split".
    """
    found = eval_rows(table)
    counts = Counter(f"{dataset} {split}" for dataset, split in filter(None, found))
    return split_rows(
        table,
        stage,
        [EVAL_SPLIT if item else None for item in found],
        extras={"eval_splits": dict(sorted(counts.items()))},
    )


def eval_datasets(tables: dict[str, pa.Table]) -> list[dict[str, Any]]:
    """The evaluation-split rows a built mixture holds: [{"dataset", "split", "rows"}]."""
    counts: Counter = Counter()
    for table in tables.values():
        counts.update(item for item in eval_rows(table) if item)
    return [
        {"dataset": dataset, "split": split, "rows": n}
        for (dataset, split), n in sorted(counts.items())
    ]
