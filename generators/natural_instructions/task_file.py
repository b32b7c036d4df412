"""Natural-Instructions task files: parse and validate one JSON task into a `TaskFile`.

Reads the released Super-NaturalInstructions (v2) layout (`Definition`, `Positive Examples`,
`Negative Examples` with input/output/explanation, `Instances` with a list of outputs,
`Categories`, `Domains`, `Input_language`, `Output_language`, `Source`, `Instance License`)
and the v1 fields where a file has them (`Prompt`, `Things to Avoid`, `Emphasis & Caution`,
examples nested under `Examples`, `reason` for explanation). A file that does not fit fails
with a `SourceError` naming the file and the field, e.g.
`task001_x.json: field 'Instances.3.output': expected a list of strings, got 'yes'`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from instances import SourceError
from instances.config_files import validate_model

TASK_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"


def _as_text_list(value: Any) -> Any:
    """Fields the schema writes as lists of strings may be plain strings in v1 files."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return value


def _joined(parts: list[str]) -> str:
    return "\n".join(part.strip() for part in parts if part.strip())


class Example(BaseModel):
    """A positive or negative example: input, output and why it is (in)correct."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    input: str
    output: str
    explanation: str = ""
    suggestion: str = ""

    @model_validator(mode="before")
    @classmethod
    def _v1_spelling(cls, data: Any) -> Any:
        # v1 files call the explanation `reason`; some outputs are one-item lists.
        if isinstance(data, dict):
            data = dict(data)
            if "explanation" not in data and "reason" in data:
                data["explanation"] = data.pop("reason")
            output = data.get("output")
            if isinstance(output, list) and len(output) == 1 and isinstance(output[0], str):
                data["output"] = output[0]
        return data


class Instance(BaseModel):
    """One task instance: its id, its input and one or more reference outputs."""

    model_config = ConfigDict(extra="ignore")

    id: str = ""
    input: str
    output: list[str]

    @field_validator("output", mode="before")
    @classmethod
    def _single_output(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class TaskFile(BaseModel):
    """One Natural-Instructions task, as its JSON file declares it (v2 keys, v1 where present)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: str = Field(pattern=TASK_NAME_PATTERN, description="the file's stem, e.g. task001_x")
    definition: list[str] = Field(default_factory=list, alias="Definition")
    prompt: list[str] = Field(default_factory=list, alias="Prompt")
    things_to_avoid: list[str] = Field(default_factory=list, alias="Things to Avoid")
    emphasis: list[str] = Field(default_factory=list, alias="Emphasis & Caution")
    positive_examples: list[Example] = Field(default_factory=list, alias="Positive Examples")
    negative_examples: list[Example] = Field(default_factory=list, alias="Negative Examples")
    instances: list[Instance] = Field(alias="Instances")
    categories: list[str] = Field(default_factory=list, alias="Categories")
    domains: list[str] = Field(default_factory=list, alias="Domains")
    reasoning: list[str] = Field(default_factory=list, alias="Reasoning")
    input_language: list[str] = Field(default_factory=list, alias="Input_language")
    output_language: list[str] = Field(default_factory=list, alias="Output_language")
    instruction_language: list[str] = Field(default_factory=list, alias="Instruction_language")
    source: list[str] = Field(default_factory=list, alias="Source")
    contributors: list[str] = Field(default_factory=list, alias="Contributors")
    url: list[str] = Field(default_factory=list, alias="URL")
    instance_license: list[str] = Field(default_factory=list, alias="Instance License")

    @field_validator(
        "definition",
        "prompt",
        "things_to_avoid",
        "emphasis",
        "categories",
        "domains",
        "reasoning",
        "input_language",
        "output_language",
        "instruction_language",
        "source",
        "contributors",
        "url",
        "instance_license",
        mode="before",
    )
    @classmethod
    def _text_list(cls, value: Any) -> Any:
        return _as_text_list(value)

    @model_validator(mode="before")
    @classmethod
    def _v1_examples(cls, data: Any) -> Any:
        # v1 files nest both example lists under `Examples`.
        if isinstance(data, dict) and isinstance(data.get("Examples"), dict):
            data = dict(data)
            nested = data.pop("Examples")
            for key in ("Positive Examples", "Negative Examples"):
                if key not in data and key in nested:
                    data[key] = nested[key]
        return data

    @model_validator(mode="after")
    def _has_instruction(self) -> TaskFile:
        if not self.definition_text and not self.prompt_text:
            raise ValueError("field 'Definition' is empty and there is no v1 'Prompt'")
        return self

    @property
    def definition_text(self) -> str:
        """The definition as one string (several paragraphs joined by newlines)."""
        return _joined(self.definition)

    @property
    def prompt_text(self) -> str:
        """The v1 prompt (a one-line task summary); empty for v2 files."""
        return _joined(self.prompt)

    @property
    def things_to_avoid_text(self) -> str:
        """The v1 "Things to Avoid" text; empty when the file has none."""
        return _joined(self.things_to_avoid)

    @property
    def emphasis_text(self) -> str:
        """The v1 "Emphasis & Caution" text; empty when the file has none."""
        return _joined(self.emphasis)

    @property
    def category(self) -> str | None:
        """The task's first category, or None when the file declares none."""
        return next((c.strip() for c in self.categories if c.strip()), None)

    @property
    def license(self) -> str:
        """The instances' license(s) as one string; 'unknown' when the file declares none."""
        names = [name.strip() for name in self.instance_license if name.strip()]
        return "; ".join(names) if names else "unknown"


def parse_task_data(data: Any, name: str, where: str) -> TaskFile:
    """Validate the decoded JSON of one task into a `TaskFile`; errors name `where` and the field.

    >>> parse_task_data({"Definition": ["Say hi."], "Instances": []}, "task1_x", "t.json").name
    'task1_x'
    """
    if not isinstance(data, dict):
        raise SourceError(
            f"{where}: expected a JSON object of task fields, got {type(data).__name__}"
        )
    return validate_model(TaskFile, {**data, "name": name}, where, SourceError)


def parse_task_file(path: Path) -> TaskFile:
    """Read and validate one task file; a bad file raises `SourceError` naming it and the field."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: task file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SourceError(
            f"{path}: malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from error
    except UnicodeDecodeError as error:
        raise SourceError(f"{path}: not UTF-8 text ({error.reason})") from error
    return parse_task_data(data, path.stem, str(path))


def read_task_list(path: Path) -> list[str]:
    """The task names of a split file (one per line; blank lines and `#` comments skipped)."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: split file not found")
    names = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        name = line.strip()
        if not name or name.startswith("#"):
            continue
        if " " in name or "/" in name:
            raise SourceError(f"{path}: line {number}: expected one task name, got {name!r}")
        names.append(name.removesuffix(".json"))
    return names
