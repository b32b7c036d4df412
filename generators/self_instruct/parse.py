"""Parsing LLM replies: a numbered continuation into instructions, and instance replies.

Follows the original pipeline: split the continuation at `\\n<number>. ` (or a bare number at
the end), collapse whitespace;
input-first replies split into `Example N` blocks of Input/Output; output-first replies split
at `Class label:` (label on the first line, the input after it). A reply cut off by the length
limit yields no instructions and loses its last (likely incomplete) instance.
"""

from __future__ import annotations

import re

_ITEM_SPLIT = re.compile(r"\n\d+\s?\.(?: |$)")
_EXAMPLE = re.compile(r"Example\s?\d*\.?")
_OUTPUT = re.compile(r"Output\s*\d*\s*:")
_INPUT = re.compile(r"Input\s*\d*\s*:")
_INPUT_PREFIX = re.compile(r"^Input\s*\d*\s*:")
CLASS_LABEL = "Class label:"


def split_instructions(text: str) -> list[str]:
    """The numbered items of a continuation (the first item follows the prompt's last number).

    >>> split_instructions(" Add two numbers.\\n10. Name   a city in France.\\n11.")
    ['Add two numbers.', 'Name a city in France.']
    """
    items = [re.sub(r"\s+", " ", item).strip() for item in _ITEM_SPLIT.split(text)]
    return [item for item in items if item]


def _input_output(block: str) -> tuple[str, str]:
    if _OUTPUT.search(block):
        pieces = _OUTPUT.split(block)
        given, answer = pieces[0].strip(), pieces[1].strip()
    else:
        given, answer = "", block.strip()
    if _INPUT.search(answer):
        answer = _INPUT.split(answer)[0].strip()
    given = _INPUT_PREFIX.sub("", given).strip()
    return given, answer


def parse_input_first(text: str) -> list[tuple[str, str]]:
    """(input, output) pairs of an input-first reply; [] when it has no recognisable example.

    >>> parse_input_first("Example 1\\nInput: 2+2\\nOutput: 4\\nExample 2\\nInput: 1+1\\nOutput: 2")
    [('2+2', '4'), ('1+1', '2')]
    """
    text = text.strip()
    if _EXAMPLE.search(text):
        blocks = [block.strip() for block in _EXAMPLE.split(text) if block.strip()]
        return [_input_output(block) for block in blocks]
    if _OUTPUT.search(text):
        return [_input_output(text)]
    return []


def parse_output_first(text: str, truncated: bool = False) -> list[tuple[str, str]]:
    """(input, output) pairs of an output-first reply: the label is the output.

    >>> parse_output_first("Class label: Yes\\nSentence: I agree.\\nClass label: No\\nNope")
    [('Sentence: I agree.', 'Yes'), ('Nope', 'No')]
    """
    if CLASS_LABEL not in text:
        return []
    pairs = []
    for block in text.split(CLASS_LABEL)[1:]:
        label, _, given = block.strip().partition("\n")
        pairs.append((given.strip(), label.strip()))
    return pairs[:-1] if truncated else pairs


def parse_is_classification(text: str) -> bool:
    """True when a classification-identification reply says yes.

    >>> parse_is_classification(" Yes"), parse_is_classification("No, it is not")
    (True, False)
    """
    return text.strip().lower().startswith("yes")


_NO_INPUT = {"", "none", "(none)", "n/a", "no input", "empty"}


def parse_input(text: str) -> str:
    """The input of an input-only reply: after `Input:`, up to any `Output:`; '' for none.

    >>> parse_input("Input: 2, 3\\nOutput: 5"), parse_input("Input: none"), parse_input("cats")
    ('2, 3', '', 'cats')
    """
    text = _OUTPUT.split(text)[0]
    text = _INPUT_PREFIX.sub("", text.strip()).strip()
    return "" if text.lower().rstrip(".") in _NO_INPUT else text
