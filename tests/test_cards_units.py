"""Card pieces on hand-written rows: license terms, diversity heuristic, decontamination and
strata sections from funnel extras, Markdown escaping, and row browsing."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml
from huggingface_hub import DatasetCard

from data_cards.card import CardError, write_card
from data_cards.diversity import NO_VERB, verb_object, verb_object_counts
from data_cards.inspect import InspectError, RowFilter, browse, counts
from data_cards.licenses import mixture_license, normalize_license
from instances import make_instance, make_table, write_parquet_atomic


def _row(user, answer, source="src", task="t1", category="qa", license_id="apache-2.0"):
    return make_instance(
        [{"role": "user", "content": user}, {"role": "assistant", "content": answer}],
        source=source,
        origin="human",
        task=task,
        category=category,
        template="raw",
        meta={"license": license_id} if license_id else {},
    )


ROWS = [
    _row("Write a short poem about the sea.", "Waves | foam", task="poem", category="creative"),
    _row("Explain why the sky is blue.", "Rayleigh scattering.", task="why"),
    _row("What is 2 + 2?", "4", task="math", category="arithmetic"),
    _row(
        "Show code:\n```py\nprint(1)\n```",
        "```` nested fence ````",
        source="other",
        task="code|pipe",
        category="coding",
        license_id="CC BY-NC 4.0",
    ),
]

FUNNEL = [
    {"stage": "generate:src", "rows_in": 4, "rows_out": 4, "dropped_by_reason": {}, "seconds": 0.1},
    {
        "stage": "decontaminate",
        "rows_in": 6,
        "rows_out": 4,
        "dropped_by_reason": {"contaminated:mmlu": 2},
        "seconds": 0.2,
        "extras": {
            "ngram": 13,
            "benchmarks": {
                "mmlu": {
                    "items": 14042,
                    "phrase_items": 120,
                    "rows": 2,
                    "example": "the capital of france is paris",
                },
                "gsm8k": {"items": 1319, "phrase_items": 0, "rows": 0, "example": None},
            },
        },
    },
    {
        "stage": "pii_mask",
        "rows_in": 4,
        "rows_out": 4,
        "dropped_by_reason": {},
        "seconds": 0.0,
        "extras": {"rows": 2, "rows_changed": {"email": 2, "phone": 0}, "matches": {"email": 3}},
    },
    {
        "stage": "sample",
        "rows_in": 4,
        "rows_out": 4,
        "dropped_by_reason": {},
        "seconds": 0.0,
        "extras": {
            "sources": {"src": {"available": 3, "requested": 3, "selected": 3, "shortfall": 0}},
            "strata": {
                "src": {
                    "by": "category",
                    "cap": 2,
                    "quality_key": None,
                    "scored": 0,
                    "before": {"qa": 5, "creative": 1},
                    "after": {"qa": 2, "creative": 1},
                }
            },
        },
    },
]


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "tiny"
    write_parquet_atomic(make_table(ROWS), out / "data" / "train-00000-of-00001.parquet")
    (out / "funnel.json").write_text(json.dumps(FUNNEL))
    manifest = {"name": "tiny", "recipe_hash": "ab" * 32, "seed": 1, "packages": {"x": "1"}}
    (out / "manifest.json").write_text(json.dumps(manifest))
    write_card(out, "name: tiny\n", ["apache-2.0", "cc-by-nc-4.0"])
    return out


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CC BY-NC 4.0", "cc-by-nc-4.0"),
        ("cc-by-nc-sa-4.0", "cc-by-nc-sa-4.0"),
        ("Creative Commons Attribution 4.0", "cc-by-4.0"),
        ("Apache 2.0", "apache-2.0"),
        ("MIT", "mit"),
        (None, "unknown"),
    ],
)
def test_license_names_map_to_hub_ids(name, expected):
    assert normalize_license(name) == expected


def test_one_nc_source_makes_the_mixture_non_commercial():
    rows = Counter({("alpaca", "cc-by-nc-4.0"): 5, ("dolly", "cc-by-sa-3.0"): 7})
    info = mixture_license(rows, ["cc-by-sa-3.0"])
    assert info["ids"] == ["cc-by-nc-4.0", "cc-by-sa-3.0"]
    assert info["non_commercial"] and info["share_alike"] and not info["unknown"]
    assert info["nc_sources"] == ["alpaca"]


def test_permissive_mixture_is_not_nc_and_unknown_terms_give_other():
    assert not mixture_license(Counter({("a", "apache-2.0"): 1}), [])["non_commercial"]
    info = mixture_license(Counter({("a", "apache-2.0"): 1, ("b", "unknown"): 1}), [])
    assert info["ids"] == ["apache-2.0", "other"] and info["unknown"]
    assert info["unknown_sources"] == ["b"]
    odd = mixture_license(Counter({("c", "my-custom-terms"): 1}), [])
    assert odd["ids"] == ["other"] and odd["other"] == ["my-custom-terms"]


@pytest.mark.parametrize(
    ("instruction", "expected"),
    [
        ("Please write me a haiku about autumn.", ("write", "haiku")),
        ("Can you generate a list of 5 names?", ("generate", "list")),
        ("Rewrite the following sentence in passive voice.", ("rewrite", "sentence")),
        ("Explain how photosynthesis works", ("explain", None)),
        ("Who wrote Hamlet?", (NO_VERB, None)),
        ("Definition: Classify the review as positive or negative.", ("classify", "review")),
        ("### Instruction: Translate the text into French", ("translate", "text")),
        ("", (NO_VERB, None)),
    ],
)
def test_leading_verb_and_object(instruction, expected):
    assert verb_object(instruction) == expected


def test_verb_counts_rank_verbs_and_objects_with_coverage():
    result = verb_object_counts(
        ["Write a poem.", "Write a poem!", "Write a story.", "Classify the text.", "Why?"]
    )
    assert result["rows"] == 5 and result["with_verb"] == 4 and result["coverage"] == 0.8
    assert [v["verb"] for v in result["verbs"]] == ["write", "classify"]
    assert result["verbs"][0]["objects"] == [
        {"object": "poem", "rows": 2},
        {"object": "story", "rows": 1},
    ]


def test_card_renders_decontamination_per_benchmark(folder):
    text = (folder / "README.md").read_text()
    assert "dropped 2 (`contaminated:mmlu` 2)" in text
    assert '| mmlu | 14,042 | 120 | 2 | "the capital of france is paris" |' in text
    assert "| gsm8k | 1,319 | 0 | 0 | - |" in text
    assert "ngram = `13`" in text


def test_card_funnel_shows_rows_a_transform_changed(folder):
    text = (folder / "README.md").read_text()
    assert "| pii_mask | 4 | 4 | 100.0% | -; changed: email 2 | 0.00 |" in text


def test_card_renders_sampler_strata_and_sampling(folder):
    text = (folder / "README.md").read_text()
    assert "### src: by `category`, at most 2 per stratum" in text
    assert "| qa | 5 | 2 |" in text
    assert "| creative | 1 | 1 |" in text
    assert "| src | 3 | 3 | 3 | 0 |" in text


def test_card_escapes_pipes_and_fences_and_marks_nc(folder):
    text = (folder / "README.md").read_text()
    assert "`````text\n```` nested fence ````\n`````" in text  # fence longer than content's
    card = DatasetCard.load(folder / "README.md")
    assert card.data.license == ["apache-2.0", "cc-by-nc-4.0"]
    assert "| other | cc-by-nc-4.0 | 1 |" in text
    assert "Non-commercial use only" in text
    # the front matter is exactly the YAML block the Hub reads
    assert yaml.safe_load(text.split("---\n")[1])["pretty_name"] == "Tiny (instructmix mixture)"


def test_card_of_a_folder_without_data_is_a_clear_error(tmp_path):
    with pytest.raises(CardError, match="no data/\\*.parquet shards"):
        write_card(tmp_path, "", [])


def test_browse_filters_rows_and_names_unknown_values(folder):
    rows, total = browse(folder, RowFilter(source="src"), limit=2)
    assert total == 3 and len(rows) == 2
    assert {row["source"] for row in rows} == {"src"}
    rows, total = browse(folder, RowFilter(category="coding"))
    assert total == 1 and rows[0]["task"] == "code|pipe"
    assert rows[0]["meta"] == {"license": "CC BY-NC 4.0"}
    assert browse(folder, RowFilter(contains="Rayleigh"))[1] == 1
    with pytest.raises(InspectError, match="--task 'nope': no such task; known: code"):
        browse(folder, RowFilter(task="nope"))


def test_counts_by_category(folder):
    assert counts(folder, "source") == [
        {"source": "src", "rows": 3, "share": 0.75},
        {"source": "other", "rows": 1, "share": 0.25},
    ]
    assert [row["category"] for row in counts(folder, "category", RowFilter(source="src"))] == [
        "arithmetic",
        "creative",
        "qa",
    ]
    with pytest.raises(InspectError, match="--by 'nope'"):
        counts(folder, "nope")


def test_prompt_completion_output_is_carded_and_browsed(tmp_path):
    from mixtures.build import to_prompt_completion

    out = tmp_path / "pc"
    table = to_prompt_completion(make_table(ROWS))
    write_parquet_atomic(table, out / "data" / "train-00000-of-00001.parquet")
    manifest = {"name": "pc", "recipe": {"output_format": "prompt_completion"}}
    (out / "manifest.json").write_text(json.dumps(manifest))
    write_card(out, "name: pc\n", [])
    text = (out / "README.md").read_text()
    assert "| `prompt` | every turn but the last" in text
    assert '["prompt"]' in text and "| `messages` |" not in text
    assert "| all sources | 4 |" in text
    rows, total = browse(out, RowFilter(source="src"))
    assert total == 3 and rows[0]["messages"][-1]["role"] == "assistant"


def test_row_licenses_count_every_part_of_a_row():
    from data_cards.licenses import row_licenses

    ni = _row("Definition: Summarize.", "ok", source="ni", license_id="Apache 2.0")
    ni["meta"] = json.dumps({"license": "Apache 2.0", "license_ids": ["cc-by-nc-nd-4.0"]})
    bare = _row("Say hi.", "hi", source="bare", license_id=None)
    counts = row_licenses({"train": make_table([ni, bare])})
    assert counts == Counter(
        {("ni", "apache-2.0"): 1, ("ni", "cc-by-nc-nd-4.0"): 1, ("bare", "unknown"): 1}
    )
    info = mixture_license(counts, ["apache-2.0", "other"])
    assert info["non_commercial"] and info["no_derivatives"] and info["unknown"]
    assert info["ids"] == ["apache-2.0", "cc-by-nc-nd-4.0", "other"]


@pytest.mark.parametrize(
    ("instruction", "expected"),
    [
        (
            "Definition: In this task, you are given a review. Your job is to classify its tone.",
            ("classify", "tone"),
        ),
        (
            "In this task you will be given numbers and you should remove duplicates.",
            ("remove", "duplicates"),
        ),
        ("Given a story, answer the question about it.", ("answer", "question")),
        ("You are given a sentence. Translate the sentence into Hindi.", ("translate", "sentence")),
        ("Hi, how are you today?", (NO_VERB, None)),
    ],
)
def test_descriptive_instructions_give_the_verb_of_their_task(instruction, expected):
    assert verb_object(instruction) == expected
