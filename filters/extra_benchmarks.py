"""Benchmarks a recipe adds to decontamination: any dataset, read through the dataset spec.

    - kind: decontaminate
      benchmarks: [gsm8k, mmlu]               # built-ins
      extra_benchmarks:
        - name: svamp
          data: {path: evals/svamp.jsonl, format: columns,
                 columns: {prompt: Body, response: Answer}}
          text: prompt                        # prompt | response | both

Each row becomes an instance (as in `kind: dataset`); its prompt turns, its response turns or
both are the benchmark's items. Rows that cannot become an instance are not items.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from filters.text import prompt_text, response_text
from instances.dataset_files import location_files
from instances.dataset_rows import Labels, convert_rows
from instances.dataset_spec import DatasetSpec


class ExtraBenchmark(BaseModel):
    """A benchmark given as a dataset spec, and which side of its rows to match."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", description="the benchmark's name")
    data: DatasetSpec = Field(description="where its test items are and their format")
    text: Literal["prompt", "response", "both"] = Field(
        default="prompt", description="match its prompts, its responses or both"
    )

    def key(self) -> str:
        """A stable, hashable key of this benchmark (for the per-process index cache)."""
        return self.model_dump_json()


@lru_cache(maxsize=16)
def _texts(key: str) -> tuple[str, ...]:
    benchmark = ExtraBenchmark.model_validate_json(key)
    labels = Labels(source=benchmark.name, origin="human", template="benchmark", meta={})
    converted = convert_rows(benchmark.data, labels)
    texts: list[str] = []
    for row, reason in zip(converted.rows, converted.reasons, strict=True):
        if reason is not None:
            continue
        if benchmark.text in ("prompt", "both"):
            texts.append(prompt_text(row["messages"]))
        if benchmark.text in ("response", "both"):
            texts.append(response_text(row["messages"]))
    return tuple(text for text in texts if text.strip())


def extra_texts(benchmark: ExtraBenchmark) -> list[str]:
    """The item texts of `benchmark` (read once per process)."""
    return list(_texts(benchmark.key()))


def extra_files(benchmarks: list[ExtraBenchmark]) -> list[Path]:
    """The local files the extra benchmarks read (for the manifest's lock)."""
    return [path for benchmark in benchmarks for path in location_files(benchmark.data)]
