"""Rendering throughput of the templated generator against a plain (unsandboxed) Jinja baseline.

Baseline `plain_jinja`: what promptsource itself does, `jinja2.Environment().from_string(body)
.render(row)` then a split on `|||`, with no sandbox, no `|||` protection and no failure
reasons. Ours: `render.render` in `ImmutableSandboxedEnvironment`. Same (template, row) pairs,
same run. Also times the whole generator (rendering plus instance rows and ids).

Run: `python -m benchmarks.templated_render [--rows 200]`; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path

import jinja2

from benchmarks import default_mirror
from generators.templated.generator import Config, generate, task_templates
from generators.templated.render import RenderFailure, render
from generators.templated.tasks import TASKS, load_task_rows
from instances.context import StageContext

_USES_CHOICE = re.compile(r"\|\s*choice\b")


def _pairs(mirror: Path, rows_per_task: int) -> list[tuple]:
    pairs = []
    for task in TASKS.values():
        rows = load_task_rows(task, mirror)[:rows_per_task]
        for template in task_templates(task, mirror, False):
            pairs += [(template, row) for row in rows]
    return pairs


def _plain(pairs: list[tuple]) -> tuple[float, list]:
    env = jinja2.Environment()
    env.filters["choice"] = random.Random(0).choice
    env.globals["zip"] = zip
    compiled: dict[str, jinja2.Template] = {}

    def body_of(source: str) -> jinja2.Template:
        if source not in compiled:
            compiled[source] = env.from_string(source)
        return compiled[source]

    out = []
    started = time.perf_counter()
    for template, row in pairs:
        choices = []
        if template.answer_choices:
            rendered = body_of(template.answer_choices).render(row)
            choices = [c.strip() for c in rendered.split("|||")]
        rendered = body_of(template.jinja).render(**row, answer_choices=choices)
        parts = [p.strip() for p in rendered.split("|||")]
        out.append(parts)
    return time.perf_counter() - started, out


def _ours(pairs: list[tuple]) -> tuple[float, list]:
    out = []
    started = time.perf_counter()
    for template, row in pairs:
        try:
            rendered = render(template, row, random.Random(0))
            out.append([rendered.prompt, rendered.target])
        except RenderFailure:
            out.append(None)
    return time.perf_counter() - started, out


def main() -> None:
    """Time both renderers on the same pairs and the full generator; print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200, help="rows per task")
    args = parser.parse_args()
    mirror = default_mirror()
    pairs = _pairs(mirror, args.rows)
    _ours(pairs[:200])  # warm the template caches of both sides alike
    _plain(pairs[:200])
    plain_s, plain_out = _plain(pairs)
    ours_s, ours_out = _ours(pairs)
    # Compare where both rendered and no random `choice` is drawn (the draws differ by design).
    comparable = [
        (a, b)
        for (template, _), a, b in zip(pairs, plain_out, ours_out, strict=True)
        if b is not None and not _USES_CHOICE.search(template.jinja)
    ]
    same = sum(1 for a, b in comparable if a == b)
    started = time.perf_counter()
    result = generate(
        Config(templates="all", max_rows_per_task=args.rows), StageContext(mirror=mirror)
    )
    generate_s = time.perf_counter() - started
    print(f"{len(pairs)} (template, row) pairs over {len(TASKS)} tasks")
    print(f"plain_jinja: {plain_s:.2f} s ({len(pairs) / plain_s:,.0f} pairs/s)")
    print(f"ours (sandboxed): {ours_s:.2f} s ({len(pairs) / ours_s:,.0f} pairs/s)")
    print(f"generate (incl. loading, ids, table): {generate_s:.2f} s, {result.kept.num_rows} kept")
    print(f"identical output on {same}/{len(comparable)} pairs both rendered (no `choice`)")
    print(
        json.dumps(
            {
                "bench": "templated_render",
                "pairs": len(pairs),
                "ours_s": round(ours_s, 3),
                "baseline_s": round(plain_s, 3),
                "ratio": round(ours_s / plain_s, 2),
                "agreement": round(same / len(comparable), 4),
                "generate_s": round(generate_s, 3),
                "generate_rows_per_s": round(result.report.rows_in / generate_s),
            }
        )
    )


if __name__ == "__main__":
    main()
