"""Instruction encodings: which parts of a task's instructions go into the prompt, and how.

An encoding is a set of components, written as a stable name joined by `+`:

| token | component |
| --- | --- |
| `prompt` | the v1 "Prompt" (a one-line task summary) |
| `def` | the Definition |
| `avoid` | the v1 "Things to Avoid" |
| `emphasis` | the v1 "Emphasis & Caution" |
| `pos` / `posK` | all / the first K positive examples |
| `neg` / `negK` | all / the first K negative examples |
| `expl` | the examples' explanations |

`full` is the whole instruction (`prompt+def+avoid+emphasis+pos+neg+expl`). The eight rows of
the Natural Instructions paper's ablation are `PAPER_ENCODINGS`; Tk-Instruct's knobs are names
such as `def+pos2` (its default) or `def+pos2+neg2+expl`. Names are parsed into an `Encoding`
and written back canonically, so `pos2+def` and `def+pos2` are the same encoding, `def+pos2`.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, model_validator

from generators.natural_instructions.task_file import Example, TaskFile

_EXAMPLE_TOKEN = re.compile(r"^(pos|neg)(\d*)$")


class EncodingError(ValueError):
    """An encoding name that does not parse; the message lists the valid tokens."""


class Encoding(BaseModel):
    """The instruction components an encoding shows (None examples = all of them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: bool = False
    definition: bool = False
    things_to_avoid: bool = False
    emphasis: bool = False
    positive: int | None = Field(default=0, ge=0, description="positive examples; None = all")
    negative: int | None = Field(default=0, ge=0, description="negative examples; None = all")
    explanations: bool = False

    @model_validator(mode="after")
    def _explanations_need_examples(self) -> Encoding:
        if self.explanations and self.positive == 0 and self.negative == 0:
            raise ValueError("'expl' needs positive or negative examples (pos/posK/neg/negK)")
        return self

    @property
    def name(self) -> str:
        """The canonical name of this encoding (see the module docstring)."""
        return encoding_name(self)


FULL = Encoding(
    prompt=True,
    definition=True,
    things_to_avoid=True,
    emphasis=True,
    positive=None,
    negative=None,
    explanations=True,
)

_FLAGS = {
    "prompt": "prompt",
    "def": "definition",
    "avoid": "things_to_avoid",
    "emphasis": "emphasis",
    "expl": "explanations",
}


def _count_token(prefix: str, count: int | None) -> str | None:
    if count == 0:
        return None
    return prefix if count is None else f"{prefix}{count}"


def encoding_name(encoding: Encoding) -> str:
    """The canonical name of `encoding`: its tokens in a fixed order, or `full`.

    >>> encoding_name(Encoding(definition=True, positive=2))
    'def+pos2'
    """
    if encoding == FULL:
        return "full"
    tokens = [token for token in ("prompt", "def", "avoid", "emphasis") if _flag(encoding, token)]
    tokens += [t for t in (_count_token("pos", encoding.positive),) if t]
    tokens += [t for t in (_count_token("neg", encoding.negative),) if t]
    if encoding.explanations:
        tokens.append("expl")
    return "+".join(tokens) if tokens else "none"


def _flag(encoding: Encoding, token: str) -> bool:
    return bool(getattr(encoding, _FLAGS[token]))


def parse_encoding(name: str) -> Encoding:
    """Parse an encoding name (`def+pos2`, `full`, `none`, ...) into an `Encoding`.

    >>> parse_encoding("pos2+def").name
    'def+pos2'
    """
    text = name.strip().lower()
    if text == "full":
        return FULL
    if text == "none":
        return Encoding()
    fields: dict[str, object] = {}
    for token in text.split("+"):
        token = token.strip()
        match = _EXAMPLE_TOKEN.match(token)
        if token in _FLAGS:
            key, value = _FLAGS[token], True
        elif match:
            key = "positive" if match.group(1) == "pos" else "negative"
            value = int(match.group(2)) if match.group(2) else None
            if value == 0:
                raise EncodingError(
                    f"encoding {name!r}: {token!r} asks for no examples; leave it out instead"
                )
        else:
            raise EncodingError(
                f"encoding {name!r}: unknown part {token!r}; use 'full', 'none' or parts "
                "joined by '+' from prompt, def, avoid, emphasis, pos, posK, neg, negK, expl"
            )
        if key in fields:
            raise EncodingError(f"encoding {name!r}: {token!r} given twice")
        fields[key] = value
    try:
        return Encoding(**fields)
    except ValueError as error:
        raise EncodingError(f"encoding {name!r}: {error}") from error


# The rows of the ablation in Mishra et al. (2022), "Cross-Task Generalization via Natural
# Language Crowdsourcing Instructions": label in the paper -> encoding name.
PAPER_ENCODINGS: dict[str, str] = {
    "prompt only": "prompt",
    "+definition": "prompt+def",
    "+things to avoid": "prompt+avoid",
    "+emphasis & caution": "prompt+emphasis",
    "+positive examples": "prompt+pos",
    "definition + positive examples": "prompt+def+pos",
    "positive examples only": "pos",
    "full instruction": "full",
}

# Tk-Instruct's default (Wang et al., 2022): definition and two positive examples.
TK_INSTRUCT_DEFAULT = "def+pos2"

# Component names used in reports when a task file lacks what an encoding asks for.
PROMPT, DEFINITION, THINGS_TO_AVOID, EMPHASIS = (
    "prompt",
    "definition",
    "things_to_avoid",
    "emphasis",
)
POSITIVE, NEGATIVE, EXPLANATIONS = "positive_examples", "negative_examples", "explanations"


def _take(examples: list[Example], count: int | None) -> list[Example]:
    return list(examples) if count is None else list(examples[:count])


def missing_components(task: TaskFile, encoding: Encoding) -> list[str]:
    """Components `encoding` asks for that `task` lacks (or has fewer examples than asked).

    The renderer leaves such components out; it never invents text for them.
    """
    missing = []
    wanted_text = (
        (encoding.prompt, PROMPT, task.prompt_text),
        (encoding.definition, DEFINITION, task.definition_text),
        (encoding.things_to_avoid, THINGS_TO_AVOID, task.things_to_avoid_text),
        (encoding.emphasis, EMPHASIS, task.emphasis_text),
    )
    missing += [label for wanted, label, text in wanted_text if wanted and not text]
    for count, label, examples in (
        (encoding.positive, POSITIVE, task.positive_examples),
        (encoding.negative, NEGATIVE, task.negative_examples),
    ):
        if count != 0 and len(examples) < (count or 1):
            missing.append(label)
    if encoding.explanations:
        shown = _take(task.positive_examples, encoding.positive)
        shown += _take(task.negative_examples, encoding.negative)
        if not shown or any(not example.explanation.strip() for example in shown):
            missing.append(EXPLANATIONS)
    return missing


def _example_block(label: str, number: int, example: Example, explanations: bool) -> str:
    lines = [f"{label} {number}:", f"Input: {example.input.strip()}"]
    lines.append(f"Output: {example.output.strip()}")
    if explanations and example.explanation.strip():
        lines.append(f"Explanation: {example.explanation.strip()}")
    if explanations and example.suggestion.strip():
        lines.append(f"Suggestion: {example.suggestion.strip()}")
    return "\n".join(lines)


def instruction_blocks(task: TaskFile, encoding: Encoding) -> list[str]:
    """The instruction part of the prompt for `task` (same for every instance), as text blocks.

    Each present component is one block (`Definition: ...`, `Positive example 1:` with its
    input, output and, with `expl`, explanation); absent components are left out.
    """
    blocks = []
    for wanted, label, text in (
        (encoding.prompt, "Prompt", task.prompt_text),
        (encoding.definition, "Definition", task.definition_text),
        (encoding.things_to_avoid, "Things to avoid", task.things_to_avoid_text),
        (encoding.emphasis, "Emphasis & caution", task.emphasis_text),
    ):
        if wanted and text:
            blocks.append(f"{label}: {text}")
    for label, examples, count in (
        ("Positive example", task.positive_examples, encoding.positive),
        ("Negative example", task.negative_examples, encoding.negative),
    ):
        for number, example in enumerate(_take(examples, count), 1):
            blocks.append(_example_block(label, number, example, encoding.explanations))
    return blocks


COMPLETE_CUE = "Now complete the following example:"


def shows_examples(task: TaskFile, encoding: Encoding) -> bool:
    """True when `encoding` puts at least one of `task`'s examples into the prompt."""
    return bool(
        _take(task.positive_examples, encoding.positive)
        or _take(task.negative_examples, encoding.negative)
    )


def render_prompt(instruction: list[str], instance_input: str, after_examples: bool = False) -> str:
    """The user turn: the instruction blocks, then the instance's input and an `Output:` cue.

    With `after_examples` the input is introduced by `COMPLETE_CUE`, so it does not read as
    one more example.

    >>> render_prompt(["Definition: Name the capital."], "France")
    'Definition: Name the capital.\\n\\nInput: France\\nOutput:'
    """
    query = f"Input: {instance_input.strip()}\nOutput:"
    if after_examples:
        query = f"{COMPLETE_CUE}\n{query}"
    return "\n\n".join([*instruction, query])
