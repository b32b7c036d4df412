"""The recipe settings of the Natural-Instructions generator (kind `natural_instructions`).

Its own module so that task selection and generation both read it without importing each other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from generators.natural_instructions.encodings import (
    TK_INSTRUCT_DEFAULT,
    EncodingError,
    parse_encoding,
)


class Config(BaseModel):
    """Which Natural-Instructions tasks to read, how to encode them and how many rows to take."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["natural_instructions"] = "natural_instructions"
    tasks_dir: Path | None = Field(
        default=None,
        exclude_if=lambda value: value is None,  # recipes without it keep their lock hash
        description="a folder of SuperNI task files (with its own splits/ if present) "
        "instead of the mirror's or the Hub's",
    )
    encoding: str = Field(
        default=TK_INSTRUCT_DEFAULT,
        description="instruction encoding, e.g. 'def+pos2', 'full', 'prompt+def' (encodings.py)",
    )
    split: Literal["train", "test", "all"] = Field(
        default="train", description="which side of the task split to read"
    )
    split_by: Literal["default", "category"] = Field(
        default="default",
        description="'default': the official train/test task lists; 'category': "
        "leave-one-category-out (test = the tasks of held_out_category)",
    )
    held_out_category: str | None = Field(
        default=None, description="the category held out when split_by is 'category'"
    )
    tasks: list[str] | None = Field(
        default=None, min_length=1, description="read only these task names (within the split)"
    )
    max_per_task: int | None = Field(
        default=100, ge=1, description="at most this many instances per task (None: all)"
    )
    cap_selection: Literal["first", "sample"] = Field(
        default="sample", description="which instances survive the cap: file order or seeded"
    )
    target: Literal["first", "sample"] = Field(
        default="first",
        description="the reference output used as the target when there are several",
    )
    on_missing: Literal["omit", "reject"] = Field(
        default="omit",
        description="a task lacks a component the encoding asks for: leave it out, or "
        "reject the rows (reason missing_component); either way the report lists it",
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            return parse_encoding(value).name
        except EncodingError as error:
            raise ValueError(str(error)) from error

    @model_validator(mode="after")
    def _split_rules(self) -> Config:
        if self.split_by == "category" and not self.held_out_category:
            raise ValueError("split_by 'category' needs held_out_category (the category left out)")
        if self.split_by == "default" and self.held_out_category:
            raise ValueError("held_out_category is only used with split_by: category")
        if self.split_by == "category" and self.split == "all":
            raise ValueError("split 'all' reads every task; choose train or test to hold one out")
        return self
