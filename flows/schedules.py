"""Scheduled runs: `schedules.yaml` validated with pydantic, turned into Prefect deployments.

Each entry names a flow (`build`, `self_instruct`, `train`, `publish`),
one schedule (`cron` or `interval_seconds`) and the flow's parameters. `instructmix serve` serves
them all with `prefect.serve`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_extra_types.timezone_name import TimeZoneName

from instances import InstructmixError
from instances.config_files import read_yaml_file, validate_model

SCHEDULES_FILE = Path(__file__).parent / "schedules.yaml"
FLOWS: dict[str, str] = {
    "build": "flows.build:build_flow",
    "self_instruct": "flows.self_instruct:self_instruct",
    "train": "flows.train:train",
    "publish": "flows.publish:publish",
}


class SchedulesError(InstructmixError):
    """schedules.yaml is missing or wrong; the message names the file, entry and field."""


class ScheduledRun(BaseModel):
    """One deployment: which flow, when, and with which parameters."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", description="deployment name")
    flow: Literal["build", "self_instruct", "train", "publish"]
    description: str = ""
    cron: str | None = Field(default=None, description="cron expression, e.g. '0 2 * * *'")
    interval_seconds: int | None = Field(default=None, ge=1, le=31 * 24 * 3600)
    timezone: TimeZoneName = "UTC"
    parameters: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is not None:
            from prefect.client.schemas.schedules import CronSchedule

            CronSchedule(cron=value)
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> ScheduledRun:
        if (self.cron is None) == (self.interval_seconds is None):
            raise ValueError(f"{self.name}: give exactly one of cron or interval_seconds")
        return self


class Schedules(BaseModel):
    """Everything `instructmix serve` registers, plus the LLM concurrency limit it creates."""

    model_config = ConfigDict(extra="forbid")

    llm_limit: int = Field(default=4, ge=1, le=1024, description="LLM calls at once, all tasks")
    deployments: list[ScheduledRun] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> Schedules:
        names = [d.name for d in self.deployments]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"deployment names must be unique; repeated: {repeated}")
        return self


def load_schedules(path: Path = SCHEDULES_FILE) -> Schedules:
    """Read and validate a schedules file; errors name the file, the field and the fix."""
    data = read_yaml_file(path, SchedulesError)
    return validate_model(Schedules, data, str(path), SchedulesError, "flows/schedules.py")


def load_flow(kind: str) -> Any:
    """The flow object for a schedule's `flow` kind."""
    module_name, attribute = FLOWS[kind].split(":")
    return getattr(importlib.import_module(module_name), attribute)


def check_parameters(entry: ScheduledRun, flow: Any, where: str) -> None:
    """Fail now, not at 2 a.m., when the parameters do not fit the flow or name no recipe."""
    try:
        flow.validate_parameters(entry.parameters)
    except Exception as error:
        raise SchedulesError(f"{where}: deployment {entry.name!r}: {error}") from error
    recipe = entry.parameters.get("recipe")
    if entry.flow == "build" and isinstance(recipe, str):
        from mixtures.recipe import load_recipe

        try:
            load_recipe(recipe)
        except InstructmixError as error:
            raise SchedulesError(f"{where}: deployment {entry.name!r}: {error}") from error


def build_deployments(
    schedules: Schedules, where: str = "schedules.yaml"
) -> tuple[list[Any], list[str]]:
    """The Prefect deployments to serve, and one warning line per entry skipped."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron, Interval

    deployments, skipped = [], []
    for entry in schedules.deployments:
        if not entry.enabled:
            skipped.append(f"{entry.name}: disabled")
            continue
        flow = load_flow(entry.flow)
        check_parameters(entry, flow, where)
        schedule = (
            Cron(entry.cron, timezone=entry.timezone)
            if entry.cron
            else Interval(entry.interval_seconds, timezone=entry.timezone)
        )
        deployments.append(
            flow.to_deployment(
                name=entry.name,
                description=entry.description or None,
                parameters=entry.parameters,
                tags=["instructmix", *entry.tags],
                entrypoint_type=EntrypointType.MODULE_PATH,
                schedules=[schedule],
            )
        )
    return deployments, skipped
