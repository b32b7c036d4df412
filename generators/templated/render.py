"""Rendering templates on raw rows, inside Jinja's sandbox.

Templates are data: they are rendered with `ImmutableSandboxedEnvironment`, which refuses
access to Python internals (`__class__`, `__globals__`, ...), calls of unsafe callables and
in-place changes of the row (`list.append`), and has no loader, so a template reaches neither
the file system nor the network. Each render is bounded in time and size (see `budget`): `*`,
`**`, `+`, `%`, `~`, every filter and method call are checked before they build a huge value,
the output is counted as it streams, and a render past its deadline is interrupted. Missing
fields raise instead of rendering as blanks.

What the promptsource templates use is supported: `answer_choices` (a Jinja body split on
`|||`), the `choice` filter (a random pick, seeded per row), `zip` and `range`, and Jinja's
own filters. A `|||` inside the row's text is protected so it cannot split the output.

Failure reasons (`RenderFailure.reason`): `unsafe_template`, `undefined_value`,
`template_syntax`, `render_error`, `no_target`, `extra_separator`, `empty_input`,
`empty_target`, `empty_choices`, `empty_render` (a conditional template that skips the row),
`render_budget` (the render ran past `budget.MAX_SECONDS` or built more than `MAX_CHARS`).
"""

from __future__ import annotations

import contextvars
import functools
import random
import re
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from generators.templated import budget
from generators.templated.templates import SEPARATOR, Template
from instances.lifecycle import check_stop

UNSAFE_TEMPLATE = "unsafe_template"
UNDEFINED_VALUE = "undefined_value"
TEMPLATE_SYNTAX = "template_syntax"
RENDER_ERROR = "render_error"
NO_TARGET = "no_target"
EXTRA_SEPARATOR = "extra_separator"
EMPTY_INPUT = "empty_input"
EMPTY_TARGET = "empty_target"
EMPTY_CHOICES = "empty_choices"
EMPTY_RENDER = "empty_render"
RENDER_BUDGET = "render_budget"

# Stands in for a `|||` that occurs in the data, so only the template's own separators split.
_PROTECTED = "\ue000\ue001\ue000"
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")
MAX_RESULT = budget.MAX_CHARS
MAX_EXPONENT = 64
_RNG: contextvars.ContextVar[random.Random] = contextvars.ContextVar("template_rng")


