"""Empty and length limits on prompt and response, in characters.

Reject reasons: `empty_prompt`, `empty_response`, `prompt_too_short`, `prompt_too_long`,
`response_too_short`, `response_too_long` (the first that applies).
"""

from __future__ import annotations

from typing import Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from filters.dispatch import Verdicts
from filters.text import prompts_and_responses
from instances.context import StageContext

EMPTY_PROMPT = "empty_prompt"
EMPTY_RESPONSE = "empty_response"
PROMPT_TOO_SHORT = "prompt_too_short"
PROMPT_TOO_LONG = "prompt_too_long"
RESPONSE_TOO_SHORT = "response_too_short"
RESPONSE_TOO_LONG = "response_too_long"


class Config(BaseModel):
    """Character bounds on the prompt and the response (stripped)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["length"] = "length"
    min_prompt_chars: int = Field(default=1, ge=1)
    max_prompt_chars: int = Field(default=20_000, ge=1)
    min_response_chars: int = Field(default=1, ge=1)
    max_response_chars: int = Field(default=20_000, ge=1)

    @model_validator(mode="after")
    def _bounds_ordered(self) -> Config:
        if self.min_prompt_chars > self.max_prompt_chars:
            raise ValueError("min_prompt_chars must not exceed max_prompt_chars")
        if self.min_response_chars > self.max_response_chars:
            raise ValueError("min_response_chars must not exceed max_response_chars")
        return self


def reason_for(prompt: str, response: str, config: Config) -> str | None:
    """The reject reason of one prompt/response pair, or None to keep it."""
    prompt, response = prompt.strip(), response.strip()
    if not prompt:
        return EMPTY_PROMPT
    if not response:
        return EMPTY_RESPONSE
    if len(prompt) < config.min_prompt_chars:
        return PROMPT_TOO_SHORT
    if len(prompt) > config.max_prompt_chars:
        return PROMPT_TOO_LONG
    if len(response) < config.min_response_chars:
        return RESPONSE_TOO_SHORT
    if len(response) > config.max_response_chars:
        return RESPONSE_TOO_LONG
    return None


def verdicts(table: pa.Table, config: Config, ctx: StageContext | None = None) -> Verdicts:
    """Judge rows whose prompt or response is empty, too short or too long.

    Columns read: messages. Verdicts: one reason above, or None.
    """
    prompts, responses = prompts_and_responses(table)
    reasons = [reason_for(p, r, config) for p, r in zip(prompts, responses, strict=True)]
    return Verdicts(reasons)
