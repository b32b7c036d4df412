"""The prompt-template model and the reader of promptsource `templates.yaml` files.

A template is a Jinja body whose rendered text is split on `|||` into the input (prompt) and
the target, with optional `answer_choices` (itself a Jinja body whose rendering is split on
`|||`). promptsource stores templates as YAML with custom tags (`!Template`,
`!TemplateMetadata`); we read them with a SafeLoader subclass that turns every `!Tag` mapping
into a plain dict, so reading a template file never constructs Python objects.

The project's own templates (for tasks promptsource has none for) live beside this module in
`project_templates/*.yaml`, in the same format.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from instances import InstructmixError
from instances.config_files import read_yaml_file, validate_model

SEPARATOR = "|||"
PROMPTSOURCE_DIR = "promptsource/templates"
PROJECT_DIR = Path(__file__).parent / "project_templates"
PROJECT_PREFIX = "project/"


class TemplateError(InstructmixError):
    """A template file is missing or malformed; the message names the file and the template."""


class TemplateMetadata(BaseModel):
    """promptsource's metadata of a template (what it asks, how it is scored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    original_task: bool | None = Field(
        default=None, description="True when the template asks the dataset's original task"
    )
    choices_in_prompt: bool | None = Field(
        default=None, description="True when the prompt already lists the answer choices"
    )
    metrics: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en",)


class Template(BaseModel):
    """One prompt template: a Jinja body `input ||| target`, answer choices and metadata."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    jinja: str = Field(min_length=1, description="Jinja body; `|||` separates input and target")
    answer_choices: str | None = Field(
        default=None, description="Jinja body rendering to choices separated by `|||`"
    )
    metadata: TemplateMetadata = Field(default_factory=TemplateMetadata)
    reference: str = ""
    template_set: str = Field(default="", description="e.g. 'glue/sst2' or 'project/gsm8k'")

    @property
    def key(self) -> str:
        """The template's stable label: its set and its name, e.g. 'glue/sst2/review'."""
        return f"{self.template_set}/{self.name}"

    @property
    def has_target(self) -> bool:
        """True when the body has the `|||` separator, i.e. the template yields a target."""
        return SEPARATOR in self.jinja


class _TagLoader(yaml.SafeLoader):
    """A SafeLoader that reads any `!Tag` mapping (promptsource's classes) as a plain dict."""


def _tagged_mapping(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_TagLoader.add_multi_constructor("!", _tagged_mapping)


def read_yaml(path: Path) -> Any:
    """Parse a promptsource-format YAML file safely (custom tags become dicts)."""
    return read_yaml_file(path, TemplateError, _TagLoader)


def parse_templates(data: Any, template_set: str, where: str) -> tuple[Template, ...]:
    """The templates of one parsed `templates.yaml`, sorted by name; errors name the template."""
    if not isinstance(data, dict) or not isinstance(data.get("templates"), dict):
        raise TemplateError(f"{where}: expected a mapping with a 'templates' mapping")
    parsed = []
    for key, raw in data["templates"].items():
        if not isinstance(raw, dict):
            raise TemplateError(f"{where}: template {key!r} is not a mapping")
        fields = {k: v for k, v in raw.items() if v is not None}
        fields.setdefault("id", str(key))
        fields["template_set"] = template_set
        if isinstance(fields.get("metadata"), dict):
            fields["metadata"] = {k: v for k, v in fields["metadata"].items() if v is not None}
        parsed.append(validate_model(Template, fields, f"{where}: template {key!r}", TemplateError))
    names = [t.name for t in parsed]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise TemplateError(f"{where}: template names repeated: {repeated}")
    return tuple(sorted(parsed, key=lambda t: t.name))


def load_template_file(path: Path, template_set: str) -> tuple[Template, ...]:
    """Read one `templates.yaml` into templates labelled with `template_set`."""
    return parse_templates(read_yaml(path), template_set, str(path))


def promptsource_root(mirror: Path | None) -> Path:
    """The folder of promptsource's template sets: the mirror's, else an installed promptsource.

    The installed package is located without importing it.
    """
    if mirror is not None:
        root = Path(mirror) / PROMPTSOURCE_DIR
        if not root.is_dir():
            raise TemplateError(f"{root}: no promptsource templates folder in the mirror")
        return root
    spec = importlib.util.find_spec("promptsource")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if (Path(location) / "templates").is_dir():
                return Path(location) / "templates"
    raise TemplateError(
        "promptsource templates are read from a local mirror (set INSTRUCTMIX_MIRROR or "
        "--mirror) or from an installed promptsource package; neither was found"
    )


def promptsource_sets(mirror: Path | None) -> dict[str, Path]:
    """Every promptsource template set: 'glue/sst2' -> its templates.yaml."""
    root = promptsource_root(mirror)
    return {
        path.parent.relative_to(root).as_posix(): path
        for path in sorted(root.rglob("templates.yaml"))
    }


def project_sets() -> dict[str, Path]:
    """The project's own template sets: 'project/gsm8k' -> its YAML file."""
    return {f"{PROJECT_PREFIX}{p.stem}": p for p in sorted(PROJECT_DIR.glob("*.yaml"))}


def template_set_path(template_set: str, mirror: Path | None) -> Path:
    """The file of a template set: project sets ship with the code, the others in the mirror."""
    if template_set.startswith(PROJECT_PREFIX):
        path = PROJECT_DIR / f"{template_set.removeprefix(PROJECT_PREFIX)}.yaml"
    else:
        path = promptsource_root(mirror) / template_set / "templates.yaml"
    if not path.is_file():
        raise TemplateError(f"{path}: template set {template_set!r} not found")
    return path


@lru_cache(maxsize=128)
def _cached_set(path: Path, template_set: str, mtime_ns: int) -> tuple[Template, ...]:
    return load_template_file(path, template_set)


def load_template_set(template_set: str, mirror: Path | None) -> tuple[Template, ...]:
    """The templates of one set (e.g. 'glue/sst2', 'project/gsm8k'), sorted by name."""
    path = template_set_path(template_set, mirror)
    return _cached_set(path, template_set, path.stat().st_mtime_ns)
