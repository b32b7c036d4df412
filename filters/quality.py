"""Quality heuristics on prompt and response, each with its own reject reason.

Checked in this order; the first that applies is the row's reason:

| reason | rule (response unless said) |
| --- | --- |
| `response_equals_prompt` | the response repeats the prompt (after NFKC, case, whitespace) |
| `refusal` | a refusal: "I'm sorry, but I can't...", "I cannot fulfill...", ... |
| `ai_disclaimer` | AI boilerplate: "As an AI language model...", "I don't have personal opinions" |
| `placeholder_text` | prompt or response holds lorem ipsum, `[insert ...]`, `<noinput>`, ... |
| `unbalanced_code_fence` | an odd number of ``` fences in the prompt or the response |
| `mostly_non_alphabetic` | fewer than `min_alpha_fraction` letters among non-space characters |
| `repetitive` | more than `max_repetition` of the response's word n-grams are repeats |
| `pii_email`, `pii_phone`, `pii_url` | personal data of a kind set to `drop` (prompt or response) |

Empty, too short and too long texts are the `length` filter's job. Masking personal data
changes rows, so it is a transform of its own (`kind: pii_mask`, filters/pii.py), not this filter.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from filters import pii
from filters.dispatch import Verdicts
from filters.text import prompts_and_responses
from instances.context import StageContext

RESPONSE_EQUALS_PROMPT = "response_equals_prompt"
REFUSAL = "refusal"
AI_DISCLAIMER = "ai_disclaimer"
PLACEHOLDER_TEXT = "placeholder_text"
UNBALANCED_CODE_FENCE = "unbalanced_code_fence"
MOSTLY_NON_ALPHABETIC = "mostly_non_alphabetic"
REPETITIVE = "repetitive"
PII_REASONS = {kind: f"pii_{kind}" for kind in pii.PII_KINDS}

REFUSAL_PATTERN = (
    r"(?i)^\W*(?:i'?m sorry|i am sorry|sorry|unfortunately|i apologi[sz]e)?[, ]*(?:but )?"
    r"(?:i|we) (?:can ?not|can't|cannot|won't|will not|am (?:not able|unable)|'m (?:not able|"
    r"unable)|am not allowed|do not feel comfortable|don't feel comfortable) "
    r"(?:to )?(?:help(?: you| with|[.,!]|$)|assist|comply|fulfil|fulfill|provide|answer|do that|"
    r"complete|create|"
    r"generate|write|perform|engage|respond|browse|access|share)"
)
AI_DISCLAIMER_PATTERN = (
    r"(?i)\bas an? (?:ai|artificial intelligence|large language model|language model|"
    r"ai language model|ai assistant|digital assistant|virtual assistant|chatbot)(?:[ ,.;:!]|$)"
    r"|\bi (?:am|'m) (?:just |only )?an? (?:ai|artificial intelligence|language model)\b"
    r"|\bi (?:do not|don't) have (?:personal (?:opinions|beliefs|feelings|experiences|"
    r"preferences)|the ability to (?:browse|access))"
    r"|\bmy (?:knowledge|training data) (?:cutoff|cut-off)\b"
)
PLACEHOLDER_PATTERN = (
    r"(?i)\blorem ipsum\b|\[(?:insert|your|add|enter|name of|placeholder)\b[^\]\n]{0,60}\]"
    r"|<\s*(?:noinput|nooutput|no input|no output)\s*>|\bTODO: ?fill\b"
)
_FENCE = r"(?m)^\s*```"


class Config(BaseModel):
    """Which quality heuristics run, their limits, and which personal data drops a row."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["quality"] = "quality"
    response_equals_prompt: bool = True
    refusal: bool = True
    ai_disclaimer: bool = True
    placeholder: bool = True
    code_fences: bool = True
    min_alpha_fraction: float | None = Field(
        default=0.25, ge=0, le=1, description="least share of letters among non-space chars"
    )
    min_alpha_chars: int = Field(
        default=40, ge=1, description="responses with fewer non-space chars skip the letter check"
    )
    max_repetition: float | None = Field(
        default=0.35, gt=0, le=1, description="most share of repeated word n-grams in a response"
    )
    repetition_ngram: int = Field(default=3, ge=1, le=10)
    min_repetition_words: int = Field(
        default=30, ge=2, description="responses with fewer words skip the repetition check"
    )
    email: Literal["keep", "drop"] = "keep"
    phone: Literal["keep", "drop"] = "keep"
    url: Literal["keep", "drop"] = "keep"

    @field_validator("email", "phone", "url", mode="before")
    @classmethod
    def _masking_moved(cls, value: object) -> object:
        if value == "mask":
            raise ValueError(
                "masking is the pii_mask transform's job: set keep or drop here and add "
                "`- kind: pii_mask` to the filters (with email/phone/url: mask)"
            )
        return value