class RenderFailure(Exception):
    """A template could not be rendered on a row: a reason code and a one-line detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Rendered:
    """One rendered (template, row): the prompt, the target and the answer choices."""

    prompt: str
    target: str
    choices: tuple[str, ...]


def _choice(items: Any) -> Any:
    """Jinja filter: one item of `items`, picked with the row's seeded random generator."""
    items = list(items)
    if not items:
        raise ValueError("choice of an empty sequence")
    return _RNG.get().choice(items)


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator with `~` routed through the size-checked `bounded_concat`."""

    def visit_Concat(self, node: jinja2.nodes.Concat, frame: Any) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _TemplateSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, also refusing operations whose result would be huge (memory bombs)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _BoundedCodeGenerator
    bounded_concat = staticmethod(budget.bounded_concat)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """Apply a binary operator; refuse `'x' * 10**9` style results over `MAX_RESULT`."""
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent {right} is above the limit {MAX_EXPONENT}")
            return left**right
        if operator == "+":
            if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
                budget.check_size(len(left) + len(right), "'+'")
            return left + right
        if operator == "%":
            arguments = right if isinstance(right, tuple) else (right,)
            if isinstance(left, str):
                budget.check_args("'%'", arguments, {})
                budget.check_format_string(left, "'%'")
            return budget.check_result(left % right, "'%'")
        for sequence, count in ((left, right), (right, left)):
            repeats = isinstance(sequence, str | list | tuple) and isinstance(count, int)
            if repeats and len(sequence) * count > MAX_RESULT:
                raise SecurityError(f"repeating a sequence beyond {MAX_RESULT:,} items")
        return left * right

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        """Call `__obj` from the template, with its size arguments and result bounded."""
        name = getattr(__obj, "__name__", "call")
        budget.check_args(name, args, kwargs)
        subject = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        budget.check_size(budget.estimated_size(name, subject, args, kwargs), name)
        result = super().call(__context, __obj, *args, **kwargs)
        return budget.check_result(result, name)


_PASSED = (jinja2.runtime.Context, jinja2.Environment, jinja2.nodes.EvalContext)


def _bounded_filter(name: str, function: Any) -> Any:
    """`function` (a Jinja filter) with its size arguments and result bounded."""

    @functools.wraps(function)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        values = args[1:] if args and isinstance(args[0], _PASSED) else args
        if len(values) > 1 or kwargs:
            budget.check_args(f"|{name}", tuple(values[1:]), kwargs)
        if values and name in budget.GROWING:
            size = budget.estimated_size(name, values[0], tuple(values[1:]), kwargs)
            budget.check_size(size, f"|{name}")
        return budget.check_result(function(*args, **kwargs), f"|{name}")

    return bounded


def _make_environment() -> ImmutableSandboxedEnvironment:
    env = _TemplateSandbox(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    env.filters["choice"] = _choice
    env.filters = {name: _bounded_filter(name, f) for name, f in env.filters.items()}
    env.globals["zip"] = zip
    return env


ENVIRONMENT = _make_environment()
_COMPILED: dict[str, jinja2.Template] = {}


def _compiled(source: str) -> jinja2.Template:
    compiled = _COMPILED.get(source)
    if compiled is None:
        try:
            compiled = ENVIRONMENT.from_string(source)
        except TemplateSyntaxError as error:
            raise RenderFailure(TEMPLATE_SYNTAX, f"line {error.lineno}: {error.message}") from None
        _COMPILED[source] = compiled
    return compiled


def protect(value: Any) -> Any:
    """`value` with every `|||` in its strings replaced by a placeholder (a copy)."""
    if isinstance(value, str):
        return value.replace(SEPARATOR, _PROTECTED)
    if isinstance(value, dict):
        return {key: protect(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [protect(item) for item in value]
    return value


def _restore(text: str) -> str:
    return _BLANK_LINES.sub("\n\n", text.replace(_PROTECTED, SEPARATOR)).strip()


def render_text(source: str, variables: dict[str, Any], rng: random.Random) -> str:
    """Render one Jinja body in the sandbox; failures become `RenderFailure` with a reason."""
    compiled = _compiled(source)
    token = _RNG.set(rng)
    try:
        return _render_bounded(compiled, variables)
    except budget.RenderTimeout:
        raise RenderFailure(
            RENDER_BUDGET, f"render took over {budget.MAX_SECONDS:g}s; it was stopped"
        ) from None
    except budget.RenderBudgetExceeded as error:
        raise RenderFailure(RENDER_BUDGET, str(error)) from None
    except RecursionError:
        raise RenderFailure(RENDER_BUDGET, "recursion too deep") from None
    except MemoryError:
        raise RenderFailure(RENDER_BUDGET, "out of memory") from None
    except SecurityError as error:
        raise RenderFailure(UNSAFE_TEMPLATE, str(error)) from None
    except UndefinedError as error:
        raise RenderFailure(UNDEFINED_VALUE, str(error)) from None
    except TemplateSyntaxError as error:
        raise RenderFailure(TEMPLATE_SYNTAX, f"line {error.lineno}: {error.message}") from None
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as error:
        raise RenderFailure(RENDER_ERROR, f"{type(error).__name__}: {error}") from None
    except jinja2.TemplateError as error:
        raise RenderFailure(RENDER_ERROR, f"{type(error).__name__}: {error}") from None
    finally:
        _RNG.reset(token)


def _render_bounded(compiled: jinja2.Template, variables: dict[str, Any]) -> str:
    """Render with the watchdog armed, counting the output as it streams."""
    check_stop()  # a build asked to stop (SIGTERM/SIGINT) renders no further row
    budget.WATCHDOG.arm(budget.MAX_SECONDS)
    try:
        pieces: list[str] = []
        append, size, limit = pieces.append, 0, budget.MAX_CHARS
        for piece in compiled.root_render_func(compiled.new_context(variables)):
            size += len(piece)
            if size > limit:
                budget.check_size(size, "the rendered text")
            append(piece)
    finally:
        fired = budget.WATCHDOG.disarm()
    if fired:  # the deadline passed as the render returned: over budget all the same
        raise budget.RenderTimeout
    return "".join(pieces)


def answer_choices(template: Template, row: dict[str, Any], rng: random.Random) -> tuple[str, ...]:
    """The template's answer choices for `row` (empty when the template declares none)."""
    if not template.answer_choices:
        return ()
    text = render_text(template.answer_choices, protect(row), rng)
    choices = tuple(_restore(part) for part in text.split(SEPARATOR))
    if not any(choices):
        raise RenderFailure(EMPTY_CHOICES, "answer_choices rendered to nothing")
    return choices


def render(template: Template, row: dict[str, Any], rng: random.Random) -> Rendered:
    """Render `template` on `row`: prompt and target split on `|||`, with the answer choices.

    Raises `RenderFailure` (reason code + detail) when the template does not apply to the row.

    >>> from generators.templated.templates import Template
    >>> t = Template(id="1", name="q", jinja="{{a}}? ||| {{answer_choices[label]}}",
    ...              answer_choices="no ||| yes")
    >>> render(t, {"a": "Sunny", "label": 1}, random.Random(0))
    Rendered(prompt='Sunny?', target='yes', choices=('no', 'yes'))
    """
    choices = answer_choices(template, row, rng)
    variables = protect(row)
    variables["answer_choices"] = [choice.replace(SEPARATOR, _PROTECTED) for choice in choices]
    text = render_text(template.jinja, variables, rng)
    parts = text.split(SEPARATOR)
    if len(parts) == 1:
        if not text.strip():
            raise RenderFailure(EMPTY_RENDER, "template rendered nothing (it skips this row)")
        raise RenderFailure(NO_TARGET, "rendered text has no '|||' separator")
    if len(parts) > 2:
        raise RenderFailure(EXTRA_SEPARATOR, f"rendered text has {len(parts) - 1} separators")
    prompt, target = _restore(parts[0]), _restore(parts[1])
    if not prompt:
        raise RenderFailure(EMPTY_INPUT, "input part rendered empty")
    if not target:
        raise RenderFailure(EMPTY_TARGET, "target part rendered empty")
    return Rendered(prompt, target, choices)
