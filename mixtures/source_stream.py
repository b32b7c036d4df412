"""A recipe source generated batch by batch, for the sharded build: its kept rows are written
as shards while the file is read, so a source larger than memory can be built.

Only a `kind: dataset` source without include/exclude selectors streams (`streams(spec)`);
its kept rows, rejected rows and report are those `mixtures.build.generate_source` gives
(rows tagged with the recipe source, rows from evaluation splits dropped unless allowed).

    >>> for kept in stream.kept():  # doctest: +SKIP
    ...     write(kept)
    >>> stream.report  # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from generators.dataset import generate_batches
from instances import REJECTED_SCHEMA, Report, SourceError, validate
from instances.context import StageContext
from mixtures.eval_splits import drop_eval_rows
from mixtures.sampling import tag_recipe_source


def streams(spec: Any) -> bool:
    """Whether `spec` can be generated batch by batch (a `kind: dataset` source that selects
    no rows by include/exclude, whose no-match check needs the whole source)."""
    return spec.generator.kind == "dataset" and spec.include is None and spec.exclude is None


class SourceStream:
    """One source's batches: iterate `kept()`; then `rejected` (generator rejects first, then
    evaluation-split rows, as the whole-table build orders them) and `report` are set."""

    def __init__(self, spec: Any, ctx: StageContext, batch_rows: int) -> None:
        self.spec, self.ctx, self.batch_rows = spec, ctx, batch_rows
        self.rejected: pa.Table | None = None
        self.report: Report | None = None

    def kept(self) -> Iterator[pa.Table]:
        """The kept rows, batch by batch (fills `rejected` and `report` once exhausted)."""
        name = self.spec.name
        generated: list[pa.Table] = []
        guarded: list[pa.Table] = []
        total: Report | None = None
        eval_counts: Counter = Counter()
        eval_report = Report(stage="eval", rows_in=0, rows_out=0)
        last: Report | None = None
        for batch in generate_batches(self.spec.generator, self.ctx, self.batch_rows):
            last = batch.report
            total = batch.report if total is None else total + batch.report
            generated.append(batch.rejected.cast(REJECTED_SCHEMA))
            kept = validate(tag_recipe_source(batch.kept, name), check_ids=False)
            if not self.spec.allow_eval_splits:
                dropped = drop_eval_rows(kept, f"eval_splits:{name}")
                eval_report = eval_report + dropped.report.model_copy(update={"stage": "eval"})
                eval_counts.update(dropped.report.extras["eval_splits"])
                guarded.append(dropped.rejected.cast(REJECTED_SCHEMA))
                kept = dropped.kept
            yield kept
        assert total is not None and last is not None  # at least one batch, maybe empty
        report = total.model_copy(update={"stage": f"generate:{name}", "extras": last.extras})
        if eval_report.rows_in and eval_report.rows_in != eval_report.rows_out:
            report = with_eval_drops(name, report, eval_report, eval_counts)
        self.report = report
        self.rejected = pa.concat_tables([REJECTED_SCHEMA.empty_table(), *generated, *guarded])


def with_eval_drops(name: str, report: Report, guarded: Report, counts: Counter) -> Report:
    """A source's generator report with the evaluation-split drops (`guarded`: the guard's
    rows in and out, `counts`: rows per "dataset split"), as `_without_eval_rows` gives it."""
    if not guarded.rows_out:
        splits = ", ".join(dict(sorted(counts.items())))
        raise SourceError(
            f"source {name!r}: every row comes from an evaluation split ({splits}); set "
            "allow_eval_splits: true on the recipe to train on evaluation data, or pick other "
            "tasks"
        )
    reasons = Counter(report.dropped_by_reason)
    reasons.update(guarded.dropped_by_reason)
    return report.model_copy(
        update={
            "rows_out": guarded.rows_out,
            "dropped_by_reason": dict(sorted(reasons.items())),
            "extras": {**report.extras, "eval_splits": dict(sorted(counts.items()))},
        }
    )
