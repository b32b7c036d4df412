"""The dataset spec: where rows come from (Hub or local files) and how they become instances.

One model serves every place that reads data: a recipe source (`kind: dataset`), a templated
task's rows (only the location keys, `DataLocation`) and a decontamination benchmark.

    hub: HuggingFaceTB/smoltalk     # or  path: data/chats.jsonl  (file, glob or folder)
    config: all                     # Hub only
    split: train
    revision: main                  # Hub only
    format: sharegpt                # messages | sharegpt | alpaca | prompt_completion |
                                    # natural_instructions | columns
    columns: {prompt: question, response: answer}   # renames; required for `columns`
    origin: human
    task: smoltalk                  # or task_column: subset
    category: conversation          # or category_column: topic
    lang: en                        # or lang_column: language
    license: apache-2.0

Relative paths are read from the current directory.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from instances.schema import ORIGINS

DataFormat = Literal[
    "messages", "sharegpt", "alpaca", "prompt_completion", "natural_instructions", "columns"
]
Origin = Literal["public_task", "crowdsourced_schema", "self_instruct", "human", "distilled"]
assert set(Origin.__args__) == ORIGINS  # one list of origins: the schema's

# Per format: the fields a `columns` rename may name (instance field -> the file's column).
FORMAT_FIELDS: dict[str, tuple[str, ...]] = {
    "messages": ("messages",),
    "sharegpt": ("conversations",),
    "alpaca": ("instruction", "input", "output", "history", "system"),
    "prompt_completion": ("prompt", "completion"),
    "natural_instructions": ("Definition", "Instances"),
    "columns": ("prompt", "response", "system"),
}


class DataLocation(BaseModel):
    """Where rows live: a Hub dataset (`hub`, `config`, `split`, `revision`) or local `path`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hub: str | None = Field(default=None, min_length=1, description="Hugging Face dataset id")
    path: str | None = Field(
        default=None, min_length=1, description="a local file, a glob or a folder"
    )
    config: str | None = Field(default=None, description="Hub configuration (subset)")
    split: str = Field(default="train", min_length=1, description="which split to read")
    revision: str | None = Field(default=None, description="Hub branch, tag or commit")

    @field_validator("config", "revision")
    @classmethod
    def _hub_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("path") is not None:
            raise ValueError(f"{info.field_name} is for Hub datasets; a local path has none")
        return value

    @model_validator(mode="after")
    def _one_location(self) -> DataLocation:
        if (self.hub is None) == (self.path is None):
            raise ValueError("give exactly one of hub (a dataset id) or path (file, glob, folder)")
        return self

    @property
    def label(self) -> str:
        """A short name of the data: the Hub id, or the file/folder name without suffixes."""
        if self.hub is not None:
            return self.hub
        name = PurePath(self.path or "").name
        return name.split(".")[0] or "data"


class DatasetSpec(DataLocation):
    """Where rows come from and how each becomes an instance (see the module docstring)."""

    format: DataFormat = Field(description="how a row is laid out")
    columns: dict[str, str] = Field(
        default_factory=dict, description="renames: the format's field -> the data's column"
    )
    origin: Origin | None = Field(default=None, description="one of the schema's origins")
    task: str | None = Field(default=None, min_length=1, description="the task of every row")
    task_column: str | None = Field(default=None, min_length=1, description="column: task")
    category: str | None = Field(default=None, min_length=1, description="category of every row")
    category_column: str | None = Field(default=None, min_length=1, description="column: category")
    lang: str | None = Field(default=None, min_length=2, description="ISO 639-1 code of every row")
    lang_column: str | None = Field(default=None, min_length=1, description="column: language")
    license: str = Field(default="unknown", min_length=1, description="license of the rows")

    @field_validator("task_column", "category_column", "lang_column")
    @classmethod
    def _value_or_column(cls, value: str | None, info: ValidationInfo) -> str | None:
        fixed = (info.field_name or "").removesuffix("_column")
        if value is not None and info.data.get(fixed) is not None:
            raise ValueError(f"give {fixed} (one value) or {info.field_name} (a column), not both")
        return value

    @field_validator("columns")
    @classmethod
    def _renames_fit_format(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        fmt = info.data.get("format")
        if fmt is None:  # the format itself failed; its error is reported
            return value
        allowed = FORMAT_FIELDS[fmt]
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise ValueError(
                f"{unknown} are not fields of format {fmt!r}; it renames {list(allowed)}"
            )
        return value

    @model_validator(mode="after")
    def _columns_given(self) -> DatasetSpec:
        if self.format == "columns":
            missing = [key for key in ("prompt", "response") if key not in self.columns]
            if missing:
                raise ValueError(
                    f"format 'columns' needs columns.prompt and columns.response (missing: "
                    f"{missing}), e.g. columns: {{prompt: question, response: answer}}"
                )
        return self

    def column(self, field: str) -> str:
        """The data's column that holds the format's `field` (renamed, or the field itself)."""
        return self.columns.get(field, field)
