"""Cards of real builds: tokens per source, the LIMA table, publishable Hub metadata,
citations, the eval-split notice, the Prefect artifact and the pushed load snippet."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml
from huggingface_hub import DatasetCard, DatasetCardData

from data_cards.card import write_card
from data_cards.metadata import artifact_markdown, split_front_matter, stamp_repo_id
from instances.context import StageContext
from mixtures.build import build_into
from mixtures.manifest import check_message
from mixtures.recipe import load_recipe, parse_recipe, recipe_path

FIXTURES = Path(__file__).parent / "fixtures"


def build(recipe, mirror, out: Path, cache: Path, recipe_yaml: str = "name: x\n") -> Path:
    out.mkdir(parents=True)
    ctx = StageContext(mirror=mirror, seed=recipe.seed, cache_dir=cache)
    result = build_into(recipe, ctx, out)
    write_card(out, recipe_yaml, result.licenses)
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory, mirror):
    root = tmp_path_factory.mktemp("demo")
    recipe = load_recipe("demo")
    text = recipe_path("demo").read_text(encoding="utf-8")
    return build(recipe, mirror, root / "demo", root / "cache", text)


def front(folder: Path) -> dict:
    metadata, _ = split_front_matter((folder / "README.md").read_text(encoding="utf-8"))
    return yaml.safe_load(metadata)


def test_demo_metadata_round_trips_through_dataset_card_data(demo):
    meta = front(demo)
    assert DatasetCardData(**meta).to_dict() == meta
    assert DatasetCard.load(demo / "README.md").data.to_dict() == meta
    assert meta["source_datasets"] == ["GAIR/lima", "tatsu-lab/alpaca"]
    assert meta["pretty_name"] == "Demo (instructmix mixture)"
    assert meta["configs"][0]["data_files"] == [
        {"split": "train", "path": "data/train-*"},
        {"split": "validation", "path": "data/validation-*"},
    ]
    assert {"annotations_creators", "multilinguality", "task_categories"} <= set(meta)


def test_demo_card_cites_and_links_every_source_and_method(demo, mirror):
    text = (demo / "README.md").read_text(encoding="utf-8")
    for link in (
        "https://huggingface.co/datasets/tatsu-lab/alpaca",
        "https://huggingface.co/datasets/GAIR/lima",
        "https://github.com/tatsu-lab/stanford_alpaca",
        "https://arxiv.org/abs/2305.11206",  # LIMA
        "https://arxiv.org/abs/2306.04751",  # Tulu
    ):
        assert link in text
    assert "@misc{alpaca," in text and "@inproceedings{zhou2023lima," in text
    assert "@inproceedings{sanh2022multitask" not in text  # no templated rows: no T0
    for local in (demo, Path(mirror).resolve(), Path(tempfile.gettempdir()), Path.home()):
        assert str(local) not in text  # no path of the machine that built it
    manifest = json.loads((demo / "manifest.json").read_text())
    assert f"instructmix]({'#reproduce-it'}) {manifest['packages']['instructmix']}" in text


def test_demo_card_and_lock_count_tokens_per_source(demo):
    manifest = json.loads((demo / "manifest.json").read_text())
    tokens = pq.read_table(demo / "tokens.parquet")
    assert manifest["tokenizer"]["name"] == "smollm2"  # train: tiny is not a tokenizer
    sources = manifest["sources"]
    assert sum(s["rows"] for s in sources.values()) == tokens.num_rows
    trainable = sum(tokens["trainable_tokens"].to_pylist())
    assert sum(s["trainable_tokens"] for s in sources.values()) == trainable
    total = sum(tokens["total_tokens"].to_pylist())
    text = (demo / "README.md").read_text(encoding="utf-8")
    assert f"**{total:,} tokens**, of which\n**{trainable:,} are trainable**" in text
    lima = sources["lima"]
    assert f"| {lima['total_tokens']:,} | {lima['trainable_tokens']:,} |" in text
    assert "## Lengths in tokens" in text
    # --check compares the tokens per source too
    changed = json.loads(json.dumps(manifest))
    changed["sources"]["lima"]["trainable_tokens"] += 1
    assert "sources.lima.trainable_tokens" in check_message("demo", manifest, changed)


def test_a_rebuild_with_every_count_cached_loads_no_tokenizer(demo, monkeypatch):
    """The build recorded the SmolLM2 tokenizer's fingerprint beside its converted copy: a
    counter whose rows are all cached gives the same counts and lock entry without loading
    it (importing transformers and loading take seconds)."""
    import mixtures.tokens
    from mixtures.tokens import TokenCounter

    manifest = json.loads((demo / "manifest.json").read_text())
    tokens = pq.read_table(demo / "tokens.parquet")
    train = pa.concat_tables(pq.read_table(f) for f in sorted((demo / "data").glob("train-*")))

    def no_load(*_: object) -> None:
        raise AssertionError("the tokenizer was loaded")

    monkeypatch.setattr(mixtures.tokens, "load_tokenizer", no_load)
    counter = TokenCounter("smollm2", demo.parent / "cache")
    assert counter.fingerprint() == manifest["tokenizer"]["fingerprint"]
    counts = counter.count(train)
    expected = tokens.filter(pc.equal(tokens["split"], "train"))
    assert counts["total_tokens"].to_pylist() == expected["total_tokens"].to_pylist()
    assert counter.counted == 0


def test_prefect_artifact_shows_no_front_matter_and_embeds_plots(demo):
    import prefect.artifacts

    from flows.artifacts import publish_artifacts

    captured = {}

    def fake_markdown(markdown, key, description):
        captured[key] = markdown

    monkey = pytest.MonkeyPatch()
    monkey.setattr(prefect.artifacts, "create_markdown_artifact", fake_markdown)
    monkey.setattr(prefect.artifacts, "create_table_artifact", lambda *a, **k: None)
    try:
        publish_artifacts("demo", [], {}, demo / "README.md")
    finally:
        monkey.undo()
    shown = captured["demo-card"]
    assert shown == artifact_markdown((demo / "README.md").read_text(), demo)
    assert not shown.startswith("---")
    head, _, yaml_block = shown.partition("## Hub metadata\n\n```yaml\n")
    assert "\nlicense:" not in head and "source_datasets:" in yaml_block
    assert "](plots/" not in shown and "(data:image/png;base64," in shown


def test_push_names_the_real_repository_in_the_load_snippet(demo, tmp_path):
    copy = tmp_path / "demo"
    shutil.copytree(demo, copy)
    assert 'load_dataset("ORG/demo")' in (copy / "README.md").read_text()
    assert stamp_repo_id(copy, "someone/demo-mix")
    text = (copy / "README.md").read_text()
    assert 'load_dataset("someone/demo-mix")' in text and "ORG/demo" not in text
    assert not stamp_repo_id(copy, "someone/demo-mix")  # already stamped


def test_lima_1k_shows_the_source_table_in_tokens(mirror, tmp_path):
    """lima-1k with LIMA read in its Hub layout (conversations + `source`, a hand-written
    fixture: the mirror's copy lacks the field) shows LIMA's per-source table in tokens."""
    data = load_recipe("lima-1k").model_dump(mode="json", exclude_none=True)
    data["sources"][0]["generator"] = {
        "kind": "dataset",
        "path": str(FIXTURES / "lima_hub" / "lima.json"),
        "format": "sharegpt",
        "origin": "human",
        "task": "lima",
        "category_column": "source",
        "license": "cc-by-nc-sa-4.0",
    }
    recipe = parse_recipe(data)
    assert recipe.card.length_table_by == "category"
    folder = build(recipe, mirror, tmp_path / "lima-1k", tmp_path / "cache")
    text = (folder / "README.md").read_text(encoding="utf-8")
    table = text.split("## Lengths in tokens")[1].split("\n## ")[0]
    assert "| category | examples | mean input tokens | mean output tokens |" in table
    for category, examples in (
        ("stackexchange", 3),
        ("wikihow", 2),
        ("writingprompts", 1),
        ("authors", 1),
    ):
        assert f"| {category} | {examples} |" in table
    tokens = pq.read_table(folder / "tokens.parquet").to_pylist()
    assert f"| all | {len(tokens):,} |" in table


TEMPLATED = {
    "name": "evaltest",
    "seed": 1,
    "sources": [
        {
            "name": "qa",
            "generator": {
                "kind": "templated",
                "tasks": ["openbookqa", "ag_news"],
                "max_rows_per_task": 20,
            },
        }
    ],
}


def test_eval_split_rows_stay_out_unless_allowed(mirror, tmp_path):
    kept = build(parse_recipe(TEMPLATED), mirror, tmp_path / "a", tmp_path / "cache")
    rejected = pq.read_table(kept / "rejected.parquet").to_pylist()
    dropped = [r for r in rejected if r["reject_reason"] == "eval_split"]
    assert len(dropped) == 20 and {r["task"] for r in dropped} == {"openbookqa"}
    assert dropped[0]["reject_stage"] == "eval_splits:qa"
    text = (kept / "README.md").read_text(encoding="utf-8")
    assert "Contains evaluation data" not in text

    allowed = parse_recipe({**TEMPLATED, "allow_eval_splits": True})
    assert allowed.sources[0].allow_eval_splits
    folder = build(allowed, mirror, tmp_path / "b", tmp_path / "cache")
    text = (folder / "README.md").read_text(encoding="utf-8")
    top = text.split("## How to load it")[0]
    assert "**Contains evaluation data.**" in top and "allenai/openbookqa (main) *test*: 20" in top
