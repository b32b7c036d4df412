"""Hostile templates (templates.yaml): each becomes a rejected row with its reason, in bounded
time and memory, never a hang or gigabytes; and end to end, a task whose every template is
over budget fails the build in one line naming the source and `render_budget`."""

from __future__ import annotations

import random
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from corpus import HERE, judge, run_cli, tally_judged

from generators.templated import budget
from generators.templated.render import RenderFailure, render
from generators.templated.templates import Template

PAYLOADS = yaml.safe_load((HERE / "templates.yaml").read_text())
ROW = {"sentence": "a film", "label": 1}


@pytest.mark.parametrize("case", PAYLOADS, ids=[c["name"] for c in PAYLOADS])
def test_hostile_template_is_a_rejected_row_with_a_reason(case):
    template = Template(id="t", name=case["name"], jinja=case["jinja"])
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(RenderFailure) as failure:
            render(template, ROW, random.Random(0))
        seconds = time.monotonic() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert failure.value.reason == case["reason"], failure.value
    assert seconds < budget.MAX_SECONDS * 3 + 5  # a deadline, not a benchmark
    assert peak < 400 * budget.MAX_CHARS  # far below the gigabytes an unbounded render takes
    tally_judged(f"template:{case['name']}")


def test_a_good_template_still_renders():
    template = Template(id="t", name="ok", jinja="{{ sentence|upper }} ||| {{ label }}")
    assert render(template, ROW, random.Random(0)).prompt == "A FILM"


HANG = """dataset: glue
subset: sst2
templates:
  11111111-1111-1111-1111-111111111111: !Template
    answer_choices: negative ||| positive
    id: 11111111-1111-1111-1111-111111111111
    jinja: '{{ sentence|center(3000000000) }} ||| {{ answer_choices[label] }}'
    metadata: !TemplateMetadata
      choices_in_prompt: true
      languages: [en]
      metrics: [Accuracy]
      original_task: true
    name: bomb
    reference: ''
"""


def hostile_mirror(root: Path, mirror: Path, templates: str) -> Path:
    """The real mirror but for promptsource's glue/sst2 templates."""
    fake = root / "mirror"
    fake.mkdir()
    for entry in mirror.iterdir():
        if entry.name != "promptsource":
            (fake / entry.name).symlink_to(entry)
    sst2 = fake / "promptsource" / "templates" / "glue" / "sst2"
    sst2.mkdir(parents=True)
    (sst2 / "templates.yaml").write_text(templates)
    return fake


def test_build_of_only_hostile_templates_fails_naming_render_budget(
    tmp_path, workspace, capfd, mirror, prefect_harness
):
    recipe = tmp_path / "bomb.yaml"
    recipe.write_text(
        "name: tiny\nsources:\n  - name: sst2\n"
        "    generator: {kind: templated, tasks: [sst2], max_rows_per_task: 4}\n"
    )
    fake = hostile_mirror(tmp_path, mirror, HANG)
    outcome = run_cli(["build", recipe, "--output-dir", workspace.out, "--mirror", fake], capfd)
    judge("template:build_all_rejected", outcome, ["sst2", "render_budget"], workspace)
