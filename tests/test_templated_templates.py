"""Template parsing: the mirror's 311 promptsource templates, the `|||` split, answer choices."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from generators.templated.render import render
from generators.templated.templates import (
    TemplateError,
    load_template_file,
    load_template_set,
    project_sets,
    promptsource_sets,
)

TEMPLATES_YAML = """\
dataset: demo
templates:
  aaa-1: !Template
    answer_choices: '{{ choices | join(" ||| ") }}'
    id: aaa-1
    jinja: 'Q: {{question}}

      Options: {{ answer_choices | join(", ") }} ||| {{ answer_choices[label] }}'
    metadata: &meta !TemplateMetadata
      choices_in_prompt: true
      languages: [en]
      metrics: [Accuracy]
      original_task: true
    name: with choices
    reference: ''
  bbb-2: !Template
    answer_choices: null
    id: bbb-2
    jinja: '{{question}} ||| {{answer}}'
    metadata: *meta
    name: plain
    reference: ''
"""


def test_all_311_mirrored_templates_parse(mirror: Path) -> None:
    sets = promptsource_sets(mirror)
    templates = {name: load_template_set(name, mirror) for name in sets}
    assert len(sets) == 34
    assert sum(len(ts) for ts in templates.values()) == 311
    assert len(templates["glue/sst2"]) == 5 and len(templates["trec"]) == 18
    for name, parsed in templates.items():
        for template in parsed:
            assert template.template_set == name
            assert template.id and template.name and template.has_target, template.key
    ids = [t.id for ts in templates.values() for t in ts]
    assert len(set(ids)) == 311


def test_project_templates_parse_in_the_same_format() -> None:
    sets = project_sets()
    assert set(sets) == {"project/yelp_polarity", "project/cot_math", "project/cot_qa"}
    for name in sets:
        parsed = load_template_set(name, None)
        assert len(parsed) >= 3
        assert all(t.has_target and t.metadata.languages == ("en",) for t in parsed)


def test_answer_choices_and_separator(tmp_path: Path) -> None:
    path = tmp_path / "templates.yaml"
    path.write_text(TEMPLATES_YAML, encoding="utf-8")
    with_choices, plain = load_template_file(path, "demo")[1], load_template_file(path, "demo")[0]
    assert (with_choices.name, plain.name) == ("with choices", "plain")
    assert with_choices.metadata.choices_in_prompt is True
    assert plain.metadata == with_choices.metadata  # the YAML anchor/alias resolves
    row = {"question": "Colour of the sky?", "choices": ["red", "blue"], "label": 1}
    rendered = render(with_choices, row, random.Random(0))
    assert rendered.prompt == "Q: Colour of the sky?\nOptions: red, blue"
    assert rendered.target == "blue"
    assert rendered.choices == ("red", "blue")
    # A `|||` inside the data never splits the output.
    tricky = render(plain, {"question": "a ||| b", "answer": "c|||d"}, random.Random(0))
    assert (tricky.prompt, tricky.target) == ("a ||| b", "c|||d")


def test_yaml_loader_never_builds_python_objects(tmp_path: Path) -> None:
    path = tmp_path / "templates.yaml"
    path.write_text("templates: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(TemplateError, match="not valid YAML"):
        load_template_file(path, "evil")


def test_malformed_template_names_file_and_template(tmp_path: Path) -> None:
    path = tmp_path / "templates.yaml"
    path.write_text("templates:\n  x1: !Template\n    id: x1\n    name: broken\n")
    with pytest.raises(TemplateError, match=r"templates.yaml: template 'x1': field 'jinja'"):
        load_template_file(path, "bad")


def test_every_mirrored_template_renders_somewhere(mirror: Path) -> None:
    """All 311 templates render: on hand-written Hub-schema rows for the datasets the mirror
    has no raw rows for, and on the mirror's rows for the others."""
    import json

    from generators.templated.render import RenderFailure
    from generators.templated.tasks import TASKS, load_task_rows

    rows: dict[str, list[dict]] = json.loads(
        (Path(__file__).parent / "fixtures" / "promptsource_rows.json").read_text()
    )
    for task in TASKS.values():
        for name in task.template_sets:
            if not name.startswith("project/"):
                rows.setdefault(name, load_task_rows(task, mirror)[:3])
    assert set(rows) == set(promptsource_sets(mirror))
    pairs = rendered = 0
    for name in promptsource_sets(mirror):
        for template in load_template_set(name, mirror):
            outcomes = []
            for row in rows[name]:
                try:
                    outcomes.append(render(template, row, random.Random(0)))
                except RenderFailure as failure:
                    assert failure.reason == "empty_render", (template.key, failure)
            assert outcomes, f"{template.key} renders on no row"
            assert all(o.prompt and o.target for o in outcomes)
            pairs += len(rows[name])
            rendered += len(outcomes)
    # The 59 misses are conditional templates skipping rows they do not apply to (e.g. trec's
    # per-class templates, COPA's cause-only and effect-only templates).
    assert (pairs, rendered) == (637, 578)


def test_without_a_mirror_an_installed_promptsource_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "promptsource" / "templates" / "demo"
    folder.mkdir(parents=True)
    (tmp_path / "promptsource" / "__init__.py").write_text("raise ImportError('not imported')\n")
    (folder / "templates.yaml").write_text(TEMPLATES_YAML, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert [t.name for t in load_template_set("demo", None)] == ["plain", "with choices"]
    assert set(promptsource_sets(None)) == {"demo"}
