"""Per-source sampling: how many rows of each recipe source reach the mixture.

Sampling is seeded per source (recipe seed + source name), so adding a source does not
change which rows another source contributes. Rows not selected are counted in the report
(`not_sampled`), not written to rejected.parquet: they are reproducible from seed and source.
"""

from __future__ import annotations

import hashlib
import json
import time

import numpy as np
import pyarrow as pa

from instructmix.instances import Report
from instructmix.mixtures.recipe import SourceSpec

NOT_SAMPLED = "not_sampled"
RECIPE_SOURCE_KEY = "recipe_source"


def derived_seed(seed: int, label: str) -> int:
    """A 32-bit seed derived from the recipe seed and a label, stable across machines."""
    digest = hashlib.sha256(f"{seed}:{label}".encode()).hexdigest()
    return int(digest[:8], 16)


def recipe_sources(table: pa.Table) -> list[str]:
    """The recipe source label of every row (stored in `meta` by the build)."""
    return [
        json.loads(meta).get(RECIPE_SOURCE_KEY, "") for meta in table.column("meta").to_pylist()
    ]


def tag_recipe_source(table: pa.Table, label: str) -> pa.Table:
    """Return `table` with `meta.recipe_source = label` on every row (ids do not change)."""
    metas = []
    for meta in table.column("meta").to_pylist():
        data = json.loads(meta)
        data[RECIPE_SOURCE_KEY] = label
        metas.append(json.dumps(data, ensure_ascii=False, sort_keys=True))
    index = table.schema.get_field_index("meta")
    return table.set_column(index, "meta", pa.array(metas, pa.string()))


def target_rows(spec: SourceSpec, available: int) -> int:
    """How many rows `spec` asks for out of `available` (all of them without count/fraction)."""
    if spec.count is not None:
        return min(spec.count, available)
    if spec.fraction is not None:
        return min(available, round(spec.fraction * available))
    return available


def sample_sources(table: pa.Table, specs: list[SourceSpec], seed: int) -> tuple[pa.Table, Report]:
    """Select each source's rows as its spec says; the result keeps source order, then row order.

    Report extras: per source, rows available, requested, selected and any shortfall.
    """
    started = time.perf_counter()
    labels = np.array(recipe_sources(table), dtype=object)
    chosen: list[np.ndarray] = []
    per_source = {}
    for spec in specs:
        positions = np.flatnonzero(labels == spec.name)
        wanted = target_rows(spec, len(positions))
        rng = np.random.default_rng(derived_seed(seed, spec.name))
        picked = (
            np.sort(rng.choice(positions, size=wanted, replace=False)) if wanted else positions[:0]
        )
        chosen.append(picked)
        requested = spec.count if spec.count is not None else wanted
        per_source[spec.name] = {
            "available": int(len(positions)),
            "requested": int(requested),
            "selected": int(wanted),
            "shortfall": int(max(0, requested - wanted)),
        }
    order = np.concatenate(chosen) if chosen else np.array([], dtype=np.int64)
    sampled = table.take(pa.array(order, pa.int64()))
    report = Report(
        stage="sample",
        rows_in=table.num_rows,
        rows_out=sampled.num_rows,
        dropped_by_reason={NOT_SAMPLED: table.num_rows - sampled.num_rows}
        if table.num_rows > sampled.num_rows
        else {},
        seconds=time.perf_counter() - started,
        extras={"sources": per_source},
    )
    return sampled, report


def split_table(table: pa.Table, validation: float, seed: int) -> dict[str, pa.Table]:
    """Shuffle `table` with the seed and cut it into train and (if asked) validation."""
    rng = np.random.default_rng(derived_seed(seed, "split"))
    order = rng.permutation(table.num_rows)
    shuffled = table.take(pa.array(order, pa.int64()))
    n_validation = round(validation * table.num_rows)
    if validation > 0 and table.num_rows > 1:
        n_validation = max(1, n_validation)
    splits = {"train": shuffled.slice(n_validation)}
    if n_validation:
        splits["validation"] = shuffled.slice(0, n_validation)
    return splits
