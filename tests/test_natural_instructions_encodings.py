"""Encodings: exact rendered text of one fixture instance under the paper's eight encodings,
Tk-Instruct's knobs, stable names, and missing components reported instead of invented."""

from __future__ import annotations

import pytest

from generators.natural_instructions.encodings import (
    PAPER_ENCODINGS,
    EncodingError,
    instruction_blocks,
    missing_components,
    parse_encoding,
    render_prompt,
    shows_examples,
)
from generators.natural_instructions.task_file import TaskFile, parse_task_data

# A hand-written task with every component (v1 fields included).
FIXTURE = {
    "Prompt": ["Name the capital city."],
    "Definition": ["Given a country, answer with the name of its capital city."],
    "Things to Avoid": ["Do not answer with the largest city when it is not the capital."],
    "Emphasis & Caution": ["Some countries have several capitals; any of them is correct."],
    "Positive Examples": [
        {"input": "France", "output": "Paris", "explanation": "Paris is the capital of France."},
        {"input": "Japan", "output": "Tokyo", "explanation": "Tokyo is the capital of Japan."},
    ],
    "Negative Examples": [
        {
            "input": "Australia",
            "output": "Sydney",
            "explanation": "Sydney is the largest city; the capital is Canberra.",
        }
    ],
    "Instances": [{"id": "fixture-1", "input": "Kenya", "output": ["Nairobi"]}],
    "Categories": ["Misc."],
    "Input_language": ["English"],
    "Instance License": ["CC0"],
}

PROMPT = "Prompt: Name the capital city."
DEFINITION = "Definition: Given a country, answer with the name of its capital city."
AVOID = "Things to avoid: Do not answer with the largest city when it is not the capital."
EMPHASIS = "Emphasis & caution: Some countries have several capitals; any of them is correct."
POS = (
    "Positive example 1:\nInput: France\nOutput: Paris\n\n"
    "Positive example 2:\nInput: Japan\nOutput: Tokyo"
)
QUERY = "Input: Kenya\nOutput:"
CUED = "Now complete the following example:\nInput: Kenya\nOutput:"
FULL = (
    f"{PROMPT}\n\n{DEFINITION}\n\n{AVOID}\n\n{EMPHASIS}\n\n"
    "Positive example 1:\nInput: France\nOutput: Paris\n"
    "Explanation: Paris is the capital of France.\n\n"
    "Positive example 2:\nInput: Japan\nOutput: Tokyo\n"
    "Explanation: Tokyo is the capital of Japan.\n\n"
    "Negative example 1:\nInput: Australia\nOutput: Sydney\n"
    "Explanation: Sydney is the largest city; the capital is Canberra.\n\n"
    f"{CUED}"
)

EXPECTED = {
    "prompt only": f"{PROMPT}\n\n{QUERY}",
    "+definition": f"{PROMPT}\n\n{DEFINITION}\n\n{QUERY}",
    "+things to avoid": f"{PROMPT}\n\n{AVOID}\n\n{QUERY}",
    "+emphasis & caution": f"{PROMPT}\n\n{EMPHASIS}\n\n{QUERY}",
    "+positive examples": f"{PROMPT}\n\n{POS}\n\n{CUED}",
    "definition + positive examples": f"{PROMPT}\n\n{DEFINITION}\n\n{POS}\n\n{CUED}",
    "positive examples only": f"{POS}\n\n{CUED}",
    "full instruction": FULL,
}


def _task(data: dict | None = None) -> TaskFile:
    return parse_task_data(data or FIXTURE, "task000_fixture_capitals", "fixture")


def _render(task: TaskFile, name: str) -> str:
    encoding = parse_encoding(name)
    blocks = instruction_blocks(task, encoding)
    return render_prompt(blocks, task.instances[0].input, shows_examples(task, encoding))


def test_the_eight_paper_encodings_are_named() -> None:
    assert list(PAPER_ENCODINGS) == list(EXPECTED)
    assert list(PAPER_ENCODINGS.values()) == [
        "prompt",
        "prompt+def",
        "prompt+avoid",
        "prompt+emphasis",
        "prompt+pos",
        "prompt+def+pos",
        "pos",
        "full",
    ]


@pytest.mark.parametrize("label", list(EXPECTED))
def test_exact_text_under_each_paper_encoding(label: str) -> None:
    task = _task()
    name = PAPER_ENCODINGS[label]
    assert _render(task, name) == EXPECTED[label]
    assert missing_components(task, parse_encoding(name)) == []


def test_tk_instruct_knobs() -> None:
    task = _task()
    assert _render(task, "def+pos1+neg1+expl") == (
        f"{DEFINITION}\n\n"
        "Positive example 1:\nInput: France\nOutput: Paris\n"
        "Explanation: Paris is the capital of France.\n\n"
        "Negative example 1:\nInput: Australia\nOutput: Sydney\n"
        "Explanation: Sydney is the largest city; the capital is Canberra.\n\n"
        f"{CUED}"
    )
    assert _render(task, "def+pos2") == f"{DEFINITION}\n\n{POS}\n\n{CUED}"
    assert _render(task, "none") == QUERY


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("pos2+def", "def+pos2"),
        ("DEF + POS2", "def+pos2"),
        ("expl+neg+pos", "pos+neg+expl"),
        ("prompt+def+avoid+emphasis+pos+neg+expl", "full"),
        ("full", "full"),
        ("none", "none"),
    ],
)
def test_names_are_canonical(name: str, canonical: str) -> None:
    assert parse_encoding(name).name == canonical
    assert parse_encoding(canonical) == parse_encoding(name)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("def+title", "unknown part 'title'"),
        ("def+def", "given twice"),
        ("def+pos0", "'pos0' asks for no examples"),
        ("def+expl", "'expl' needs positive or negative examples"),
    ],
)
def test_bad_names_say_why(name: str, fragment: str) -> None:
    with pytest.raises(EncodingError, match=fragment):
        parse_encoding(name)


def test_missing_components_are_reported_not_invented() -> None:
    v2 = {
        key: value
        for key, value in FIXTURE.items()
        if key not in ("Prompt", "Things to Avoid", "Emphasis & Caution", "Negative Examples")
    }
    task = _task(v2)
    full = parse_encoding("full")
    assert missing_components(task, full) == [
        "prompt",
        "things_to_avoid",
        "emphasis",
        "negative_examples",
    ]
    # Only what the task has is rendered; nothing stands in for the absent parts.
    assert _render(task, "full") == (
        f"{DEFINITION}\n\n"
        "Positive example 1:\nInput: France\nOutput: Paris\n"
        "Explanation: Paris is the capital of France.\n\n"
        "Positive example 2:\nInput: Japan\nOutput: Tokyo\n"
        "Explanation: Tokyo is the capital of Japan.\n\n"
        f"{CUED}"
    )
    assert _render(task, "prompt") == QUERY
    assert missing_components(task, parse_encoding("def+pos3")) == ["positive_examples"]
    no_expl = {
        **v2,
        "Positive Examples": [{"input": "France", "output": "Paris"}],
    }
    assert missing_components(_task(no_expl), parse_encoding("pos+expl")) == ["explanations"]
