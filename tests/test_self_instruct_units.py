"""Self-Instruct pieces without a server: ROUGE-L exactness, parsing, filters, prompts."""

from __future__ import annotations

import json
import random

import pytest
from mirror_path import MIRROR

from generators.self_instruct import filters, parse, prompts
from generators.self_instruct.novelty import NoveltyIndex, rouge_tokens
from generators.self_instruct.seeds import load_seeds
from instances import SourceError


def _scorer():
    # imported late: rouge_score imports absl, whose logging replaces the logger class for
    # every logger made afterwards, which breaks Prefect's logging in later in-process tests
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def reference(candidate: str, pool: list[str]) -> list[float]:
    return [_scorer().score(candidate, text)["rougeL"].fmeasure for text in pool]


def test_tokens_match_rouge_score_tokenizer():
    texts = ["Héllo, WORLD!! 3.14 is π", "İstanbul  naïve café", "", "---", "a_b c-d e'f"]
    for text in texts:
        assert rouge_tokens(text) == _scorer()._tokenizer.tokenize(text)


def test_scores_equal_rouge_score_bit_for_bit_on_real_instructions():
    alpaca = json.loads((MIRROR / "stanford_alpaca" / "alpaca_data.json").read_text())
    pool = [row["instruction"] for row in alpaca[:300]]
    index = NoveltyIndex(pool)
    rng = random.Random(0)
    candidates = [row["instruction"] for row in alpaca[300:340]]
    for text in pool[:30]:  # word-edited copies land near the threshold
        words = text.split()
        words[rng.randrange(len(words))] = "zebra"
        candidates.append(" ".join(words))
    candidates += ["", "!!!", "Ünïcode only ÄÖÜ"]
    for candidate in candidates:
        assert index.scores(candidate).tolist() == reference(candidate, pool)


def test_ties_at_threshold_decide_like_rouge_score():
    # 7 of 10 tokens shared: F is exactly 0.7 and the candidate is kept
    ten = "one two three four five six seven eight nine ten"
    tie = "one two three four five six seven x y z"
    assert float(NoveltyIndex([ten]).scores(tie)[0]) == reference(tie, [ten])[0] == 0.7
    # 7 shared, lengths 9 and 11: exactly 0.7 in rationals, 0.7000000000000001 in rouge_score's
    # float expression, so the original rejects it and so must we
    eleven = ten + " eleven"
    near = "one two three four five six seven x y"
    ours = float(NoveltyIndex([eleven]).scores(near)[0])
    assert ours == reference(near, [eleven])[0] == 0.7000000000000001
    assert ours > 0.7


def test_index_grows_and_truncates():
    index = NoveltyIndex(["Name three rivers in Europe."])
    index.add("Name three rivers in Asia.")
    assert index.scores("Name three rivers in Asia.").max() == 1.0
    index.truncate(1)
    assert len(index) == 1 and index.scores("Name three rivers in Asia.").max() < 1.0
    top = index.most_similar(index.scores("Name three rivers in Africa."), 5)
    assert list(top) == ["Name three rivers in Europe."]


def test_split_instructions_like_the_original():
    text = " Find the  odd one out.\n10. Describe the weather today.\n11 . Count the vowels.\n12."
    assert parse.split_instructions(text) == [
        "Find the odd one out.",
        "Describe the weather today.",
        "Count the vowels.",
    ]


def test_instance_parsing_input_first_and_output_first():
    reply = "Example 1\nInput: 3, 4\nOutput: 7\nExample 2\nOutput: 10\nExample 3\nInput: x"
    assert parse.parse_input_first(reply) == [("3, 4", "7"), ("", "10"), ("", "")]
    assert parse.parse_input_first("Output: only") == [("", "only")]
    assert parse.parse_input_first("no structure") == []
    labels = "Class label: Spam\nBuy now!\nClass label: Ham\nSee you at 5.\nClass label: Sp"
    assert parse.parse_output_first(labels) == [
        ("Buy now!", "Spam"),
        ("See you at 5.", "Ham"),
        ("", "Sp"),
    ]
    assert parse.parse_output_first(labels, truncated=True)[-1] == ("See you at 5.", "Ham")
    assert parse.parse_output_first("nothing") == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", filters.EMPTY),
        ("Sort these numbers.", filters.TOO_SHORT),
        (" ".join(["word"] * 151), filters.TOO_LONG),
        ("Describe the IMAGE in three sentences.", filters.BLACKLISTED_KEYWORD),
        ("Explain how to go to the station.", filters.BLACKLISTED_KEYWORD),
        ("Write a program that sorts a list.", filters.STARTS_WITH_WRITE_A_PROGRAM),
        ("- list three kinds of trees", filters.STARTS_WITH_PUNCTUATION),
        ("Émettez trois idées de cadeaux.", filters.NON_ASCII_START),
        ("Explain the mapping between two sets.", None),  # 'map' only as a whole word
        (" ".join(["word"] * 150), None),
    ],
)
def test_each_instruction_filter(text, reason):
    assert filters.instruction_reason(text) == reason


def test_normalise_capitalizes_like_the_original_or_not():
    assert filters.normalise_instruction("tell me about  Paris") == "Tell me about paris"
    assert filters.normalise_instruction("tell me about Paris", False) == "tell me about Paris"


def test_instance_filters_each_reason():
    pairs = [
        ("2+2", "4"),
        ("2+2", "4"),
        ("same", "same"),
        ("q", ""),
        ("Question:", "ok"),
        ("long " * 50, "x"),
        ("", "no input needed"),
    ]
    assert filters.instance_reasons(pairs, max_chars=100) == [
        None,
        filters.DUPLICATE_INSTANCE,
        filters.OUTPUT_EQUALS_INPUT,
        filters.EMPTY_OUTPUT,
        filters.ENDS_WITH_COLON,
        filters.TOO_LONG_TEXT,
        None,
    ]
    conflicting = [("x", "1"), ("x", "2"), ("y", "")]
    assert filters.instance_reasons(conflicting, 100) == [
        filters.CONFLICTING_OUTPUTS,
        filters.CONFLICTING_OUTPUTS,
        filters.EMPTY_OUTPUT,
    ]


def test_prompts_have_the_original_structure():
    items = [f"Task number {i}:" for i in range(8)]
    text = prompts.instruction_prompt(items)
    lines = text.splitlines()
    assert lines[0] == "Come up with a series of tasks:"
    assert lines[1] == "1. Task number 0" and lines[8] == "8. Task number 7"
    assert lines[-1] == "9."
    assert prompts.classification_prompt("Is it spam?").endswith(
        "Task: Is it spam?\nIs it classification?"
    )
    assert prompts.output_first_prompt("Label it.").endswith("Task: Label it.\n")
    assert "Class label:" in prompts.output_first_prompt("Label it.")
    assert "Input:" in prompts.input_first_prompt("Do it.")


def test_seeds_from_mirror_and_bad_user_file(tmp_path):
    seeds = load_seeds(MIRROR)
    assert len(seeds) == 175 and seeds[0].id == "seed_task_0"
    assert sum(s.is_classification for s in seeds) > 0
    bad = tmp_path / "seeds.jsonl"
    bad.write_text('{"id": "a", "instruction": "Do a thing.", "instances": [{"input": ""}]}\n')
    with pytest.raises(SourceError, match=r"seeds.jsonl: seed 0: instances\[0\] needs a string"):
        load_seeds(MIRROR, bad)
