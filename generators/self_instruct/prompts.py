"""The Self-Instruct prompts, in our own wording and examples but the original structure.

- instruction generation: a header, 8 numbered in-context instructions, then the next number;
- classification identification: a few-shot list of tasks each answered Yes or No;
- instance generation: input-first (examples with Input/Output) for ordinary tasks,
  output-first (class label, then the input) for classification tasks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

INSTRUCTION_HEADER = "Come up with a series of tasks:"

_CLASSIFICATION_SHOTS: tuple[tuple[str, bool], ...] = (
    ("Tell me whether this movie review is positive or negative.", True),
    ("Write a short poem about the first snow of winter.", False),
    ("Decide if the given number is prime.", True),
    ("Summarize the paragraph below in one sentence.", False),
    ("Which of the two sentences is grammatically correct? Answer A or B.", True),
    ("Suggest three names for a bakery that sells only bread.", False),
    ("Is this email spam? Reply with yes or no.", True),
    ("Explain how a refrigerator keeps food cold.", False),
    ("Label the topic of the news headline: sports, politics, business or science.", True),
    ("Translate the following sentence into Spanish.", False),
    ("Given a tweet, say whether it expresses anger, joy, sadness or fear.", True),
    ("Plan a three-day trip to a city you have never visited.", False),
)

_INPUT_FIRST_SHOTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Convert the temperature from Fahrenheit to Celsius.",
        (("98.6 F", "37 C"), ("32 F", "0 C")),
    ),
    (
        "Give a synonym for the word.",
        (("rapid", "fast"), ("enormous", "huge")),
    ),
    (
        "Name a fruit that is yellow when ripe.",
        (("", "A banana."),),
    ),
    (
        "Rewrite the sentence in the passive voice.",
        (("The cat chased the mouse.", "The mouse was chased by the cat."),),
    ),
)

_OUTPUT_FIRST_SHOTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Classify the sentiment of the product review as positive or negative.",
        (
            ("Positive", "Review: The blender is quiet and crushes ice in seconds."),
            ("Negative", "Review: It broke after two days and support never replied."),
        ),
    ),
    (
        "Is the statement true or false?",
        (
            ("True", "Statement: Water boils at 100 degrees Celsius at sea level."),
            ("False", "Statement: The sun orbits the earth."),
        ),
    ),
    (
        "Decide which animal class the animal belongs to: mammal, bird, reptile or fish.",
        (
            ("Mammal", "Animal: Dolphin"),
            ("Bird", "Animal: Penguin"),
            ("Reptile", "Animal: Gecko"),
        ),
    ),
)


def clean_instruction(text: str) -> str:
    """One line: whitespace collapsed, trailing colon dropped (as in-context items)."""
    return re.sub(r"\s+", " ", text).strip().rstrip(":")


def instruction_prompt(instructions: Sequence[str]) -> str:
    """The instruction-generation prompt: header, numbered instructions, then the next number.

    >>> print(instruction_prompt(["Add two numbers.", "Name a color:"]))
    Come up with a series of tasks:
    1. Add two numbers.
    2. Name a color
    3.
    """
    lines = [INSTRUCTION_HEADER]
    lines += [f"{number}. {clean_instruction(text)}" for number, text in enumerate(instructions, 1)]
    lines.append(f"{len(instructions) + 1}.")
    return "\n".join(lines)


def classification_prompt(instruction: str) -> str:
    """The few-shot prompt asking whether `instruction` is a classification task."""
    parts = ["Can the task be treated as classification, with a small fixed set of outputs?\n"]
    for task, answer in _CLASSIFICATION_SHOTS:
        parts.append(f"Task: {task}\nIs it classification? {'Yes' if answer else 'No'}\n")
    parts.append(f"Task: {clean_instruction(instruction)}\nIs it classification?")
    return "\n".join(parts)


def input_first_prompt(instruction: str) -> str:
    """The instance prompt for an ordinary task: examples as Input then Output."""
    parts = [
        "Write examples for each task. Give several examples where you can. "
        "When a task needs no input, leave the input empty and give the output.\n"
    ]
    for task, examples in _INPUT_FIRST_SHOTS:
        lines = [f"Task: {task}"]
        for number, (given, answer) in enumerate(examples, 1):
            lines += [f"Example {number}", f"Input: {given}", f"Output: {answer}"]
        parts.append("\n".join(lines) + "\n")
    parts.append(f"Task: {clean_instruction(instruction)}\n")
    return "\n".join(parts)


def output_first_prompt(instruction: str) -> str:
    """The instance prompt for a classification task: each class label, then an input for it."""
    parts = [
        "For each classification task, list its possible class labels and write an input "
        "that belongs to each label. Cover every label when you can.\n"
    ]
    for task, examples in _OUTPUT_FIRST_SHOTS:
        lines = [f"Task: {task}"]
        for label, given in examples:
            lines += [f"Class label: {label}", given]
        parts.append("\n".join(lines) + "\n")
    parts.append(f"Task: {clean_instruction(instruction)}\n")
    return "\n".join(parts)
