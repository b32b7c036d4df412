"""Sampling: amounts, weights, per-task caps, include/exclude, strata, upsampling, the split.

Hand-made tables of a few hundred rows: every expectation below is computed by hand.
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from instances import make_instance, make_table
from mixtures.recipe import parse_recipe
from mixtures.sampling import (
    recipe_sources,
    sample_recipe,
    shortfalls,
    split_table,
    tag_recipe_source,
    weighted_counts,
)
from mixtures.select import select_rows
from mixtures.strata import even_allocation

GEN = {"kind": "existing", "dataset": "lima"}


def rows(source: str, tasks: dict[str, int], category=None, lang="en", quality=None):
    """A table of `source` rows: `tasks[name]` rows per task, distinct messages."""
    out = []
    for task, n in tasks.items():
        for i in range(n):
            meta = {} if quality is None else {"quality": quality(task, i)}
            out.append(
                make_instance(
                    [
                        {"role": "user", "content": f"{source} {task} question {i}"},
                        {"role": "assistant", "content": f"answer {i}"},
                    ],
                    source=source,
                    origin="human",
                    task=task,
                    category=category or f"cat_{task}",
                    template="t",
                    lang=lang,
                    meta=meta,
                )
            )
    return tag_recipe_source(make_table(out), source)


def pool(*tables):
    import pyarrow as pa

    return pa.concat_tables(tables)


def recipe(sources, **extra):
    specs = [{"name": name, "generator": GEN, **spec} for name, spec in sources.items()]
    return parse_recipe({"name": "t", "seed": 3, "sources": specs, **extra})


def by_source(table):
    return Counter(recipe_sources(table))


def test_even_allocation_fills_small_strata_first_and_respects_cap():
    rng = np.random.default_rng(0)
    assert even_allocation({"a": 100, "b": 3, "c": 100}, 23, None, rng) == {
        "a": 10,
        "b": 3,
        "c": 10,
    }
    assert even_allocation({"a": 100, "b": 3}, None, 5, rng) == {"a": 5, "b": 3}
    shares = even_allocation({"a": 9, "b": 9, "c": 9}, 10, None, rng)
    assert sum(shares.values()) == 10 and sorted(shares.values()) == [3, 3, 4]
    # the strata cannot give the target together: each gives all it can
    assert even_allocation({"a": 2, "b": 3}, 50, 2, rng) == {"a": 2, "b": 2}


def test_weighted_counts_split_total_by_largest_remainder():
    specs = recipe({"a": {"weight": 2}, "b": {"weight": 1}}, total=100).sources
    assert weighted_counts(specs, 100) == {"a": 67, "b": 33}


def test_count_fraction_weight_and_shortfall_are_reported():
    table = pool(rows("a", {"x": 50}), rows("b", {"y": 40}), rows("c", {"z": 10}))
    sampled, reports = sample_recipe(
        table, recipe({"a": {"count": 20}, "b": {"fraction": 0.25}, "c": {"count": 30}})
    )
    assert by_source(sampled) == {"a": 20, "b": 10, "c": 10}
    extras = reports[0].extras["sources"]
    assert extras["c"] == {
        "available": 10,
        "after_task_cap": 10,
        "requested": 30,
        "selected": 10,
        "shortfall": 20,
    }
    assert reports[0].balanced() and reports[0].dropped_by_reason == {"not_sampled": 60}
    assert shortfalls(reports) == [  # the warning the build logs
        "source c: 30 rows requested, only 10 available after dedup, filters and caps"
    ]

    weighted = recipe({"a": {"weight": 3}, "b": {"weight": 1}}, total=40)
    sampled, _ = sample_recipe(table, weighted)
    assert by_source(sampled) == {"a": 30, "b": 10}


def test_max_per_task_caps_each_task_before_the_amount():
    table = rows("a", {"big": 100, "mid": 20, "small": 3})
    sampled, reports = sample_recipe(table, recipe({"a": {"max_per_task": 10}}))
    assert Counter(sampled.column("task").to_pylist()) == {"big": 10, "mid": 10, "small": 3}
    assert reports[0].extras["sources"]["a"]["after_task_cap"] == 23


def test_source_stratify_draws_evenly_with_cap_and_histograms():
    table = rows("a", {"t1": 100, "t2": 100, "t3": 4, "t4": 60})
    spec = {"count": 40, "stratify": {"by": "task"}}
    sampled, _ = sample_recipe(table, recipe({"a": spec}))
    assert Counter(sampled.column("task").to_pylist()) == {"t1": 12, "t2": 12, "t3": 4, "t4": 12}


def test_source_stratify_cap_bounds_every_stratum():
    table = rows("a", {"t1": 100, "t2": 100, "t3": 4, "t4": 60})
    spec = {"stratify": {"by": "task", "cap": 11}}
    sampled, reports = sample_recipe(table, recipe({"a": spec}))
    assert Counter(sampled.column("task").to_pylist()) == {"t1": 11, "t2": 11, "t3": 4, "t4": 11}
    record = reports[0].extras["strata"]["a"]
    assert record["by"] == "task" and record["cap"] == 11
    assert record["before"] == {"t1": 100, "t2": 100, "t3": 4, "t4": 60}
    assert record["after"] == {"t1": 11, "t2": 11, "t3": 4, "t4": 11}
    json.dumps(reports[0].extras)  # the funnel stores extras as JSON


def test_quality_first_inside_a_stratum():
    table = rows("a", {"t1": 30, "t2": 30}, quality=lambda task, i: float(i))
    spec = {"count": 10, "stratify": {"by": "task", "quality_key": "quality"}}
    sampled, reports = sample_recipe(table, recipe({"a": spec}))
    scores = sorted(json.loads(m)["quality"] for m in sampled.column("meta").to_pylist())
    assert scores == [25.0, 25.0, 26.0, 26.0, 27.0, 27.0, 28.0, 28.0, 29.0, 29.0]
    assert reports[0].extras["strata"]["a"]["scored"] == 60


def test_recipe_level_stratify_by_source_evens_out_sources():
    table = pool(rows("a", {"x": 200}), rows("b", {"y": 30}), rows("c", {"z": 200}))
    sampled, reports = sample_recipe(
        table, recipe({"a": {}, "b": {}, "c": {}}, total=90, stratify={"by": "source"})
    )
    assert by_source(sampled) == {"a": 30, "b": 30, "c": 30}
    assert reports[0].extras["strata"]["mixture"]["after"] == {"a": 30, "b": 30, "c": 30}
    assert reports[0].extras["sources"]["a"]["selected"] == 30


def test_upsample_repeats_rows_flags_copies_and_keeps_them_in_one_split():
    table = pool(rows("a", {"x": 20}), rows("b", {"y": 10}))
    sampled, reports = sample_recipe(table, recipe({"a": {}, "b": {"upsample": 2.5}}))
    assert by_source(sampled) == {"a": 20, "b": 25}
    assert [r.stage for r in reports] == ["sample", "upsample"]
    assert reports[1].rows_in == 30 and reports[1].rows_out == 45
    assert reports[1].extras["copies"] == {"b": 15}
    copies = Counter(json.loads(m).get("upsample_copy", 0) for m in sampled["meta"].to_pylist())
    assert copies == {0: 30, 1: 10, 2: 5}
    splits = split_table(sampled, 0.2, seed=1)
    assert splits["validation"].num_rows + splits["train"].num_rows == 45
    train_ids = set(splits["train"].column("id").to_pylist())
    assert not train_ids & set(splits["validation"].column("id").to_pylist())


def test_include_and_exclude_select_by_task_category_and_lang():
    table = pool(
        rows("a", {"task1_qa": 5, "task2_sum": 5, "task3_qa": 5}, category="qa"),
        rows("a", {"task4_de": 5}, category="qa", lang="de"),
    )
    spec = recipe(
        {"a": {"include": {"task": ["task*_qa", "task4*"]}, "exclude": {"lang": ["de"]}}}
    ).sources[0]
    result = select_rows(table, spec)
    assert Counter(result.kept.column("task").to_pylist()) == {"task1_qa": 5, "task3_qa": 5}
    assert result.report.dropped_by_reason == {"excluded": 5, "not_included": 5}
    assert set(result.rejected.column("reject_stage").to_pylist()) == {"select:a"}


def test_sampling_is_seeded_and_independent_of_other_sources():
    table = pool(rows("a", {"x": 100}), rows("b", {"y": 100}))
    one, _ = sample_recipe(table, recipe({"a": {"count": 10}}))
    two, _ = sample_recipe(table, recipe({"a": {"count": 10}, "b": {"count": 5}}))
    assert recipe_sources(two)[:10] == ["a"] * 10
    assert one["id"].to_pylist() == two["id"].to_pylist()[:10]


@pytest.mark.parametrize(
    ("sources", "extra", "message"),
    [
        ({"a": {"weight": 1}, "b": {"count": 3}}, {"total": 9}, "all-or-none"),
        ({"a": {"weight": 1}}, {}, "set total"),
        ({"a": {"count": 3}}, {"total": 9}, "total is used with weights"),
        ({"a": {"weight": 1, "upsample": 2}}, {"total": 9}, "upsample repeats rows"),
        ({"a": {"count": 2, "weight": 1}}, {"total": 9}, "not count and weight"),
        ({"a": {"weight": 1}}, {"total": 9, "stratify": {"by": "task"}}, "weights already"),
        ({"a": {"stratify": {"by": "source"}}}, {}, "a source is one stratum"),
        ({"a": {"include": {}}}, {}, "include names nothing"),
        ({"a": {"count": 1.5}}, {}, r"sources\.0\.count"),
        ({"a": {"upsample": 1}}, {}, r"sources\.0\.upsample"),
        ({"a": {"stratify": {"by": "topic"}}}, {}, r"sources\.0\.stratify\.by"),
    ],
)
def test_bad_recipes_say_how_to_fix(sources, extra, message):
    from mixtures.recipe import RecipeError

    with pytest.raises(RecipeError, match=message):
        recipe(sources, **extra)


def test_include_that_matches_nothing_names_the_source_and_the_values_it_has(mirror):
    from instances.context import StageContext
    from mixtures.build import generate_source
    from mixtures.select import SelectionError

    spec = recipe({"lima": {"include": {"category": ["conversaton"]}}}).sources[0]
    with pytest.raises(SelectionError, match=r"'lima': include .*conversaton.* matched none of"):
        generate_source(spec, StageContext(mirror=mirror))


def test_generate_source_applies_selectors_and_keeps_the_funnel_balanced(mirror):
    from instances.context import StageContext
    from mixtures.build import generate_source

    spec = recipe({"gpt": {"exclude": {"lang": ["en"]}}}).sources[0]
    spec = spec.model_copy(
        update={"generator": spec.generator.model_copy(update={"dataset": "gpt4_llm"})}
    )
    result = generate_source(spec, StageContext(mirror=mirror))
    assert result.kept.num_rows == 0 and result.report.rows_out == 0
    assert result.report.balanced() and result.report.dropped_by_reason == {"excluded": 999}
    assert set(result.rejected.column("reject_stage").to_pylist()) == {"select:gpt"}


def test_quality_scores_read_numbers_only():
    from instances.meta import numbers as quality_scores

    metas = [
        '{"quality": 0.5}',
        "{}",
        '{"quality": true}',
        '{"quality": {"a": 1}}',
        '{"quality": 3}',
    ]
    assert quality_scores(metas, "quality").tolist() == [0.5, -np.inf, -np.inf, -np.inf, 3.0]
    assert quality_scores(['{"q-score": 2}'], "q-score").tolist() == [2.0]
    assert quality_scores(metas, None).tolist() == [-np.inf] * 5
