"""The Self-Instruct prompts, in our own wording and examples but the original structure.

- instruction generation: a header, 8 numbered in-context instructions, then the next number;
- classification identification: a few-shot list of tasks each answered Yes or No;
- instance generation: input-first (examples with Input/Output) for ordinary tasks,
  output-first (class label, then the input) for classification tasks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

Layout = Literal["completion", "chat", "answer"]
"""How classification and instances are asked for: the paper's few-shot prompt (completion), a
few-shot conversation with one example per reply (chat), or a conversation that writes an input
and the model's own answer to the task on it (answer)."""

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


# The chat layout: the same few-shot examples as turns of a conversation, one example per
# reply. Measured on the embedded SmolLM2-135M-Instruct: it follows this layout (an `Input:` and
# an `Output:` line) where the one-message prompts above get prose or a repeated list.
Message = dict[str, str]

_CLASSIFICATION_SYSTEM = (
    "Answer Yes if the task is classification (its output is one of a small fixed set of "
    "labels), otherwise No."
)
_INPUT_FIRST_SYSTEM = (
    "You write one example for a task: an Input line (leave it empty when the task needs no "
    "input) and an Output line that carries out the task on that input."
)
_OUTPUT_FIRST_SYSTEM = (
    "You write one example for a classification task: a Class label line, then an input that "
    "belongs to that label."
)


def _turns(system: str, shots: list[tuple[str, str]], instruction: str) -> list[Message]:
    messages = [{"role": "system", "content": system}]
    for task, answer in shots:
        messages += [
            {"role": "user", "content": f"Task: {task}"},
            {"role": "assistant", "content": answer},
        ]
    messages.append({"role": "user", "content": f"Task: {clean_instruction(instruction)}"})
    return messages


def _rotated(items: Sequence, variant: int) -> list:
    """`items` rotated by `variant`, reversed for the next len(items) variants: 2n orders.

    >>> [_rotated("abc", v) for v in (0, 1, 3)]
    [['a', 'b', 'c'], ['b', 'c', 'a'], ['c', 'b', 'a']]
    """
    shift = variant % len(items)
    order = list(items[shift:]) + list(items[:shift])
    return order[::-1] if (variant // len(items)) % 2 else order


def classification_messages(instruction: str) -> list[Message]:
    """The classification question as a conversation of Task / Yes-or-No turns.

    >>> classification_messages("Name a color.")[-1]
    {'role': 'user', 'content': 'Task: Name a color.'}
    """
    shots = [(task, "Yes" if answer else "No") for task, answer in _CLASSIFICATION_SHOTS]
    return _turns(_CLASSIFICATION_SYSTEM, shots, instruction)


def input_first_messages(instruction: str, variant: int = 0) -> list[Message]:
    """One input-first example asked for as a conversation; `variant` rotates the shots (and
    picks each shot task's example), so every variant is a different request."""
    shots = []
    for task, examples in _rotated(_INPUT_FIRST_SHOTS, variant):
        given, answer = examples[variant % len(examples)]
        shots.append((task, f"Input: {given}\nOutput: {answer}"))
    return _turns(_INPUT_FIRST_SYSTEM, shots, instruction)


_INPUT_SYSTEM = (
    "You write one input for a task: the text the task would be carried out on. Write "
    "'Input: none' when the task needs no input."
)


def input_messages(instruction: str, variant: int = 0) -> list[Message]:
    """One input for the task asked for as a conversation (the answer layout's first step).

    >>> input_messages("Add the numbers.")[2]
    {'role': 'assistant', 'content': 'Input: 98.6 F'}
    """
    shots = []
    for task, examples in _rotated(_INPUT_FIRST_SHOTS, variant):
        given, _ = examples[variant % len(examples)]
        shots.append((task, f"Input: {given or 'none'}"))
    return _turns(_INPUT_SYSTEM, shots, instruction)


def output_first_messages(instruction: str, variant: int = 0) -> list[Message]:
    """One output-first (class label, then input) example asked for as a conversation."""
    shots = []
    for task, examples in _rotated(_OUTPUT_FIRST_SHOTS, variant):
        label, given = examples[variant % len(examples)]
        shots.append((task, f"{CLASS_LABEL_PREFIX} {label}\n{given}"))
    return _turns(_OUTPUT_FIRST_SYSTEM, shots, instruction)


CLASS_LABEL_PREFIX = "Class label:"
