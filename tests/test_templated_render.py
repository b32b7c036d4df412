"""Rendering in the sandbox: escapes refused, failures carry reasons, `choice` is seeded."""

from __future__ import annotations

import random

import pytest

from generators.templated import render as rendering
from generators.templated.render import RenderFailure, render
from generators.templated.templates import Template


def _template(jinja: str, answer_choices: str | None = None) -> Template:
    return Template(id="t", name="t", jinja=jinja, answer_choices=answer_choices)


def _reason(jinja: str, row: dict, answer_choices: str | None = None) -> str:
    with pytest.raises(RenderFailure) as failure:
        render(_template(jinja, answer_choices), row, random.Random(0))
    return failure.value.reason


@pytest.mark.parametrize(
    "jinja",
    [
        "{{ ''.__class__.__mro__ }} ||| x",
        "{{ ''.__class__.__mro__[1].__subclasses__() }} ||| x",
        "{{ range.__init__.__globals__ }} ||| x",
        "{{ text.__len__() }} ||| x",
        "{% set _ = items.append(4) %}{{ items }} ||| x",
        "{{ lipsum.__globals__['os'] }} ||| x",
        "{{ 'x' * 10**9 }} ||| x",
        "{{ ['x'] * 2000000 }} ||| x",
        "{{ 10 ** 100000 }} ||| x",
    ],
)
def test_sandbox_refuses_attribute_access_escapes(jinja: str) -> None:
    row = {"text": "hi", "items": [1, 2, 3]}
    assert _reason(jinja, row) == rendering.UNSAFE_TEMPLATE
    assert row == {"text": "hi", "items": [1, 2, 3]}  # the row is never changed


def test_bounded_arithmetic_still_works() -> None:
    rendered = render(
        _template("{{ '-' * 3 }}{{ 2 ** 10 }}{{ 3 * 4 }} ||| {{ [1] * 2 }}"), {}, random.Random(0)
    )
    assert (rendered.prompt, rendered.target) == ("---102412", "[1, 1]")


def test_no_file_system_access() -> None:
    assert _reason("{% include '/etc/passwd' %} ||| x", {}) == rendering.RENDER_ERROR


@pytest.mark.parametrize(
    ("jinja", "row", "reason"),
    [
        ("{{ missing }} ||| x", {}, rendering.UNDEFINED_VALUE),
        ("{{ answers.text[0] }} ||| x", {"answers": {"text": []}}, rendering.UNDEFINED_VALUE),
        ("{% if a %}{{a}} ||| b{% endif %}", {"a": ""}, rendering.EMPTY_RENDER),
        ("{{a}} without a target", {"a": "q"}, rendering.NO_TARGET),
        ("{{a}} ||| b ||| c", {"a": "q"}, rendering.EXTRA_SEPARATOR),
        ("   ||| {{a}}", {"a": "q"}, rendering.EMPTY_INPUT),
        ("{{a}} ||| ", {"a": "q"}, rendering.EMPTY_TARGET),
        ("{{a}} ||| {{ 1 // a }}", {"a": 0}, rendering.RENDER_ERROR),
        ("{{a}} ||| {{ a | int }", {"a": 0}, rendering.TEMPLATE_SYNTAX),
    ],
)
def test_failures_have_reasons(jinja: str, row: dict, reason: str) -> None:
    assert _reason(jinja, row) == reason


def test_empty_answer_choices_fail() -> None:
    reason = _reason(
        "{{a}} ||| {{answer_choices[0]}}", {"a": "q", "c": []}, "{{ c | join('|||') }}"
    )
    assert reason == rendering.EMPTY_CHOICES


def test_promptsource_features() -> None:
    template = _template(
        "{% set seq = ['A', 'B', 'C', 'D'] %}{{ seq | choice }}: {{ question.lower() }}\n"
        "{% for k, t in zip(range(choices | length), choices) %}{{ k }}={{ t }} {% endfor %}"
        "||| {{ answer_choices[choices.index('y')] | replace('_', ' ') }}",
        "{{ choices | join(' ||| ') }}",
    )
    row = {"question": "PICK", "choices": ["x", "y_z"]}
    row["choices"][1] = "y"
    picks = {render(template, row, random.Random(seed)).prompt[0] for seed in range(40)}
    assert picks == {"A", "B", "C", "D"}
    first = render(template, row, random.Random(7))
    assert first == render(template, row, random.Random(7))  # `choice` is seeded
    assert first.prompt[1:] == ": pick\n0=x 1=y"
    assert first.target == "y"
