"""Quality heuristics (one reason each, exact ids), PII drop (quality) and mask (pii_mask
transform), language transform."""

from __future__ import annotations

import json

import pytest
from curation_rows import check_balanced, row, table
from pydantic import ValidationError

from filters import language, pii, quality
from filters.registry import run_filter
from instances import instance_id, validate

GOOD = "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen."
REPEATED = " ".join(["the cat sat on the mat"] * 12)


def test_each_heuristic_has_its_own_reason():
    rows = [
        row("Explain photosynthesis.", GOOD),
        row("Say hello", "Say  HELLO"),
        row("Draw a cat.", "I'm sorry, but I cannot help with drawing images."),
        row("Your view?", "As an AI language model, I do not have opinions on that topic."),
        row("Write a letter.", "Dear Sir, thanks for everything. Sincerely, [Your Name]"),
        row("Show code", "```python\nprint('hi')\n"),
        row("Numbers", "1234 5678 9012 3456 7890 1234 5678 9012 3456 7890 12 34"),
        row("Write a poem about cats.", REPEATED),
        row("What is <noinput>?", GOOD),
    ]
    result = run_filter(table(rows), quality.Config())
    check_balanced(result, len(rows))
    assert result.kept.column("id").to_pylist() == [rows[0]["id"]]
    assert result.rejected.column("reject_reason").to_pylist() == [
        "response_equals_prompt",
        "refusal",
        "ai_disclaimer",
        "placeholder_text",
        "unbalanced_code_fence",
        "mostly_non_alphabetic",
        "repetitive",
        "placeholder_text",
    ]
    assert set(result.rejected.column("reject_stage").to_pylist()) == {"quality"}


def test_heuristics_can_be_turned_off_and_ordinary_rows_pass():
    rows = [
        row("Show code", "```python\nprint('hi')\n```"),
        row("What is 2+2?", "4"),
        row("Count to five", "1, 2, 3, 4, 5"),
        row("Draw a cat.", "I'm sorry, but I cannot help with drawing images."),
        row("Describe the sky.", "I can't help but admire the deep blue sky at dusk."),
    ]
    result = run_filter(table(rows), quality.Config(refusal=False))
    assert result.kept.num_rows == 5
    result = run_filter(table(rows), quality.Config())
    assert result.rejected.column("id").to_pylist() == [rows[3]["id"]]  # only the refusal


def test_pii_is_masked_in_kept_rows_with_a_new_id_and_meta():
    rows = [
        row(
            "Email jane.doe@example.org or call (555) 123-4567.",
            "Visit https://example.com/page today.",
        ),
        row("Explain photosynthesis.", GOOD),
    ]
    result = run_filter(table(rows), pii.Config(url="mask"))
    check_balanced(result, 2)
    assert set(result.report.dropped_by_reason) == set()
    assert result.report.stage == "pii_mask"
    masked = result.kept.to_pylist()[0]
    assert masked["messages"][0]["content"] == "Email [EMAIL] or call [PHONE]."
    assert masked["messages"][1]["content"] == "Visit [URL] today."
    assert masked["id"] == instance_id(masked["messages"]) != rows[0]["id"]
    meta = json.loads(masked["meta"])
    assert meta["pii_masked"] == {
        "counts": {"email": 1, "phone": 1, "url": 1},
        "original_id": rows[0]["id"],
    }
    assert result.kept.to_pylist()[1]["id"] == rows[1]["id"]
    assert result.report.extras == {
        "rows": 1,
        "rows_changed": {"email": 1, "phone": 1, "url": 1},
        "matches": {"email": 1, "phone": 1, "url": 1},
    }
    validate(result.kept)


def test_pii_drop_rejects_with_the_kind_and_keep_leaves_it():
    rows = [row("Call 555-123-4567 now please", GOOD), row("See www.example.com for more", GOOD)]
    dropped = run_filter(table(rows), quality.Config(phone="drop", url="drop"))
    assert dropped.rejected.column("reject_reason").to_pylist() == ["pii_phone", "pii_url"]
    kept = run_filter(table(rows), quality.Config(phone="keep", url="keep"))
    assert kept.kept.column("id").to_pylist() == [r["id"] for r in rows]


def test_plain_number_lists_are_not_phone_numbers():
    rows = [row("Add 100 200 300 and 2023-11-21 dates", "The sum is 600 and the year 2023.")]
    result = run_filter(table(rows), quality.Config(phone="drop"))
    assert result.kept.num_rows == 1


FRENCH = "Écrivez un court poème sur la mer et les bateaux qui partent au petit matin."
GERMAN = "Schreiben Sie bitte eine kurze Geschichte über einen Hund, der gerne im Park spielt."


def test_language_filter_rejects_other_languages_and_sets_lang():
    rows = [
        row("Write a short poem about the sea and the boats leaving at dawn.", "Waves."),
        row(FRENCH, "Les vagues."),
        row(GERMAN, "Ein Hund."),
        row("Hi", "Hello"),  # too short to identify: the declared lang stands
    ]
    rows[1]["lang"] = "en"  # declared wrongly
    result = run_filter(table(rows), language.Config(languages=["en", "fr"]))
    check_balanced(result, 4)
    assert result.kept.column("id").to_pylist() == [rows[0]["id"], rows[1]["id"], rows[3]["id"]]
    assert result.kept.column("lang").to_pylist() == ["en", "fr", "en"]
    assert result.rejected.column("reject_reason").to_pylist() == ["language_not_allowed"]
    assert result.rejected.column("lang").to_pylist() == ["de"]
    assert result.report.extras["declared_disagreed"] == 2


def test_language_config_wants_iso_codes():
    with pytest.raises(ValidationError, match="ISO 639-1"):
        language.Config(languages=["English"])


@pytest.mark.parametrize(
    "module, config",
    [
        (quality, quality.Config()),
        (language, language.Config()),
        (pii, pii.Config()),
    ],
)
def test_empty_table_passes_through(module, config):
    from instances import empty_table

    result = run_filter(empty_table(), config)
    check_balanced(result, 0)


def test_rows_identical_after_masking_keep_one():
    rows = [
        row("Write to ann@example.org about the meeting.", "Done."),
        row("Explain photosynthesis.", GOOD),
        row("Write to bob@example.org about the meeting.", "Done."),
    ]
    result = run_filter(table(rows), pii.Config())
    check_balanced(result, 3)
    kept = result.kept.to_pylist()
    assert [k["messages"][0]["content"] for k in kept] == [
        "Write to [EMAIL] about the meeting.",
        "Explain photosynthesis.",
    ]
    assert result.rejected.column("reject_reason").to_pylist() == ["duplicate_after_masking"]
    assert result.rejected.column("duplicate_of").to_pylist() == [kept[0]["id"]]
    assert result.report.dropped_by_reason == {"duplicate_after_masking": 1}


def test_quality_points_mask_to_the_pii_transform():
    with pytest.raises(ValidationError, match="pii_mask transform"):
        quality.Config(email="mask")
