"""Sampling: which rows of each recipe source reach the mixture, upsampling and the split.

Sampling is seeded per source (recipe seed + source name), so adding a source does not
change which rows another source contributes. Rows not selected are counted in the report
(`not_sampled`), not written to rejected.parquet: they are reproducible from seed and source.

Token amounts (`tokens:` per source, or `total_tokens` split by weights) draw whole rows in a
seeded random order until their trainable tokens reach the target: the last row drawn is the
one that reaches it, so a source is never over its target by more than one row. When the
source runs out first, it repeats rows (new seeded orders) only when it has `upsample: f`,
each row at most ceil(f) times in all.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import numpy as np
import pyarrow as pa

from instances import Report, meta
from mixtures.diversity import select_draw
from mixtures.recipe import Recipe, SourceSpec, StratifySpec
from mixtures.select import cap_per_task
from mixtures.selection_spec import SelectSpec
from mixtures.strata import stratified_draw

NOT_SAMPLED = "not_sampled"
RECIPE_SOURCE_KEY = "recipe_source"
UPSAMPLE_COPY_KEY = "upsample_copy"


def derived_seed(seed: int, label: str) -> int:
    """A 32-bit seed derived from the recipe seed and a label, stable across machines."""
    digest = hashlib.sha256(f"{seed}:{label}".encode()).hexdigest()
    return int(digest[:8], 16)


def recipe_sources(table: pa.Table) -> list[str]:
    """The recipe source label of every row (stored in `meta` by the build)."""
    return [label or "" for label in meta.strings(table.column("meta"), RECIPE_SOURCE_KEY)]


def tag_recipe_source(table: pa.Table, label: str) -> pa.Table:
    """Return `table` with `meta.recipe_source = label` on every row (ids do not change)."""
    return meta.with_values(table, RECIPE_SOURCE_KEY, label)


def weighted_counts(specs: list[SourceSpec], total: int) -> dict[str, int]:
    """Rows per source from relative weights: `total` split by largest remainder (ties: order).

    >>> from mixtures.recipe import SourceSpec
    >>> g = {"kind": "existing", "dataset": "lima"}
    >>> specs = [SourceSpec(name=n, generator=g, weight=1) for n in "abc"]
    >>> weighted_counts(specs, 10)
    {'a': 4, 'b': 3, 'c': 3}
    """
    weights = np.array([spec.weight or 0.0 for spec in specs], dtype=float)
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    order = sorted(range(len(specs)), key=lambda i: (-(exact[i] - counts[i]), i))
    for index in order[: total - int(counts.sum())]:
        counts[index] += 1
    return {spec.name: int(n) for spec, n in zip(specs, counts, strict=True)}


def take_tokens(order: np.ndarray, tokens: np.ndarray, target: int) -> np.ndarray:
    """The shortest prefix of `order` whose `tokens` reach `target` (all of it if they can't).

    >>> take_tokens(np.array([3, 1, 2]), np.array([5, 10, 20, 40]), 25).tolist()
    [3]
    >>> take_tokens(np.array([1, 2, 3]), np.array([5, 10, 20, 40]), 25).tolist()
    [1, 2]
    """
    reached = np.flatnonzero(np.cumsum(tokens[order]) >= target)
    return order if not len(reached) else order[: int(reached[0]) + 1]


def token_targets(specs: list[SourceSpec], total_tokens: int | None) -> dict[str, int]:
    """Trainable tokens each source asks for: its `tokens`, or its weight's share of the
    recipe's `total_tokens` (largest remainder, like rows)."""
    if total_tokens is not None and specs and specs[0].weight is not None:
        return weighted_counts(specs, total_tokens)
    return {spec.name: spec.tokens for spec in specs if spec.tokens is not None}


def requested_rows(spec: SourceSpec, available: int, weighted: dict[str, int]) -> int | None:
    """Rows `spec` asks for out of `available` (None: all of them)."""
    if spec.count is not None:
        return spec.count
    if spec.fraction is not None:
        return round(spec.fraction * available)
    if spec.weight is not None:
        return weighted[spec.name]
    return None


def draw_source(
    table: pa.Table, positions: np.ndarray, spec: SourceSpec, wanted: int | None, seed: int
) -> tuple[np.ndarray, dict[str, Any] | None]:
    """Draw `wanted` of a source's `positions` (all when None), stratified if the spec says so."""
    rng = np.random.default_rng(derived_seed(seed, spec.name))
    if spec.stratify is not None:
        return stratified_draw(table, positions, spec.stratify, wanted, rng)
    if wanted is None or wanted >= len(positions):
        return positions, None
    return np.sort(rng.choice(positions, size=wanted, replace=False)), None


def sample_sources(
    table: pa.Table,
    specs: list[SourceSpec],
    seed: int,
    total: int | None = None,
    stratify: StratifySpec | None = None,
    select: SelectSpec | None = None,
    tokens: np.ndarray | None = None,
    total_tokens: int | None = None,
) -> tuple[pa.Table, Report]:
    """Select each source's rows as its spec says; the result keeps source order, then row order.

    Per source: the per-task cap, then the amount (count, fraction or weight of `total`),
    drawn evenly across strata when the source stratifies. Then, with a recipe-level
    `stratify`, the pooled draws are thinned evenly across its strata to `total` rows.
    Report extras: `sources` (per source rows available, after the task cap, requested,
    selected, shortfall) and `strata` (per source or "mixture": the histogram before/after).
    Sources with a token target (`tokens`, or a weight of `total_tokens`) need `tokens`, the
    trainable tokens of every row of `table`; their record adds `requested_tokens`,
    `selected_tokens` and `token_shortfall`.
    A `select` (on a source, or `select` here for the pooled draws) picks best-scored rows,
    diversity-aware (`mixtures/diversity.py`); its record goes to extras `selection`.
    """
    started = time.perf_counter()
    labels = np.array(recipe_sources(table), dtype=object)
    tasks = table.column("task").to_pylist()
    weighted = weighted_counts(specs, total) if total and specs[0].weight is not None else {}
    budgets = token_targets(specs, total_tokens)
    if budgets and tokens is None:
        raise ValueError("token amounts need the rows' token counts (tokens=)")
    chosen: dict[str, np.ndarray] = {}
    per_source: dict[str, dict[str, int]] = {}
    strata: dict[str, Any] = {}
    selections: dict[str, Any] = {}
    for spec in specs:
        positions = np.flatnonzero(labels == spec.name)
        rng = np.random.default_rng(derived_seed(seed, f"{spec.name}:task-cap"))
        capped = cap_per_task(positions, tasks, spec.max_per_task, rng)
        if spec.name in budgets:
            order = np.random.default_rng(derived_seed(seed, spec.name)).permutation(capped)
            picked, record = np.sort(take_tokens(order, tokens, budgets[spec.name])), None
            wanted = len(picked)
        elif spec.select is not None:
            wanted = requested_rows(spec, len(capped), weighted)
            label = derived_seed(seed, f"{spec.name}:select")
            picked, record, selections[spec.name] = select_draw(
                table, capped, spec.select, wanted, label
            )
        else:
            wanted = requested_rows(spec, len(capped), weighted)
            picked, record = draw_source(table, capped, spec, wanted, seed)
        if record:
            strata[spec.name] = record
        chosen[spec.name] = picked
        requested = len(capped) if wanted is None else wanted
        per_source[spec.name] = {
            "available": int(len(positions)),
            "after_task_cap": int(len(capped)),
            "requested": int(requested),
            "selected": int(len(picked)),
            "shortfall": int(max(0, requested - len(picked))),
        }
        if spec.name in budgets:
            got = int(tokens[picked].sum())
            per_source[spec.name].update(
                requested_tokens=int(budgets[spec.name]),
                selected_tokens=got,
                token_shortfall=int(max(0, budgets[spec.name] - got)),
            )
    if stratify is not None:
        pooled = np.sort(np.concatenate(list(chosen.values())))
        rng = np.random.default_rng(derived_seed(seed, "mixture-strata"))
        kept, strata["mixture"] = stratified_draw(table, pooled, stratify, total, rng)
    if select is not None:
        pooled = np.sort(np.concatenate(list(chosen.values())))
        kept, record, selections["mixture"] = select_draw(
            table, pooled, select, total, derived_seed(seed, "mixture-select")
        )
        if record:
            strata["mixture"] = record
    if stratify is not None or select is not None:
        keep = set(kept.tolist())
        for name, picked in chosen.items():
            chosen[name] = np.array([p for p in picked.tolist() if p in keep], dtype=np.int64)
            per_source[name]["selected"] = int(len(chosen[name]))
    order = np.concatenate(list(chosen.values())) if chosen else np.array([], dtype=np.int64)
    sampled = table.take(pa.array(order, pa.int64()))
    extras: dict[str, Any] = {"sources": per_source}
    if strata:
        extras["strata"] = strata
    if selections:
        extras["selection"] = selections
    report = Report(
        stage="sample",
        rows_in=table.num_rows,
        rows_out=sampled.num_rows,
        dropped_by_reason={NOT_SAMPLED: table.num_rows - sampled.num_rows}
        if table.num_rows > sampled.num_rows
        else {},
        seconds=time.perf_counter() - started,
        extras=extras,
    )
    return sampled, report


def uses_tokens(recipe: Recipe) -> bool:
    """True when the recipe sizes some source in tokens (`tokens:` or `total_tokens`)."""
    return recipe.total_tokens is not None or any(s.tokens is not None for s in recipe.sources)


def sample_recipe(
    table: pa.Table, recipe: Recipe, tokens: dict[str, int] | None = None
) -> tuple[pa.Table, list[Report]]:
    """Sample `table` as `recipe` says, then upsample: the rows and the stages' reports.

    `tokens` (trainable tokens per row id) is needed when the recipe has token amounts; without
    it they are counted here (mixtures/tokens.py, cached in the default `.cache`).
    """
    per_row = None
    if uses_tokens(recipe):
        if tokens is None:
            from mixtures.tokens import DEFAULT_CACHE, token_counter

            counts = token_counter(recipe, DEFAULT_CACHE).count(table)
            tokens = dict(
                zip(counts["id"].to_pylist(), counts["trainable_tokens"].to_pylist(), strict=True)
            )
        per_row = np.array([tokens[i] for i in table.column("id").to_pylist()], dtype=np.int64)
    sampled, report = sample_sources(
        table,
        recipe.sources,
        recipe.seed,
        recipe.total,
        recipe.stratify,
        recipe.select,
        tokens=per_row,
        total_tokens=recipe.total_tokens,
    )
    if not any(spec.upsample for spec in recipe.sources):
        return sampled, [report]
    upsampled, upsample_report = upsample(sampled, recipe.sources, recipe.seed, tokens)
    return upsampled, [report, upsample_report]


def shortfalls(funnel: list[Report]) -> list[str]:
    """One warning line per source that got fewer rows than the recipe asked for (read from
    the sample stage's extras `sources`); none when every source got its rows."""
    sample = next((report for report in funnel if report.stage == "sample"), None)
    return [
        f"source {name}: {counts['requested']} rows requested, only {counts['selected']} "
        "available after dedup, filters and caps"
        for name, counts in (sample.extras.get("sources", {}) if sample else {}).items()
        if counts["shortfall"]
    ]


def token_repeats(
    positions: np.ndarray, tokens: np.ndarray, spec: SourceSpec, seed: int
) -> list[np.ndarray]:
    """Extra passes over a token source's rows (new seeded orders) until its `tokens` target
    is reached, each row at most ceil(upsample) times in all; [] when it already is."""
    needed = int(spec.tokens or 0) - int(tokens[positions].sum())
    passes: list[np.ndarray] = []
    rng = np.random.default_rng(derived_seed(seed, f"{spec.name}:upsample"))
    while needed > 0 and len(passes) < int(np.ceil(spec.upsample or 1)) - 1 and len(positions):
        taken = take_tokens(rng.permutation(positions), tokens, needed)
        passes.append(np.sort(taken))
        needed -= int(tokens[taken].sum())
    return passes


def upsample(
    table: pa.Table, specs: list[SourceSpec], seed: int, tokens: dict[str, int] | None = None
) -> tuple[pa.Table, Report]:
    """Repeat each upsampled source's rows to its factor; copies carry `meta.upsample_copy`.

    With factor f every row appears floor(f) times and round((f - floor f) * n) rows, drawn at
    random, once more. A source with a `tokens` target instead repeats rows only as far as
    the target needs (see `token_repeats`; `tokens` maps row ids to trainable tokens).
    Copies keep their id (same messages) and follow their original into the same split. The
    report's rows_out exceeds rows_in by the copies (`extras.copies`).
    """
    started = time.perf_counter()
    labels = np.array(recipe_sources(table), dtype=object)
    parts, copies = [table], {}
    for spec in specs:
        if spec.upsample is None:
            continue
        if spec.tokens is not None:
            per_row = np.array([(tokens or {})[i] for i in table.column("id").to_pylist()])
            positions = np.flatnonzero(labels == spec.name)
            repeats = token_repeats(positions, per_row, spec, seed)
            for copy_number, repeat in enumerate(repeats, start=1):
                parts.append(flag_copies(table.take(pa.array(repeat, pa.int64())), copy_number))
            copies[spec.name] = int(sum(len(r) for r in repeats))
            continue
        positions = np.flatnonzero(labels == spec.name)
        whole = int(np.floor(spec.upsample))
        extra = round((spec.upsample - whole) * len(positions))
        rng = np.random.default_rng(derived_seed(seed, f"{spec.name}:upsample"))
        repeats = [positions] * (whole - 1) + [np.sort(rng.choice(positions, extra, False))]
        for copy_number, repeat in enumerate(repeats, start=1):
            if len(repeat):
                parts.append(flag_copies(table.take(pa.array(repeat, pa.int64())), copy_number))
        copies[spec.name] = int(sum(len(r) for r in repeats))
    result = pa.concat_tables(parts)
    report = Report(
        stage="upsample",
        rows_in=table.num_rows,
        rows_out=result.num_rows,
        seconds=time.perf_counter() - started,
        extras={"copies": copies, "factors": {s.name: s.upsample for s in specs if s.upsample}},
    )
    return result, report


def flag_copies(table: pa.Table, copy_number: int) -> pa.Table:
    """`table` with `meta.upsample_copy = copy_number` on every row."""
    return meta.with_values(table, UPSAMPLE_COPY_KEY, copy_number)


def copy_numbers(table: pa.Table) -> list[int]:
    """Per row: its `meta.upsample_copy` (0 for original rows)."""
    return meta.integers(table.column("meta"), UPSAMPLE_COPY_KEY)


def split_table(table: pa.Table, validation: float, seed: int) -> dict[str, pa.Table]:
    """Shuffle `table` with the seed and cut it into train and (if asked) validation.

    Upsampled copies follow their original row into the same split (no train/validation
    leak); the share applies to the original rows.
    """
    copies = np.array(copy_numbers(table), dtype=np.int64)
    originals = table.filter(pa.array(copies == 0)) if copies.any() else table
    rng = np.random.default_rng(derived_seed(seed, "split"))
    order = rng.permutation(originals.num_rows)
    shuffled = originals.take(pa.array(order, pa.int64()))
    n_validation = round(validation * originals.num_rows)
    if validation > 0 and originals.num_rows > 1:
        n_validation = max(1, n_validation)
    splits = {"train": shuffled.slice(n_validation)}
    if n_validation:
        splits["validation"] = shuffled.slice(0, n_validation)
    if copies.any():
        splits = _add_copies(splits, table.filter(pa.array(copies > 0)), seed)
    return splits


def _add_copies(splits: dict[str, pa.Table], copies: pa.Table, seed: int) -> dict[str, pa.Table]:
    copy_ids = np.array(copies.column("id").to_pylist(), dtype=object)
    result = {}
    for name, part in splits.items():
        ids = set(part.column("id").to_pylist())
        mine = copies.filter(pa.array([i in ids for i in copy_ids]))
        merged = pa.concat_tables([part, mine])
        order = np.random.default_rng(derived_seed(seed, f"split:{name}")).permutation(
            merged.num_rows
        )
        result[name] = merged.take(pa.array(order, pa.int64()))
    return result
