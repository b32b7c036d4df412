"""Per-template render counters of the templated generator, and their report extras."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from generators.templated.tasks import TaskSpec
from generators.templated.templates import Template


class RenderStats:
    """Counts rendered and failed (template, row) pairs per task, template and variant."""

    def __init__(self) -> None:
        self._rendered: Counter[tuple[str, str, str]] = Counter()
        self._failed: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
        self._skipped: Counter[tuple[str, str]] = Counter()
        self._tasks: dict[str, dict[str, Any]] = {}
        self._categories: dict[str, str] = {}
        self._sets: dict[str, str] = {}

    def task(self, task: TaskSpec, available: int, used: int, templates: int) -> None:
        """Record a task's raw rows (in the file, sampled) and its number of templates."""
        self._categories[task.name] = task.category
        self._tasks[task.name] = {
            "category": task.category,
            "rows_available": available,
            "rows_used": used,
            "templates": templates,
            "template_sets": list(task.template_sets),
        }

    def not_applicable(self, task: TaskSpec, template: Template, n: int) -> None:
        """Record `n` requested variants that do not apply to the template (not rows)."""
        if n:
            self._skipped[(task.name, template.key)] += n

    def count(self, task: TaskSpec, template: Template, variant: str, reason: str | None) -> None:
        """Record one rendered (reason None) or failed (template, row, variant)."""
        key = (task.name, template.key, variant)
        self._sets[template.key] = template.template_set
        if reason is None:
            self._rendered[key] += 1
        else:
            self._failed[key][reason] += 1

    def _keys(self) -> list[tuple[str, str, str]]:
        return sorted(set(self._rendered) | set(self._failed))

    def template_table(self) -> list[dict[str, Any]]:
        """The tasks x templates x variants table: one dict per combination with its counts."""
        return [
            {
                "task": task,
                "category": self._categories[task],
                "template": template,
                "template_set": self._sets[template],
                "variant": variant,
                "rendered": self._rendered[(task, template, variant)],
                "failed": sum(self._failed[(task, template, variant)].values()),
            }
            for task, template, variant in self._keys()
        ]

    def per_template(self) -> dict[str, dict[str, Any]]:
        """Per task and template: rows rendered, failed, and failures by reason."""
        out: dict[str, dict[str, Any]] = {}
        for task, template, variant in self._keys():
            entry = out.setdefault(
                f"{task}:{template}",
                {
                    "task": task,
                    "template": template,
                    "template_set": self._sets[template],
                    "rendered": 0,
                    "failed": 0,
                    "reasons": {},
                },
            )
            failed = self._failed[(task, template, variant)]
            entry["rendered"] += self._rendered[(task, template, variant)]
            entry["failed"] += sum(failed.values())
            reasons = Counter(entry["reasons"])
            reasons.update(failed)
            entry["reasons"] = dict(sorted(reasons.items()))
        return out

    def render_share(self) -> dict[str, dict[str, Any]]:
        """Per template set (dataset): (template, row) pairs, how many rendered, the share."""
        pairs: Counter[str] = Counter()
        rendered: Counter[str] = Counter()
        for key in self._keys():
            template_set = self._sets[key[1]]
            ok = self._rendered[key]
            pairs[template_set] += ok + sum(self._failed[key].values())
            rendered[template_set] += ok
        return {
            name: {
                "pairs": pairs[name],
                "rendered": rendered[name],
                "share": round(rendered[name] / pairs[name], 4) if pairs[name] else 0.0,
            }
            for name in sorted(pairs)
        }

    def extras(self) -> dict[str, Any]:
        """All counters as `Report.extras` (JSON-ready)."""
        return {
            "templates": self.template_table(),
            "render": self.per_template(),
            "render_share": self.render_share(),
            "tasks": dict(sorted(self._tasks.items())),
            "variants_not_applicable": {
                f"{task}:{template}": n for (task, template), n in sorted(self._skipped.items())
            },
        }