def repetition(text: str, ngram: int) -> float:
    """Share of the word n-grams of `text` that repeat an earlier one (0 when there are none).

    >>> repetition("a b c a b c a b c", 3)
    0.5714285714285714
    """
    return repeated_share(text.lower().split(), ngram)


def repeated_share(words: list[str], ngram: int) -> float:
    """`repetition` of a text already lower-cased and split into `words`."""
    total = len(words) - ngram + 1
    if total <= 0:
        return 0.0
    grams = zip(*(words[i:] for i in range(ngram)), strict=False)  # the shortest ends it
    return 1.0 - len(set(grams)) / total


def _checks(config: Config) -> list[tuple[str, pl.Expr]]:
    """The vectorised checks that are on, in order, as (reason, boolean expression)."""
    prompt, response = pl.col("prompt"), pl.col("response")
    checks: list[tuple[str, pl.Expr]] = []
    if config.response_equals_prompt:
        checks.append((RESPONSE_EQUALS_PROMPT, pl.col("norm_prompt") == pl.col("norm_response")))
    if config.refusal:
        checks.append((REFUSAL, response.str.contains(REFUSAL_PATTERN)))
    if config.ai_disclaimer:
        checks.append((AI_DISCLAIMER, response.str.contains(AI_DISCLAIMER_PATTERN)))
    if config.placeholder:
        checks.append(
            (
                PLACEHOLDER_TEXT,
                prompt.str.contains(PLACEHOLDER_PATTERN)
                | response.str.contains(PLACEHOLDER_PATTERN),
            )
        )
    if config.code_fences:
        odd = (prompt.str.count_matches(_FENCE) % 2 == 1) | (
            response.str.count_matches(_FENCE) % 2 == 1
        )
        checks.append((UNBALANCED_CODE_FENCE, odd))
    if config.min_alpha_fraction is not None:
        # characters counted as what is left when runs of the others are removed (the same
        # counts as count_matches of one character, without a match per character)
        visible = response.str.replace_all(r"\s+", "").str.len_chars()
        letters = response.str.replace_all(r"[\W\d_]+", "").str.len_chars()
        low = (visible >= config.min_alpha_chars) & (letters < config.min_alpha_fraction * visible)
        checks.append((MOSTLY_NON_ALPHABETIC, low))
    if config.max_repetition is not None:
        checks.append((REPETITIVE, pl.col("repetition") > config.max_repetition))
    for kind in pii.PII_KINDS:
        if getattr(config, kind) == "drop":
            pattern = pii.PATTERNS[kind]
            found = prompt.str.contains(pattern) | response.str.contains(pattern)
            checks.append((PII_REASONS[kind], found))
    return checks


def reasons_for(prompts: list[str], responses: list[str], config: Config) -> list[str | None]:
    """The reject reason of each prompt/response pair (None keeps it), first check first."""
    frame = pl.DataFrame(
        {"prompt": prompts, "response": responses},
        schema=[("prompt", pl.String), ("response", pl.String)],
    )
    normal = [
        pl.col(c)
        .str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .alias(f"norm_{c}")
        for c in ("prompt", "response")
    ]
    frame = frame.with_columns(normal)
    if config.max_repetition is not None:
        frame = frame.with_columns(
            pl.Series(
                "repetition",
                [
                    repeated_share(words, config.repetition_ngram)
                    if len(words) >= config.min_repetition_words
                    else 0.0
                    for words in (r.lower().split() for r in responses)
                ],
                dtype=pl.Float64,
            )
        )
    checks = _checks(config)
    if not checks:
        return [None] * len(prompts)
    reason = pl.lit(None, dtype=pl.String)
    for name, condition in reversed(checks):
        reason = pl.when(condition).then(pl.lit(name)).otherwise(reason)
    return frame.select(reason.alias("reason")).get_column("reason").to_list()


def verdicts(table: pa.Table, config: Config, ctx: StageContext | None = None) -> Verdicts:
    """Judge rows that fail a quality heuristic (personal data of a kind set to `drop` too).

    Columns read: messages. Verdicts: one reason from the module table, or None. Masking
    personal data is not a filter's job: see the `pii_mask` transform (filters/pii.py).
    """
    prompts, responses = prompts_and_responses(table)
    return Verdicts(reasons_for(prompts, responses, config))
