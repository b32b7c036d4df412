"""FLAN-style variants of a rendered template: options, few-shot exemplars, chain of thought.

- `zs_noopt`: zero-shot, the template as written.
- `zs_opt`: zero-shot with the answer options appended (only for templates that have answer
  choices and do not already list them in the prompt).
- `fs`: few-shot: `k` exemplars of the same task rendered with the same template, then the
  row; an exemplar is never the row itself nor a row with the same prompt text.
- `cot`: chain of thought (tasks with a rationale column): a reasoning instruction before
  the prompt, and the target is the rationale followed by the answer.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from generators.templated.render import Rendered, RenderFailure
from generators.templated.templates import Template

Variant = Literal["zs_opt", "zs_noopt", "fs", "cot"]

NO_EXEMPLARS = "no_exemplars"
EMPTY_RATIONALE = "empty_rationale"

COT_TRIGGERS: tuple[str, ...] = (
    "Answer the question below. Let's think step by step.",
    "Think it through step by step, then give the answer.",
    "Explain your reasoning first, then answer.",
    "Give the rationale before the final answer.",
)
EXEMPLAR_TRIES_PER_SHOT = 8


@dataclass(frozen=True)
class VariantText:
    """The prompt and target of one variant, plus the exemplar rows it used (few-shot)."""

    prompt: str
    target: str
    exemplar_rows: tuple[int, ...] = ()


def applicable(variant: str, template: Template, has_rationale: bool) -> bool:
    """Whether `variant` makes sense for `template` on a task (with or without rationales)."""
    if variant == "zs_opt":
        return bool(template.answer_choices) and not template.metadata.choices_in_prompt
    if variant == "cot":
        return has_rationale
    return True


def options_block(choices: tuple[str, ...]) -> str:
    """The FLAN options suffix: a header and one `- choice` line per answer choice.

    >>> print(options_block(("no", "yes")))
    Options:
    - no
    - yes
    """
    return "Options:\n" + "\n".join(f"- {choice}" for choice in choices)


def zero_shot(rendered: Rendered, with_options: bool) -> VariantText:
    """The zero-shot prompt and target, with the options appended when asked for."""
    prompt = rendered.prompt
    if with_options and rendered.choices:
        prompt = f"{prompt}\n\n{options_block(rendered.choices)}"
    return VariantText(prompt, rendered.target)


def chain_of_thought(rendered: Rendered, rationale: Any, rng: random.Random) -> VariantText:
    """The CoT prompt (a reasoning instruction first) and target (rationale, then the answer)."""
    rationale = str(rationale or "").strip()
    if not rationale:
        raise RenderFailure(EMPTY_RATIONALE, "the row has no rationale for a CoT target")
    trigger = rng.choice(COT_TRIGGERS)
    target = f"{rationale}\nSo the answer is {rendered.target}."
    return VariantText(f"{trigger}\n\n{rendered.prompt}", target)


def pick_exemplars(
    row_index: int,
    row_prompt: str,
    n_rows: int,
    k: int,
    rng: random.Random,
    render_row: Callable[[int], Rendered],
) -> list[tuple[int, Rendered]]:
    """`k` exemplars: other rows of the task that render with the template, drawn at random.

    Never the row itself and never a row whose prompt equals the row's (a duplicate would
    leak the answer). Raises `RenderFailure(no_exemplars)` when `k` cannot be found.
    """
    chosen: list[tuple[int, Rendered]] = []
    seen = {row_index}
    tries = 0
    while len(chosen) < k and tries < k * EXEMPLAR_TRIES_PER_SHOT and len(seen) < n_rows:
        tries += 1
        candidate = rng.randrange(n_rows)
        if candidate in seen:
            continue
        seen.add(candidate)
        try:
            rendered = render_row(candidate)
        except RenderFailure:
            continue
        if rendered.prompt == row_prompt:
            continue
        chosen.append((candidate, rendered))
    if len(chosen) < k:
        raise RenderFailure(
            NO_EXEMPLARS, f"found {len(chosen)} of {k} exemplars that render with the template"
        )
    return chosen


def few_shot(rendered: Rendered, exemplars: list[tuple[int, Rendered]]) -> VariantText:
    """The few-shot prompt: each exemplar's prompt and answer, then the row's prompt."""
    shots = [f"{shot.prompt}\n{shot.target}" for _, shot in exemplars]
    prompt = "\n\n".join([*shots, rendered.prompt])
    return VariantText(prompt, rendered.target, tuple(index for index, _ in exemplars))
