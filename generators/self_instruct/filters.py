"""The Self-Instruct filters on new instructions and on generated instances, one reason each.

Instruction reasons (in the order they are checked): `truncated_response` (the reply hit the
length limit: none of its items are used), `empty`, `too_short` (3 words or fewer), `too_long`
(more than 150 words), `blacklisted_keyword`, `starts_with_write_a_program`,
`starts_with_punctuation`, `non_ascii_start`, `too_similar` (ROUGE-L F > 0.7 against the pool).

Instance reasons: `empty_output`, `output_equals_input`, `ends_with_colon` (an unfinished
generation), `too_long_text`, `conflicting_outputs` (one input with two different outputs
drops the task's instances), `duplicate_instance`; in the chat layout (one example per reply)
also `no_example` (the reply held no recognisable example) and `truncated_response`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

TRUNCATED_RESPONSE = "truncated_response"
EMPTY = "empty"
TOO_SHORT = "too_short"
TOO_LONG = "too_long"
BLACKLISTED_KEYWORD = "blacklisted_keyword"
STARTS_WITH_WRITE_A_PROGRAM = "starts_with_write_a_program"
STARTS_WITH_PUNCTUATION = "starts_with_punctuation"
NON_ASCII_START = "non_ascii_start"
TOO_SIMILAR = "too_similar"

EMPTY_OUTPUT = "empty_output"
OUTPUT_EQUALS_INPUT = "output_equals_input"
ENDS_WITH_COLON = "ends_with_colon"
TOO_LONG_TEXT = "too_long_text"
CONFLICTING_OUTPUTS = "conflicting_outputs"
DUPLICATE_INSTANCE = "duplicate_instance"
NO_EXAMPLE = "no_example"

BLACKLIST: tuple[str, ...] = (
    "image",
    "images",
    "graph",
    "graphs",
    "picture",
    "pictures",
    "file",
    "files",
    "map",
    "maps",
    "draw",
    "plot",
    "go to",
)
_BLACKLIST_RE = re.compile(r"\b(" + "|".join(re.escape(w) for w in BLACKLIST) + r")\b", re.I)

MIN_WORDS_EXCLUSIVE = 3
MAX_WORDS = 150
SIMILARITY_THRESHOLD = 0.7


def normalise_instruction(text: str, capitalize: bool = True) -> str:
    """Whitespace collapsed; with `capitalize`, str.capitalize() as the original pipeline did.

    >>> normalise_instruction("  give me   a Python tip ")
    'Give me a python tip'
    """
    text = re.sub(r"\s+", " ", text).strip()
    return text.capitalize() if capitalize else text


def instruction_reason(text: str) -> str | None:
    """The first rule (other than similarity) that rejects a normalised instruction, or None.

    >>> instruction_reason("Describe the picture in detail.")
    'blacklisted_keyword'
    >>> instruction_reason("Name three long rivers.") is None
    True
    """
    if not text:
        return EMPTY
    words = len(text.split())
    if words <= MIN_WORDS_EXCLUSIVE:
        return TOO_SHORT
    if words > MAX_WORDS:
        return TOO_LONG
    if _BLACKLIST_RE.search(text):
        return BLACKLISTED_KEYWORD
    if text.startswith("Write a program"):
        return STARTS_WITH_WRITE_A_PROGRAM
    if text[0] in string.punctuation:
        return STARTS_WITH_PUNCTUATION
    if not text[0].isascii():
        return NON_ASCII_START
    return None


def instance_reasons(pairs: Sequence[tuple[str, str]], max_chars: int) -> list[str | None]:
    """Per (input, output) pair: the reason it is dropped, or None to keep it.

    >>> instance_reasons([("a", "b"), ("a", "b"), ("x", "x"), ("", "")], 100)
    [None, 'duplicate_instance', 'output_equals_input', 'empty_output']
    """
    reasons: list[str | None] = []
    for given, answer in pairs:
        if not answer:
            reasons.append(EMPTY_OUTPUT)
        elif given == answer:
            reasons.append(OUTPUT_EQUALS_INPUT)
        elif given.endswith(":") or answer.endswith(":"):
            reasons.append(ENDS_WITH_COLON)
        elif len(given) + len(answer) > max_chars:
            reasons.append(TOO_LONG_TEXT)
        else:
            reasons.append(None)
    outputs: dict[str, str] = {}
    for (given, answer), reason in zip(pairs, reasons, strict=True):
        if reason is None and given and outputs.setdefault(given, answer) != answer:
            return [r or CONFLICTING_OUTPUTS for r in reasons]
    seen: set[tuple[str, str]] = set()
    for index, (pair, reason) in enumerate(zip(pairs, reasons, strict=True)):
        if reason is None:
            if pair in seen:
                reasons[index] = DUPLICATE_INSTANCE
            seen.add(pair)
    return reasons
