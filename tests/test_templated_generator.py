"""The templated generator on the mirror: task mappings, render totals, variants, determinism."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from generators.templated import flan
from generators.templated.generator import (
    Config,
    generate,
    inputs,
    licenses,
    render_row,
    task_templates,
)
from generators.templated.render import Rendered, RenderFailure, render
from generators.templated.tasks import TASKS, load_task_rows
from instances import validate
from instances.context import StageContext
from instances.errors import SourceError


@pytest.fixture
def ctx(mirror: Path) -> StageContext:
    return StageContext(mirror=mirror, seed=0)


def test_sst2_tsv_columns_are_mapped_explicitly(ctx: StageContext) -> None:
    # The mirror's SST-2 TSV is `label<TAB>content`, GLUE's is `sentence, label`.
    source = TASKS["sst2"].source
    assert source.columns == {"content": "sentence"}
    assert source.mirror_path == "nlp_raw/sst2/train.tsv"
    rows = load_task_rows(TASKS["sst2"], ctx.mirror)
    assert len(rows) == 67_349
    assert rows[0] == {"sentence": "hide new secretions from the parental units", "label": 0}
    assert rows[2]["sentence"].startswith("that loves its characters") and rows[2]["label"] == 1


def test_other_mappings(ctx: StageContext) -> None:
    ag = load_task_rows(TASKS["ag_news"], ctx.mirror)
    assert len(ag) == 10_001 and {row["label"] for row in ag} == {0, 1, 2, 3}
    rte = load_task_rows(TASKS["rte"], ctx.mirror)
    quoted = next(row for row in rte if "Camdessus" in row["sentence1"])
    assert quoted["sentence1"].endswith('"is declining rapidly."')  # CSV quoting undone
    assert rte[0]["premise"] == rte[0]["sentence1"] and isinstance(rte[0]["idx"], int)
    squad = load_task_rows(TASKS["squad_v2"], ctx.mirror)
    assert len(squad) == 1_407 and squad[0]["answers"]["text"][0] == "France"
    assert sum(not row["answers"]["text"] for row in squad) > 0  # unanswerable kept
    obqa = load_task_rows(TASKS["openbookqa"], ctx.mirror)
    assert obqa[1]["choices"]["label"] == ["A", "B", "C", "D"] and obqa[1]["answerKey"] == "A"
    snli = load_task_rows(TASKS["snli"], ctx.mirror)
    assert [row["label"] for row in snli[:3]] == [0, 1, 2]
    ecqa = load_task_rows(TASKS["cot_ecqa"], ctx.mirror)
    assert "\nOptions:\n- " in ecqa[0]["question"] and ecqa[0]["rationale"]


def test_render_share_totals_on_a_fixed_sample(ctx: StageContext) -> None:
    result = generate(Config(templates="all", max_rows_per_task=40), ctx)
    report = result.report
    assert report.balanced()
    assert (report.rows_in, report.rows_out) == (6680, 6612)
    assert report.dropped_by_reason == {"empty_render": 68}
    share = report.extras["render_share"]
    assert share["squad_v2"] == {"pairs": 480, "rendered": 412, "share": 0.8583}
    assert share["glue/sst2"] == {"pairs": 200, "rendered": 200, "share": 1.0}
    assert sum(entry["pairs"] for entry in share.values()) == report.rows_in
    per_template = report.extras["render"]
    failing = {key: entry for key, entry in per_template.items() if entry["failed"]}
    assert set(failing) == {
        f"squad_v2:squad_v2/{name}"
        for name in ("Jeopardy with Context", "Jeopardy without Context", "Trivia")
    } | {"squad_v2:squad_v2/Topic Prediction - Question and Answer Pair"}
    assert all(entry["reasons"] == {"empty_render": 17} for entry in failing.values())
    assert result.rejected.num_rows == 68
    assert set(result.rejected.column("reject_reason").to_pylist()) == {"empty_render"}
    validate(result.kept)


def test_seeded_determinism(ctx: StageContext) -> None:
    config = Config(
        tasks=["sst2", "cot_gsm8k"], variants=["zs_noopt", "fs", "cot"], k=2, max_rows_per_task=30
    )
    first, again = generate(config, ctx), generate(config, ctx)
    assert first.kept.column("id").to_pylist() == again.kept.column("id").to_pylist()
    assert first.kept.column("meta").to_pylist() == again.kept.column("meta").to_pylist()
    other = generate(config, ctx.model_copy(update={"seed": 1}))
    assert other.kept.column("id").to_pylist() != first.kept.column("id").to_pylist()
    templates = set(first.kept.column("template").to_pylist())
    assert any(t.endswith("#fs") for t in templates) and any(t.endswith("#cot") for t in templates)


def test_few_shot_never_leaks_the_target_row(ctx: StageContext) -> None:
    config = Config(
        tasks=["sst2", "openbookqa"], templates="all", variants=["fs"], k=3, max_rows_per_task=25
    )
    result = generate(config, ctx)
    assert result.kept.num_rows == 25 * 5 + 25 * 7
    rows = {name: load_task_rows(TASKS[name], ctx.mirror) for name in ("sst2", "openbookqa")}
    templates = {
        t.key: t
        for name in ("sst2", "openbookqa")
        for t in task_templates(TASKS[name], ctx.mirror, False)
    }
    for instance in result.kept.to_pylist():
        meta = json.loads(instance["meta"])
        task_rows, row = rows[instance["task"]], meta["row"]
        shots = meta["exemplar_rows"]
        assert len(shots) == 3 and row not in shots and len(set(shots)) == 3
        template = templates[instance["template"].removesuffix("#fs")]
        own = render(template, task_rows[row], random.Random(0))
        blocks = []
        for shot in shots:
            exemplar = render(template, task_rows[shot], random.Random(0))
            assert exemplar.prompt != own.prompt  # no duplicate of the row either
            blocks.append(f"{exemplar.prompt}\n{exemplar.target}")
        # The prompt is exactly the declared exemplars, then the row: nothing else leaks in.
        assert instance["messages"][0]["content"] == "\n\n".join([*blocks, own.prompt])
        assert instance["messages"][1]["content"] == own.target


def test_rows_without_gold_label_are_rejected(ctx: StageContext) -> None:
    template = task_templates(TASKS["rte"], ctx.mirror, False)[0]
    row = {"sentence1": "a", "sentence2": "b", "premise": "a", "hypothesis": "b", "label": -1}
    with pytest.raises(RenderFailure) as failure:
        render_row(template, row, random.Random(0))
    assert failure.value.reason == "unlabelled_row"
    assert render_row(template, {**row, "label": 0}, random.Random(0)).target


def test_pick_exemplars_skips_the_row_and_its_duplicates() -> None:
    prompts = ["same", "same", "other", "same", "third", "fourth"]

    def render_row(index: int) -> Rendered:
        return Rendered(prompts[index], str(index), ())

    for seed in range(20):
        shots = flan.pick_exemplars(0, "same", len(prompts), 3, random.Random(seed), render_row)
        assert sorted(index for index, _ in shots) == [2, 4, 5]
    with pytest.raises(RenderFailure, match="1 of 2"):
        flan.pick_exemplars(0, "same", 4, 2, random.Random(0), render_row)


def test_variants_and_clusters(ctx: StageContext) -> None:
    config = Config(
        variants=["zs_opt", "cot"],
        variant_choice="all",
        max_rows_per_task=5,
        exclude_categories=["nli", "sentiment"],
    )
    result = generate(config, ctx)
    categories = set(result.kept.column("category").to_pylist())
    # OpenBookQA and SQuAD templates have no unlisted choices and no rationale: no variant fits.
    assert categories == {"topic_classification", "cot_reasoning"}
    for instance in result.kept.to_pylist():
        user, assistant = (m["content"] for m in instance["messages"])
        if instance["template"].endswith("#zs_opt"):
            assert "\n\nOptions:\n- " in user
            assert assistant in json.loads(instance["meta"])["answer_choices"]
        else:
            assert instance["template"].endswith("#cot") and "\nSo the answer is " in assistant
    skipped = result.report.extras["variants_not_applicable"]
    assert skipped["openbookqa:openbookqa/main/which_correct"] == 2


def test_inputs_licenses_and_hub_only_errors(ctx: StageContext) -> None:
    config = Config(tasks=["sst2", "rte", "cot_aqua"])
    files = inputs(config, ctx)
    assert all(path.is_file() for path in files)
    assert {p.name for p in files} >= {"train.tsv", "aqua_train.tsv", "templates.yaml"}
    assert licenses(config) == ["apache-2.0", "unknown"]
    with pytest.raises(SourceError, match="only from a local mirror"):
        load_task_rows(TASKS["cot_aqua"], None)


def test_malformed_mirror_rows_name_file_row_and_field(tmp_path: Path) -> None:
    ag = tmp_path / "nlp_raw" / "ag_news" / "dev.tsv"
    ag.parent.mkdir(parents=True)
    ag.write_text("Stocks rose.\tBusiness\nA goal.\tFootball\n", encoding="utf-8")
    with pytest.raises(
        SourceError, match=r"dev\.tsv: row 1 \(counting from 0\), field 'label': expected one of"
    ):
        load_task_rows(TASKS["ag_news"], tmp_path)
    sst = tmp_path / "nlp_raw" / "sst2" / "train.tsv"
    sst.parent.mkdir(parents=True)
    sst.write_text("label\tcontent\n1\tgood\npositive\tfine\n", encoding="utf-8")
    with pytest.raises(
        SourceError,
        match=r"train\.tsv: row 1 \(counting from 0\), field 'label': expected an integer",
    ):
        load_task_rows(TASKS["sst2"], tmp_path)
    with pytest.raises(SourceError, match=r"rte/train\.tsv: file not found"):
        generate(Config(tasks=["rte"]), StageContext(mirror=tmp_path))


def test_hub_rows_skip_the_mirror_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    from instances import sources

    hub_row = {"sentence1": '"Quoted" text', "sentence2": "b", "label": 1, "idx": 0}
    asked = []

    def fake_hub(source):  # stands in for datasets.load_dataset: no network in tests
        asked.append((source.hub_id, source.hub_config, source.hub_split))
        return [dict(hub_row)]

    monkeypatch.setattr(sources, "load_hub_rows", fake_hub)
    rows = load_task_rows(TASKS["rte"], None)
    assert asked == [("nyu-mll/glue", "rte", "train")]
    assert rows == [{**hub_row, "premise": '"Quoted" text', "hypothesis": "b"}]


def test_original_task_only(ctx: StageContext) -> None:
    config = Config(tasks=["imdb"], templates="all", original_task_only=True, max_rows_per_task=2)
    result = generate(config, ctx)
    metas = [json.loads(m) for m in result.kept.column("meta").to_pylist()]
    assert metas and all(meta["original_task"] is not False for meta in metas)
    assert result.report.extras["tasks"]["imdb"]["templates"] < 11
